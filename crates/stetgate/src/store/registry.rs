//! Registered TPPs.

use super::decisions::new_revision;
use super::{Param, ReadRow, Store, StoreError, col, ms, parse_column, timestamp};
use crate::registry::model::Registration;
use jiff::Timestamp;
use sqlx::Row;
use stet::OrgId;

/// What inserting a registration found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Created,
    AlreadyRegistered,
}

impl Store {
    /// Inserts a new registration; an existing one (active or not) is left as it is.
    pub async fn insert_registration(&self, r: &Registration, now: Timestamp) -> Result<Inserted, StoreError> {
        let mut tx = self.begin_write().await?;
        let insert = sqlx::query(
            "INSERT INTO tpps (org_id, client_name, qsealc_pem, qsealc_sha256, qsealc_serial, qsealc_issuer, contacts,
                               qwac_organization, active, created_at, updated_at, revision)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9, $10) ON CONFLICT (org_id) DO NOTHING",
        );
        let insert = bind_metadata(insert, r).bind(ms(now)).bind(new_revision());
        let inserted = insert.execute(&mut *tx).await?.rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(Inserted::AlreadyRegistered);
        }
        write_redirect_uris(&mut tx, r).await?;
        tx.commit().await?;
        Ok(Inserted::Created)
    }

    /// Replaces a registration's metadata and QSealC, and reactivates it if the TPP had deactivated
    /// it (a suspension by the bank stays); false if there is none.
    pub async fn replace_registration(&self, r: &Registration, now: Timestamp) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let update = sqlx::query(
            "UPDATE tpps SET client_name = $2, qsealc_pem = $3, qsealc_sha256 = $4, qsealc_serial = $5,
                             qsealc_issuer = $6, contacts = $7, qwac_organization = $8, active = 1, updated_at = $9,
                             revision = $10
             WHERE org_id = $1",
        );
        let update = bind_metadata(update, r).bind(ms(now)).bind(new_revision());
        let updated = update.execute(&mut *tx).await?.rows_affected();
        if updated == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM tpp_redirect_uris WHERE org_id = $1")
            .bind(r.org_id.as_str())
            .execute(&mut *tx)
            .await?;
        write_redirect_uris(&mut tx, r).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deactivates a registration (kept for the record); false if there is none.
    pub async fn deactivate_registration(&self, org: &OrgId, now: Timestamp) -> Result<bool, StoreError> {
        let updated = sqlx::query("UPDATE tpps SET active = 0, updated_at = $2, revision = $3 WHERE org_id = $1")
            .bind(org.as_str())
            .bind(ms(now))
            .bind(new_revision())
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(updated > 0)
    }

    /// Suspends a TPP (the bank's decision, which the registration API cannot lift); false if it
    /// is not registered.
    pub async fn suspend_registration(&self, org: &OrgId, reason: &str, now: Timestamp) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE tpps SET suspended_at = COALESCE(suspended_at, $2), suspension_reason = $3, revision = $4
             WHERE org_id = $1",
        )
        .bind(org.as_str())
        .bind(ms(now))
        .bind(reason)
        .bind(new_revision())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(updated > 0)
    }

    /// Lifts the bank's suspension; false if the TPP is not registered.
    pub async fn lift_suspension(&self, org: &OrgId) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE tpps SET suspended_at = NULL, suspension_reason = NULL, revision = $2 WHERE org_id = $1",
        )
        .bind(org.as_str())
        .bind(new_revision())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(updated > 0)
    }

    pub async fn registration(&self, org: &OrgId) -> Result<Option<Registration>, StoreError> {
        Ok(self.registration_with_revision(org).await?.map(|(_, registration)| registration))
    }

    /// A registration and the revision of its row. The row is read before its redirect URIs: a
    /// change committed between the two reads pairs the newer URIs with the older revision, which
    /// the next request's revision no longer matches (the other order would pair the older URIs
    /// with the newer revision, and a node would keep them until the next change).
    pub(super) async fn registration_with_revision(
        &self,
        org: &OrgId,
    ) -> Result<Option<(String, Registration)>, StoreError> {
        let org_param = [Param::Text(org.as_str())];
        let found = self
            .read_rows(
                "SELECT org_id, client_name, active, qsealc_pem, qsealc_sha256, qsealc_serial, qsealc_issuer, contacts,
                        created_at, suspended_at, suspension_reason, qwac_organization, revision
                 FROM tpps WHERE org_id = $1",
                &org_param,
                |row| Ok((col::<String>(row, "revision")?, registration_row(row)?)),
            )
            .await?
            .pop();
        let Some((revision, mut registration)) = found else { return Ok(None) };
        registration.redirect_uris = self
            .read_rows("SELECT uri FROM tpp_redirect_uris WHERE org_id = $1 ORDER BY position", &org_param, |r| {
                col::<String>(r, "uri")
            })
            .await?;
        Ok(Some((revision, registration)))
    }

    /// Every registration, by organization.
    pub async fn registrations(&self) -> Result<Vec<Registration>, StoreError> {
        let rows = sqlx::query("SELECT org_id FROM tpps ORDER BY org_id").fetch_all(self.pool()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let org = parse_column(row.try_get("org_id")?, "tpps.org_id", |t| OrgId::parse(t).ok())?;
            if let Some(r) = self.registration(&org).await? {
                out.push(r);
            }
        }
        Ok(out)
    }
}

/// Binds $1 to $8: org id, name, QSealC (PEM, fingerprint, serial, issuer), contacts, the QWAC's
/// organisation name.
fn bind_metadata<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    r: &'q Registration,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(r.org_id.as_str())
        .bind(&r.client_name)
        .bind(&r.qsealc_pem)
        .bind(&r.qsealc_sha256)
        .bind(&r.qsealc_serial)
        .bind(&r.qsealc_issuer)
        .bind(r.contacts.join("\n"))
        .bind(r.qwac_organization.clone())
}

async fn write_redirect_uris(tx: &mut super::WriteTx, r: &Registration) -> Result<(), StoreError> {
    for (position, uri) in r.redirect_uris.iter().enumerate() {
        sqlx::query("INSERT INTO tpp_redirect_uris (org_id, position, uri) VALUES ($1, $2, $3)")
            .bind(r.org_id.as_str())
            .bind(position as i64)
            .bind(uri)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A registration from its `tpps` row, without its redirect URIs (read apart, after the row).
fn registration_row(row: &dyn ReadRow) -> Result<Registration, StoreError> {
    let contacts: String = col(row, "contacts")?;
    let qsealc_pem: String = col(row, "qsealc_pem")?;
    Ok(Registration {
        org_id: parse_column(col(row, "org_id")?, "tpps.org_id", |t| OrgId::parse(t).ok())?,
        client_name: col(row, "client_name")?,
        redirect_uris: Vec::new(),
        contacts: contacts.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect(),
        qsealc_der: {
            use rustls_pki_types::pem::PemObject;
            rustls_pki_types::CertificateDer::from_pem_slice(qsealc_pem.as_bytes()).ok()
        },
        qsealc_pem,
        qsealc_sha256: col(row, "qsealc_sha256")?,
        qsealc_serial: col(row, "qsealc_serial")?,
        qsealc_issuer: col(row, "qsealc_issuer")?,
        active: col::<i64>(row, "active")? == 1,
        suspended_at: col::<Option<i64>>(row, "suspended_at")?.map(timestamp).transpose()?,
        suspension_reason: col(row, "suspension_reason")?,
        qwac_organization: col(row, "qwac_organization")?,
        created_at: timestamp(col(row, "created_at")?)?,
    })
}
