//! Payment requests, their instructions and executions. A request changes only by compare-and-set
//! on its version (two confirmations racing: one wins, the other sees the change); an execution is
//! claimed by inserting its row before the payment hub is called, so one node executes it.

use super::{Store, StoreError, ms, parse_column, timestamp};
use crate::ledger::PsuId;
use crate::pis::model::{
    Execution, ExecutionRule, Frequency, Instruction, InstructionStatus, PaymentRequest, PaymentStatus, Schedule,
    StatusReason,
};
use crate::secret::SecretHash;
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::Row;
use sqlx::any::AnyRow;
use stet::{Amount, ApiVersion, BankCode, Currency, Iban, OrgId, ResourceId};

macro_rules! request_columns {
    () => {
        "bank_code, resource_id, client_id, payment_information_id, api_version, body_hash, request, status, reason,
         nonce, instant, batch_booking, psu_id, debtor_resource_id, debtor_iban, success_url, failure_url, factor_hash,
         factor_expires_at, created_at, approval_expires_at, approved_at, confirmed_at, updated_at, version"
    };
}

macro_rules! instruction_columns {
    () => {
        "bank_code, resource_id, position, instruction_id, end_to_end_id, amount_minor, currency, creditor_name,
         creditor_iban, remittance, execution_date, frequency, execution_rule, end_date, status, reason"
    };
}

/// What inserting a payment request found.
#[derive(Debug, Clone)]
pub enum Posted {
    Created,
    /// The PISP already posted a request with this `paymentInformationId`: that one.
    Existing(Box<PaymentRequest>),
}

impl Store {
    /// Stores a new request with its instructions, unless the PISP already has one with the same
    /// `paymentInformationId` at this bank.
    pub async fn insert_payment_request(&self, p: &PaymentRequest) -> Result<Posted, StoreError> {
        let mut tx = self.begin_write().await?;
        let query = sqlx::query(concat!(
            "INSERT INTO payment_requests (",
            request_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                       $21, $22, $23, $24, $25)
             ON CONFLICT (bank_code, client_id, payment_information_id) DO NOTHING"
        ));
        let inserted = bind_request(query, p).execute(&mut *tx).await?.rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            let existing = self.payment_request_by_pisp_id(p.bank, &p.client_id, &p.payment_information_id).await?;
            return existing
                .map(|e| Posted::Existing(Box::new(e)))
                .ok_or_else(|| StoreError::Corrupt("a payment request conflicted and vanished".into()));
        }
        for i in &p.instructions {
            let query = sqlx::query(concat!(
                "INSERT INTO payment_instructions (",
                instruction_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
            ));
            bind_instruction(query, p, i)?.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Posted::Created)
    }

    /// A request with its instructions.
    pub async fn payment_request(&self, bank: BankCode, id: &ResourceId) -> Result<Option<PaymentRequest>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            request_columns!(),
            " FROM payment_requests WHERE bank_code = $1 AND resource_id = $2"
        ))
        .bind(bank.as_str())
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) => Ok(Some(self.with_instructions(request_row(&row)?).await?)),
            None => Ok(None),
        }
    }

    async fn payment_request_by_pisp_id(
        &self,
        bank: BankCode,
        client: &OrgId,
        payment_information_id: &str,
    ) -> Result<Option<PaymentRequest>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            request_columns!(),
            " FROM payment_requests WHERE bank_code = $1 AND client_id = $2 AND payment_information_id = $3"
        ))
        .bind(bank.as_str())
        .bind(client.as_str())
        .bind(payment_information_id)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) => Ok(Some(self.with_instructions(request_row(&row)?).await?)),
            None => Ok(None),
        }
    }

    async fn with_instructions(&self, mut p: PaymentRequest) -> Result<PaymentRequest, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            instruction_columns!(),
            " FROM payment_instructions WHERE bank_code = $1 AND resource_id = $2 ORDER BY position"
        ))
        .bind(p.bank.as_str())
        .bind(p.id.as_str())
        .fetch_all(self.pool())
        .await?;
        p.instructions = rows.iter().map(instruction_row).collect::<Result<_, _>>()?;
        Ok(p)
    }

    /// Writes `to` over `from` (as read, at its version): the request's state and every
    /// instruction's status; false if the request changed meanwhile.
    pub async fn update_payment_request(&self, from: &PaymentRequest, to: &PaymentRequest) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE payment_requests SET status = $3, reason = $4, psu_id = $5, debtor_resource_id = $6,
                    factor_hash = $7, factor_expires_at = $8, approved_at = $9, confirmed_at = $10, updated_at = $11,
                    debtor_iban = $13, version = version + 1
             WHERE bank_code = $1 AND resource_id = $2 AND version = $12",
        )
        .bind(to.bank.as_str())
        .bind(to.id.as_str())
        .bind(to.status.as_str())
        .bind(to.reason.map(StatusReason::as_str))
        .bind(to.psu.as_ref().map(|p| p.as_str().to_owned()))
        .bind(to.debtor.as_ref().map(|d| d.as_str().to_owned()))
        .bind(to.factor_hash.as_ref().map(|h| h.as_str().to_owned()))
        .bind(to.factor_expires_at.map(ms))
        .bind(to.approved_at.map(ms))
        .bind(to.confirmed_at.map(ms))
        .bind(ms(to.updated_at))
        .bind(from.version)
        .bind(to.debtor_iban.as_ref().map(|i| i.as_str().to_owned()))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        for i in &to.instructions {
            sqlx::query(
                "UPDATE payment_instructions SET status = $4, reason = $5
                 WHERE bank_code = $1 AND resource_id = $2 AND position = $3",
            )
            .bind(to.bank.as_str())
            .bind(to.id.as_str())
            .bind(i.position)
            .bind(i.status.as_str())
            .bind(i.reason.map(StatusReason::as_str))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Requests still waiting for their PSU after `now`'s deadline.
    pub async fn unanswered_payment_requests(&self, now: Timestamp) -> Result<Vec<(BankCode, ResourceId)>, StoreError> {
        let rows = sqlx::query(
            "SELECT bank_code, resource_id FROM payment_requests WHERE status = 'RCVD' AND approval_expires_at < $1",
        )
        .bind(ms(now))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(key_row).collect()
    }

    /// Accepted requests with an instruction due on or before `today` (standing orders: every
    /// active one whose first day has come).
    pub async fn due_payment_requests(&self, today: Date) -> Result<Vec<(BankCode, ResourceId)>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT r.bank_code, r.resource_id FROM payment_requests r
             JOIN payment_instructions i ON i.bank_code = r.bank_code AND i.resource_id = r.resource_id
             WHERE r.status = 'ACSP' AND i.status = 'ACSP' AND i.execution_date <= $1",
        )
        .bind(today.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(key_row).collect()
    }

    /// The executions of a request, by day.
    pub async fn payment_executions(&self, bank: BankCode, id: &ResourceId) -> Result<Vec<Execution>, StoreError> {
        let rows = sqlx::query(
            "SELECT position, due_date, status, transaction_id, reason, done_at FROM payment_executions
             WHERE bank_code = $1 AND resource_id = $2 ORDER BY due_date, position",
        )
        .bind(bank.as_str())
        .bind(id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Execution {
                    position: row.try_get("position")?,
                    due_date: parse_column(row.try_get("due_date")?, "due_date", |t| t.parse().ok())?,
                    booked: row.try_get::<String, _>("status")? == "booked",
                    transaction_id: row.try_get("transaction_id")?,
                    reason: row
                        .try_get::<Option<String>, _>("reason")?
                        .map(|r| parse_column(r, "reason", StatusReason::parse))
                        .transpose()?,
                    done_at: row.try_get::<Option<i64>, _>("done_at")?.map(timestamp).transpose()?,
                })
            })
            .collect()
    }

    /// Claims the execution of `position` (-1: the whole batch) on `due`: true for the one caller
    /// that inserted the claim.
    pub async fn claim_execution(
        &self,
        bank: BankCode,
        id: &ResourceId,
        position: i64,
        due: Date,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let claimed = sqlx::query(
            "INSERT INTO payment_executions (bank_code, resource_id, position, due_date, status, claimed_at)
             VALUES ($1, $2, $3, $4, 'claimed', $5) ON CONFLICT DO NOTHING",
        )
        .bind(bank.as_str())
        .bind(id.as_str())
        .bind(position)
        .bind(due.to_string())
        .bind(ms(now))
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    /// Claims left unfinished before `before` (pending at the hub, or a node stopped between
    /// claim and outcome), to ask the hub about again by the same key: each is taken (its claim
    /// renewed to `now`) by one caller only, so nodes polling together ask once.
    pub async fn take_stale_claims(
        &self,
        bank: BankCode,
        id: &ResourceId,
        before: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<(i64, Date)>, StoreError> {
        let rows = sqlx::query(
            "SELECT position, due_date, claimed_at FROM payment_executions
             WHERE bank_code = $1 AND resource_id = $2 AND status = 'claimed' AND claimed_at < $3",
        )
        .bind(bank.as_str())
        .bind(id.as_str())
        .bind(ms(before))
        .fetch_all(self.pool())
        .await?;
        let mut taken = Vec::new();
        for row in &rows {
            let position: i64 = row.try_get("position")?;
            let due: String = row.try_get("due_date")?;
            let claimed_at: i64 = row.try_get("claimed_at")?;
            let renewed = sqlx::query(
                "UPDATE payment_executions SET claimed_at = $6
                 WHERE bank_code = $1 AND resource_id = $2 AND position = $3 AND due_date = $4
                   AND status = 'claimed' AND claimed_at = $5",
            )
            .bind(bank.as_str())
            .bind(id.as_str())
            .bind(position)
            .bind(&due)
            .bind(claimed_at)
            .bind(ms(now))
            .execute(self.pool())
            .await?
            .rows_affected();
            if renewed == 1 {
                taken.push((position, parse_column(due, "due_date", |t| t.parse().ok())?));
            }
        }
        Ok(taken)
    }

    /// Records what the hub did with a claimed execution: true when it was still open (the first
    /// outcome wins: a late callback or a second poll changes nothing).
    pub async fn finish_execution(
        &self,
        bank: BankCode,
        id: &ResourceId,
        execution: &Execution,
    ) -> Result<bool, StoreError> {
        let finished = sqlx::query(
            "UPDATE payment_executions SET status = $5, transaction_id = $6, reason = $7, done_at = $8
             WHERE bank_code = $1 AND resource_id = $2 AND position = $3 AND due_date = $4 AND status = 'claimed'",
        )
        .bind(bank.as_str())
        .bind(id.as_str())
        .bind(execution.position)
        .bind(execution.due_date.to_string())
        .bind(if execution.booked { "booked" } else { "rejected" })
        .bind(execution.transaction_id.clone())
        .bind(execution.reason.map(StatusReason::as_str))
        .bind(execution.done_at.map(ms))
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(finished == 1)
    }
}

fn bind_request<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    p: &'q PaymentRequest,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(p.bank.as_str())
        .bind(p.id.as_str())
        .bind(p.client_id.as_str())
        .bind(p.payment_information_id.as_str())
        .bind(p.api_version.segment())
        .bind(p.body_hash.as_str())
        .bind(p.request.as_str())
        .bind(p.status.as_str())
        .bind(p.reason.map(StatusReason::as_str))
        .bind(p.nonce.as_str())
        .bind(i64::from(p.instant))
        .bind(i64::from(p.batch_booking))
        .bind(p.psu.as_ref().map(|x| x.as_str().to_owned()))
        .bind(p.debtor.as_ref().map(|x| x.as_str().to_owned()))
        .bind(p.debtor_iban.as_ref().map(|x| x.as_str().to_owned()))
        .bind(p.success_url.as_str())
        .bind(p.failure_url.clone())
        .bind(p.factor_hash.as_ref().map(|h| h.as_str().to_owned()))
        .bind(p.factor_expires_at.map(ms))
        .bind(ms(p.created_at))
        .bind(ms(p.approval_expires_at))
        .bind(p.approved_at.map(ms))
        .bind(p.confirmed_at.map(ms))
        .bind(ms(p.updated_at))
        .bind(p.version)
}

fn bind_instruction<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    p: &'q PaymentRequest,
    i: &'q Instruction,
) -> Result<sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>, StoreError> {
    let minor = i.amount.to_minor().map_err(|e| StoreError::Corrupt(format!("instruction amount: {e}")))?;
    let schedule = i.schedule.as_ref();
    Ok(query
        .bind(p.bank.as_str())
        .bind(p.id.as_str())
        .bind(i.position)
        .bind(i.instruction_id.as_str())
        .bind(i.end_to_end_id.clone())
        .bind(minor)
        .bind(i.amount.currency.as_str())
        .bind(i.creditor_name.as_str())
        .bind(i.creditor_iban.as_ref().map(|x| x.as_str().to_owned()))
        .bind(i.remittance.join("\n"))
        .bind(i.execution_date.to_string())
        .bind(schedule.map(|s| s.frequency.as_str()))
        .bind(schedule.map(|s| s.rule.as_str()))
        .bind(schedule.and_then(|s| s.end).map(|d| d.to_string()))
        .bind(i.status.as_str())
        .bind(i.reason.map(StatusReason::as_str)))
}

fn key_row(row: &AnyRow) -> Result<(BankCode, ResourceId), StoreError> {
    Ok((
        parse_column(row.try_get("bank_code")?, "bank_code", |t| BankCode::parse(t).ok())?,
        parse_column(row.try_get("resource_id")?, "resource_id", |t| ResourceId::parse(t).ok())?,
    ))
}

fn optional<T>(row: &AnyRow, column: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<Option<T>, StoreError> {
    row.try_get::<Option<String>, _>(column)?.map(|v| parse_column(v, column, parse)).transpose()
}

fn request_row(row: &AnyRow) -> Result<PaymentRequest, StoreError> {
    let (bank, id) = key_row(row)?;
    Ok(PaymentRequest {
        id,
        bank,
        client_id: parse_column(row.try_get("client_id")?, "client_id", |t| OrgId::parse(t).ok())?,
        payment_information_id: row.try_get("payment_information_id")?,
        api_version: parse_column(row.try_get("api_version")?, "api_version", ApiVersion::from_segment)?,
        body_hash: row.try_get("body_hash")?,
        request: row.try_get("request")?,
        status: parse_column(row.try_get("status")?, "status", PaymentStatus::parse)?,
        reason: optional(row, "reason", StatusReason::parse)?,
        nonce: row.try_get("nonce")?,
        instant: row.try_get::<i64, _>("instant")? == 1,
        batch_booking: row.try_get::<i64, _>("batch_booking")? == 1,
        psu: optional(row, "psu_id", PsuId::parse)?,
        debtor: optional(row, "debtor_resource_id", |t| ResourceId::parse(t).ok())?,
        debtor_iban: optional(row, "debtor_iban", |t| Iban::parse(t).ok())?,
        success_url: row.try_get("success_url")?,
        failure_url: row.try_get("failure_url")?,
        factor_hash: row.try_get::<Option<String>, _>("factor_hash")?.map(SecretHash::from_stored),
        factor_expires_at: row.try_get::<Option<i64>, _>("factor_expires_at")?.map(timestamp).transpose()?,
        created_at: timestamp(row.try_get("created_at")?)?,
        approval_expires_at: timestamp(row.try_get("approval_expires_at")?)?,
        approved_at: row.try_get::<Option<i64>, _>("approved_at")?.map(timestamp).transpose()?,
        confirmed_at: row.try_get::<Option<i64>, _>("confirmed_at")?.map(timestamp).transpose()?,
        updated_at: timestamp(row.try_get("updated_at")?)?,
        version: row.try_get("version")?,
        instructions: Vec::new(),
    })
}

fn instruction_row(row: &AnyRow) -> Result<Instruction, StoreError> {
    let currency = parse_column(row.try_get("currency")?, "currency", |t| Currency::parse(t).ok())?;
    let frequency = optional(row, "frequency", Frequency::parse)?;
    let rule = optional(row, "execution_rule", ExecutionRule::parse)?;
    let end: Option<Date> = optional(row, "end_date", |t| t.parse().ok())?;
    let schedule = match (frequency, rule) {
        (Some(frequency), Some(rule)) => Some(Schedule { frequency, rule, end }),
        _ => None,
    };
    let remittance: String = row.try_get("remittance")?;
    Ok(Instruction {
        position: row.try_get("position")?,
        instruction_id: row.try_get("instruction_id")?,
        end_to_end_id: row.try_get("end_to_end_id")?,
        amount: Amount::from_minor(row.try_get("amount_minor")?, currency),
        creditor_name: row.try_get("creditor_name")?,
        creditor_iban: optional(row, "creditor_iban", |t| Iban::parse(t).ok())?,
        remittance: if remittance.is_empty() { Vec::new() } else { remittance.lines().map(str::to_owned).collect() },
        execution_date: parse_column(row.try_get("execution_date")?, "execution_date", |t| t.parse().ok())?,
        schedule,
        status: parse_column(row.try_get("status")?, "status", InstructionStatus::parse)?,
        reason: optional(row, "reason", StatusReason::parse)?,
    })
}
