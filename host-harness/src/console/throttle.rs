//! Login rate limiting per client: after [`LoginLimits::max_failures`] wrong passwords within
//! [`LoginLimits::window_ms`], a client's logins are refused, without running Argon2, until
//! the oldest of those failures leaves the window. A client is its IP address (an IPv6 client
//! its /64, which one machine usually holds whole). A right password clears the client's
//! failures.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

/// How many wrong passwords a client may try, and in what time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures allowed within the window; the next attempt is refused.
    pub max_failures: usize,
    /// The window, in milliseconds.
    pub window_ms: i64,
}

impl Default for LoginLimits {
    /// Five wrong passwords in fifteen minutes.
    fn default() -> Self {
        LoginLimits {
            max_failures: 5,
            window_ms: 15 * 60 * 1000,
        }
    }
}

/// Clients tracked at most; beyond, those with the oldest failures are forgotten first.
const MAX_CLIENTS: usize = 100_000;

/// Who a login attempt comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Client {
    V4(u32),
    V6Prefix(u64),
}

impl From<IpAddr> for Client {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Client::V4(v4.into()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Client::V4(v4.into()),
                None => Client::V6Prefix((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// Whether a login attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Check the password.
    Allowed,
    /// Too many failures: refuse for this many more milliseconds.
    Refused {
        /// Until the oldest counted failure leaves the window.
        retry_after_ms: i64,
    },
}

/// The failures of each client within the window.
#[derive(Debug)]
pub struct LoginThrottle {
    limits: LoginLimits,
    failures: Mutex<HashMap<Client, VecDeque<i64>>>,
}

impl LoginThrottle {
    /// No failures yet.
    pub fn new(limits: LoginLimits) -> Self {
        LoginThrottle {
            limits,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, HashMap<Client, VecDeque<i64>>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `ip` may try a password at `now_ms`.
    pub fn admit(&self, ip: IpAddr, now_ms: i64) -> Admission {
        let mut all = self.failures();
        let Some(times) = all.get_mut(&Client::from(ip)) else {
            return Admission::Allowed;
        };
        while times
            .front()
            .is_some_and(|t| now_ms - t >= self.limits.window_ms)
        {
            times.pop_front();
        }
        if times.len() < self.limits.max_failures {
            return Admission::Allowed;
        }
        let oldest = times[times.len() - self.limits.max_failures];
        Admission::Refused {
            retry_after_ms: oldest + self.limits.window_ms - now_ms,
        }
    }

    /// Counts a wrong password from `ip` at `now_ms`.
    pub fn failed(&self, ip: IpAddr, now_ms: i64) {
        let mut all = self.failures();
        if all.len() >= MAX_CLIENTS {
            let window = self.limits.window_ms;
            all.retain(|_, times| times.back().is_some_and(|t| now_ms - t < window));
            while all.len() >= MAX_CLIENTS {
                let Some(oldest) = all
                    .iter()
                    .min_by_key(|(_, times)| times.back().copied().unwrap_or(i64::MIN))
                    .map(|(c, _)| *c)
                else {
                    break;
                };
                all.remove(&oldest);
            }
        }
        all.entry(Client::from(ip)).or_default().push_back(now_ms);
    }

    /// A right password from `ip`: its failures are forgotten.
    pub fn succeeded(&self, ip: IpAddr) {
        self.failures().remove(&Client::from(ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn failures_under_the_limit_are_obeyed_and_the_next_is_refused_until_the_window_passes() {
        let t = LoginThrottle::new(LoginLimits::default());
        let client = ip("192.0.2.7");
        for minute in 0..5 {
            assert_eq!(t.admit(client, minute * MINUTE), Admission::Allowed);
            t.failed(client, minute * MINUTE);
        }
        assert_eq!(
            t.admit(client, 5 * MINUTE),
            Admission::Refused {
                retry_after_ms: 10 * MINUTE
            }
        );
        assert_eq!(t.admit(ip("192.0.2.8"), 5 * MINUTE), Admission::Allowed);
        assert_eq!(
            t.admit(client, 15 * MINUTE),
            Admission::Allowed,
            "the first left"
        );
        t.failed(client, 15 * MINUTE);
        assert_eq!(
            t.admit(client, 15 * MINUTE),
            Admission::Refused {
                retry_after_ms: MINUTE
            }
        );
    }

    #[test]
    fn a_right_password_clears_the_failures() {
        let t = LoginThrottle::new(LoginLimits::default());
        let client = ip("192.0.2.7");
        for _ in 0..4 {
            t.failed(client, 0);
        }
        t.succeeded(client);
        for _ in 0..4 {
            t.failed(client, 0);
        }
        assert_eq!(t.admit(client, 0), Admission::Allowed);
    }

    #[test]
    fn an_ipv6_client_is_its_64_prefix_and_a_mapped_ipv4_its_address() {
        let t = LoginThrottle::new(LoginLimits {
            max_failures: 1,
            window_ms: MINUTE,
        });
        t.failed(ip("2001:db8:1:2::1"), 0);
        assert_ne!(t.admit(ip("2001:db8:1:2::ffff"), 0), Admission::Allowed);
        assert_eq!(t.admit(ip("2001:db8:1:3::1"), 0), Admission::Allowed);
        t.failed(ip("::ffff:192.0.2.9"), 0);
        assert_ne!(t.admit(ip("192.0.2.9"), 0), Admission::Allowed);
    }
}
