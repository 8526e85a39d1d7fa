//! The sandbox's memory of the last requests each TPP made, for the portal's "last requests of my
//! TPP": method, path, status, the check that refused it and why, and the time it took. Kept in
//! this node's memory only (the sandbox is one node), bounded, and only in the sandbox: production
//! never keeps it.

use jiff::Timestamp;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use stet::OrgId;

/// Requests remembered in all, across TPPs (the oldest is forgotten first).
pub const REMEMBERED: usize = 2000;

/// One answered request of an identified TPP.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentRequest {
    pub at: Timestamp,
    pub org_id: OrgId,
    pub method: &'static str,
    /// The path without its query (queries may carry codes).
    pub path: String,
    pub status: u16,
    /// For a refusal: the STET (or OAuth) code and the explanation the TPP received.
    pub refusal: Option<(String, String)>,
    pub took: Duration,
}

/// The longest path or explanation kept (a longer one is cut).
const MAX_TEXT: usize = 512;

fn cut(text: &str) -> String {
    text.chars().take(MAX_TEXT).collect()
}

impl RecentRequest {
    pub fn new(
        at: Timestamp,
        org_id: OrgId,
        method: &'static str,
        path: &str,
        status: u16,
        refusal: Option<(String, String)>,
        took: Duration,
    ) -> RecentRequest {
        let refusal = refusal.map(|(code, why)| (cut(&code), cut(&why)));
        RecentRequest { at, org_id, method, path: cut(path), status, refusal, took }
    }
}

/// The last [`REMEMBERED`] requests.
#[derive(Debug, Default)]
pub struct RecentRequests {
    requests: Mutex<VecDeque<RecentRequest>>,
}

impl RecentRequests {
    pub fn remember(&self, request: RecentRequest) {
        // A poisoned lock only means another request panicked while holding it: the queue is
        // still a queue.
        let mut requests = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if requests.len() == REMEMBERED {
            requests.pop_front();
        }
        requests.push_back(request);
    }

    /// The TPP's last `count` requests, newest first.
    pub fn of(&self, org_id: &OrgId, count: usize) -> Vec<RecentRequest> {
        let requests = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        requests.iter().rev().filter(|r| &r.org_id == org_id).take(count).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(org: &str, n: u16) -> RecentRequest {
        RecentRequest {
            at: Timestamp::UNIX_EPOCH,
            org_id: OrgId::parse(org).unwrap(),
            method: "GET",
            path: format!("/{n}"),
            status: n,
            refusal: None,
            took: Duration::ZERO,
        }
    }

    #[test]
    fn newest_first_per_tpp_and_bounded() {
        let recent = RecentRequests::default();
        for n in 0..(REMEMBERED as u16 + 10) {
            recent.remember(request(if n % 2 == 0 { "PSDFR-ACPR-11111" } else { "PSDFR-ACPR-22222" }, n));
        }
        let mine = recent.of(&OrgId::parse("PSDFR-ACPR-11111").unwrap(), 3);
        let statuses: Vec<u16> = mine.iter().map(|r| r.status).collect();
        let last_even = REMEMBERED as u16 + 8;
        assert_eq!(statuses, vec![last_even, last_even - 2, last_even - 4]);
        assert_eq!(recent.requests.lock().unwrap().len(), REMEMBERED);
    }
}
