//! Per-host rate limits: a host name in, a wait until that host may be asked again out. Every
//! request to a host takes the next free slot (`1 / per_second` apart); a 429's `Retry-After`
//! holds the whole host, so workers queued behind it wait too instead of retrying at once.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

#[derive(Default)]
struct HostState {
    next_slot: Option<Instant>,
    held_until: Option<Instant>,
}

/// Slots per host, shared by every worker of a run.
pub struct HostLimiter {
    interval: Duration,
    hosts: Mutex<HashMap<String, HostState>>,
}

impl HostLimiter {
    /// At most `per_second` requests a second to each host (0 or less: no limit).
    pub fn new(per_second: f64) -> HostLimiter {
        let interval = if per_second > 0.0 {
            Duration::from_secs_f64(1.0 / per_second)
        } else {
            Duration::ZERO
        };
        HostLimiter {
            interval,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Block until `host` may be sent one request, and take that slot.
    pub fn wait(&self, host: &str) {
        loop {
            let (slot, now) = {
                let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
                let st = hosts.entry(host.to_string()).or_default();
                let now = Instant::now();
                let mut slot = now;
                for t in [st.next_slot, st.held_until].into_iter().flatten() {
                    slot = slot.max(t);
                }
                st.next_slot = Some(slot + self.interval);
                (slot, now)
            };
            if slot > now {
                std::thread::sleep(slot - now);
            }
            // A 429 seen by another worker while this one slept holds the host: wait again.
            let held = {
                let hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
                hosts
                    .get(host)
                    .and_then(|s| s.held_until)
                    .is_some_and(|h| h > Instant::now())
            };
            if !held {
                return;
            }
        }
    }

    /// Hold `host` for `d` (a 429's `Retry-After`): no request leaves for it until then.
    pub fn hold(&self, host: &str, d: Duration) {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        let st = hosts.entry(host.to_string()).or_default();
        let until = Instant::now() + d;
        st.held_until = Some(st.held_until.map_or(until, |h| h.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_spaced_per_host() {
        let l = HostLimiter::new(20.0);
        let start = Instant::now();
        for _ in 0..3 {
            l.wait("a");
        }
        l.wait("b");
        // Three slots on `a` need at least two intervals (50 ms each); `b` has its own.
        assert!(start.elapsed() >= Duration::from_millis(100));
        l.hold("a", Duration::from_millis(50));
        let t = Instant::now();
        l.wait("a");
        assert!(t.elapsed() >= Duration::from_millis(50));
    }
}
