//! Per-source-address limits for what anyone may request without credentials (the first page of
//! an authorization, the fallback's login page): each node counts requests per address in
//! one-minute windows, in memory and bounded in size, so that an anonymous client cannot make the
//! server do unbounded work or write unbounded rows.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Addresses remembered at most; beyond, the windows of past minutes are forgotten first.
const MAX_ADDRESSES: usize = 100_000;

#[derive(Debug)]
pub struct PerAddress {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl PerAddress {
    pub fn new(per_minute: u32) -> PerAddress {
        PerAddress { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts a request from `address` at `now_ms`; `false` once the address exceeds its limit in
    /// the current minute.
    pub fn allow(&self, address: IpAddr, now_ms: i64) -> bool {
        let minute = now_ms.div_euclid(60_000);
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= MAX_ADDRESSES && !windows.contains_key(&address) {
            windows.retain(|_, (m, _)| *m == minute);
            if windows.len() >= MAX_ADDRESSES {
                windows.clear();
            }
        }
        let window = windows.entry(address).or_insert((minute, 0));
        if window.0 != minute {
            *window = (minute, 0);
        }
        window.1 = window.1.saturating_add(1);
        window.1 <= self.per_minute
    }

    /// Seconds until the next window opens.
    pub fn retry_after_secs(now_ms: i64) -> i64 {
        60 - now_ms.rem_euclid(60_000) / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_window_per_minute() {
        let limit = PerAddress::new(3);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        assert!((0..3).all(|_| limit.allow(a, 1_000)));
        assert!(!limit.allow(a, 59_999), "the fourth in the same minute");
        assert!(limit.allow(b, 59_999), "another address is not affected");
        assert!(limit.allow(a, 60_000), "a new minute");
        assert_eq!(PerAddress::retry_after_secs(59_000), 1);
    }
}
