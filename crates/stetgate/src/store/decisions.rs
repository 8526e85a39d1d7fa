//! A resource request's authorization in one round trip (docs/performance.md): one query reads
//! the token pair presented and the revisions of the TPP's registration and of the AIS consent
//! the pair stands for; the registration and the consent themselves come from this node's memory
//! when it holds them at that revision, and from the store otherwise.
//!
//! Every write of a registration (`tpps`) or an AIS consent (`ais_consents`) gives its row a new
//! revision, in the same statement. So a suspension, a deactivation, a new QSealC or a consent
//! change made by any node or by a `stetgate` command is seen by every node at its next request:
//! remembering never delays a decision. The token pair itself, whose revocation must also be seen
//! at once, is read every time.

use super::{Param, Store, StoreError, col};
use crate::ais::model::AisConsent;
use crate::ledger::PsuId;
use crate::oauth::model::{AuthorizationRead, RowRevision};
use crate::registry::model::Registration;
use crate::secret::SecretHash;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::Mutex;
use stet::{BankCode, OrgId};

/// The token pair presented, with the revisions of the TPP's registration and of the pair's AIS
/// consent; no row when the TPP is not registered.
const AUTHORIZATION_READ: &str = "SELECT t.revision AS tpp_revision, c.revision AS consent_revision,
        p.pair_id, p.bank_code, p.client_id, p.psu_id, p.scope, p.access_expires_at, p.refresh_expires_at,
        p.sca_at, p.revoked_at, p.payment_request_id, p.last_used_at
 FROM tpps t
 LEFT JOIN token_pairs p ON p.access_hash = $2
 LEFT JOIN ais_consents c ON c.bank_code = p.bank_code AND c.psu_id = p.psu_id AND c.client_id = p.client_id
 WHERE t.org_id = $1";

/// How many registrations, and how many consents, a node remembers at most; past that it forgets
/// them all and reads again (a bound on memory, whatever the number of TPPs and PSUs).
const MAX_REMEMBERED: usize = 10_000;

/// A new revision for a row being written.
pub(super) fn new_revision() -> String {
    uuid::Uuid::now_v7().to_string()
}

type ConsentKey = (BankCode, PsuId, OrgId);

/// The registrations and AIS consents this node has read, each with the revision it had then.
#[derive(Debug, Default)]
pub(super) struct Remembered {
    registrations: Mutex<HashMap<OrgId, (String, Registration)>>,
    consents: Mutex<HashMap<ConsentKey, (String, AisConsent)>>,
    /// When this node last noted each token pair's use (`Store::note_pair_use`).
    noted_uses: Mutex<HashMap<String, Timestamp>>,
}

impl Remembered {
    /// Whether this node should note the use of `pair_id` at `now`: not when it did less than
    /// `every` ago. Claimed before the write, so concurrent calls make one write between them.
    pub(super) fn claim_use_note(&self, pair_id: &str, now: Timestamp, every: SignedDuration) -> bool {
        let mut noted = self.noted_uses.lock().unwrap_or_else(|p| p.into_inner());
        if noted.get(pair_id).is_some_and(|last| now.duration_since(*last) < every) {
            return false;
        }
        if noted.len() >= MAX_REMEMBERED && !noted.contains_key(pair_id) {
            noted.clear();
        }
        noted.insert(pair_id.to_owned(), now);
        true
    }
}

fn recall<K: std::hash::Hash + Eq, V: Clone>(
    map: &Mutex<HashMap<K, (String, V)>>,
    key: &K,
    revision: &str,
) -> Option<V> {
    let map = map.lock().unwrap_or_else(|p| p.into_inner());
    map.get(key).filter(|(at, _)| at == revision).map(|(_, value)| value.clone())
}

fn remember<K: std::hash::Hash + Eq, V>(map: &Mutex<HashMap<K, (String, V)>>, key: K, revision: String, value: V) {
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= MAX_REMEMBERED && !map.contains_key(&key) {
        map.clear();
    }
    map.insert(key, (revision, value));
}

impl Store {
    /// The one query of a resource request's authorization: the pair of `access_hash`, the
    /// revision of the registration of `org` (the TPP of the QWAC presented) and the revision of
    /// the AIS consent of the pair's PSU and TPP.
    pub async fn authorization_read(
        &self,
        org: &OrgId,
        access_hash: &SecretHash,
    ) -> Result<AuthorizationRead, StoreError> {
        let read = self
            .read_rows(AUTHORIZATION_READ, &[Param::Text(org.as_str()), Param::Text(access_hash.as_str())], |row| {
                let revision = |column: &str| -> Result<RowRevision, StoreError> {
                    Ok(col::<Option<String>>(row, column)?.map_or(RowRevision::Absent, RowRevision::At))
                };
                let pair = match col::<Option<String>>(row, "pair_id")? {
                    Some(_) => Some(super::oauth::pair_row(row)?),
                    None => None,
                };
                Ok(AuthorizationRead {
                    pair,
                    registration: revision("tpp_revision")?,
                    ais_consent: revision("consent_revision")?,
                })
            })
            .await?
            .pop();
        // Not registered: the pair, if any, is of no use to this TPP (its registration check
        // refuses the request first).
        Ok(read.unwrap_or(AuthorizationRead {
            pair: None,
            registration: RowRevision::Absent,
            ais_consent: RowRevision::Unread,
        }))
    }

    /// The registration of `org` at `revision`: from this node's memory when it holds that
    /// revision, from the store otherwise (and then remembered).
    pub async fn registration_at(
        &self,
        org: &OrgId,
        revision: &RowRevision,
    ) -> Result<Option<Registration>, StoreError> {
        match revision {
            RowRevision::Absent => return Ok(None),
            RowRevision::At(at) => {
                if let Some(known) = recall(&self.remembered.registrations, org, at) {
                    return Ok(Some(known));
                }
            }
            RowRevision::Unread => {}
        }
        let Some((at, registration)) = self.registration_with_revision(org).await? else { return Ok(None) };
        remember(&self.remembered.registrations, org.clone(), at, registration.clone());
        Ok(Some(registration))
    }

    /// The registration of `org` as it is now: the revision of its row is read, the rest comes
    /// from this node's memory when it holds that revision (the token endpoint's check).
    pub async fn current_registration(&self, org: &OrgId) -> Result<Option<Registration>, StoreError> {
        let revision = self
            .read_rows("SELECT revision FROM tpps WHERE org_id = $1", &[Param::Text(org.as_str())], |row| {
                col::<String>(row, "revision")
            })
            .await?
            .pop();
        self.registration_at(org, &revision.map_or(RowRevision::Absent, RowRevision::At)).await
    }

    /// The AIS consent of `psu` for `client` at `revision`, the same way.
    pub async fn ais_consent_at(
        &self,
        bank: BankCode,
        psu: &PsuId,
        client: &OrgId,
        revision: &RowRevision,
    ) -> Result<Option<AisConsent>, StoreError> {
        let key = (bank, psu.clone(), client.clone());
        match revision {
            RowRevision::Absent => return Ok(None),
            RowRevision::At(at) => {
                if let Some(known) = recall(&self.remembered.consents, &key, at) {
                    return Ok(Some(known));
                }
            }
            RowRevision::Unread => {}
        }
        let Some((at, consent)) = self.ais_consent_with_revision(bank, psu, client).await? else { return Ok(None) };
        remember(&self.remembered.consents, key, at, consent.clone());
        Ok(Some(consent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_use_is_noted_once_per_interval_on_a_node() {
        let remembered = Remembered::default();
        let every = SignedDuration::from_mins(1);
        let t0 = Timestamp::from_second(1_800_000_000).unwrap();
        // The calls that arrive together all read the same old note: only the first writes.
        let claims = (0..100).filter(|_| remembered.claim_use_note("pair-a", t0, every)).count();
        assert_eq!(claims, 1);
        assert!(remembered.claim_use_note("pair-b", t0, every), "another pair is noted on its own");
        let later = t0 + SignedDuration::from_secs(59);
        assert!(!remembered.claim_use_note("pair-a", later, every));
        let next = t0 + every;
        assert!(remembered.claim_use_note("pair-a", next, every), "a minute later it is noted again");
    }
}
