//! HubSpot's rate limits on the emulator clock: a rolling ten-second window per portal, a separate
//! per-second bucket for search, and a daily cap that resets at UTC midnight.

use std::collections::VecDeque;

use axum::http::HeaderMap;

use crate::dates::DAY_MS;

/// The rolling window of the general limit.
const WINDOW_MS: i64 = crate::floor::GENERAL_WINDOW_MS as i64;
/// The rolling window of the search limit.
const SEARCH_WINDOW_MS: i64 = crate::floor::SEARCH_WINDOW_MS as i64;

/// The policy that refused a request, as `policyName` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    TenSecondlyRolling,
    Secondly,
    Daily,
}

impl Policy {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Policy::TenSecondlyRolling => "TEN_SECONDLY_ROLLING",
            Policy::Secondly => "SECONDLY",
            Policy::Daily => "DAILY",
        }
    }
}

/// Usage after a request, for the `X-HubSpot-RateLimit-*` headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usage {
    max: u32,
    remaining: u32,
    daily: u64,
    daily_remaining: u64,
}

impl Usage {
    pub(crate) fn write(&self, headers: &mut HeaderMap) {
        let pairs = [
            ("X-HubSpot-RateLimit-Max", self.max.to_string()),
            ("X-HubSpot-RateLimit-Remaining", self.remaining.to_string()),
            (
                "X-HubSpot-RateLimit-Interval-Milliseconds",
                WINDOW_MS.to_string(),
            ),
            ("X-HubSpot-RateLimit-Daily", self.daily.to_string()),
            (
                "X-HubSpot-RateLimit-Daily-Remaining",
                self.daily_remaining.to_string(),
            ),
        ];
        for (name, value) in pairs {
            if let Ok(value) = value.parse() {
                headers.insert(name, value);
            }
        }
    }
}

/// The counters of one portal.
pub(crate) struct RateLimiter {
    per_10s: u32,
    search_per_second: u32,
    daily: u64,
    window: VecDeque<i64>,
    search_window: VecDeque<i64>,
    day: i64,
    day_count: u64,
}

impl RateLimiter {
    pub(crate) fn new(per_10s: u32, search_per_second: u32, daily: u64) -> RateLimiter {
        RateLimiter {
            per_10s,
            search_per_second,
            daily,
            window: VecDeque::new(),
            search_window: VecDeque::new(),
            day: i64::MIN,
            day_count: 0,
        }
    }

    /// Forgets all counted requests.
    pub(crate) fn clear(&mut self) {
        *self = RateLimiter::new(self.per_10s, self.search_per_second, self.daily);
    }

    /// Counts a request if a slot is free; a refused request is not counted.
    pub(crate) fn admit(&mut self, now: i64, search: bool) -> Result<Usage, (Policy, Usage)> {
        let day = now.div_euclid(DAY_MS);
        if day != self.day {
            self.day = day;
            self.day_count = 0;
        }
        while self.window.front().is_some_and(|t| *t <= now - WINDOW_MS) {
            self.window.pop_front();
        }
        while self
            .search_window
            .front()
            .is_some_and(|t| *t <= now - SEARCH_WINDOW_MS)
        {
            self.search_window.pop_front();
        }
        let refused = if self.day_count >= self.daily {
            Some(Policy::Daily)
        } else if search && self.search_window.len() >= self.search_per_second as usize {
            Some(Policy::Secondly)
        } else if !search && self.window.len() >= self.per_10s as usize {
            Some(Policy::TenSecondlyRolling)
        } else {
            None
        };
        if let Some(policy) = refused {
            return Err((policy, self.usage()));
        }
        if search {
            self.search_window.push_back(now);
        } else {
            self.window.push_back(now);
        }
        self.day_count += 1;
        Ok(self.usage())
    }

    fn usage(&self) -> Usage {
        Usage {
            max: self.per_10s,
            remaining: self.per_10s.saturating_sub(self.window.len() as u32),
            daily: self.daily,
            daily_remaining: self.daily.saturating_sub(self.day_count),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_rolls_after_ten_seconds() {
        let mut limiter = RateLimiter::new(2, 5, 100);
        assert!(limiter.admit(0, false).is_ok());
        assert!(limiter.admit(5_000, false).is_ok());
        assert_eq!(
            limiter.admit(9_999, false).unwrap_err().0,
            Policy::TenSecondlyRolling
        );
        assert!(limiter.admit(10_000, false).is_ok());
    }

    #[test]
    fn daily_cap_resets_at_midnight() {
        let mut limiter = RateLimiter::new(100, 5, 1);
        assert!(limiter.admit(DAY_MS - 1, false).is_ok());
        assert_eq!(
            limiter.admit(DAY_MS - 1, false).unwrap_err().0,
            Policy::Daily
        );
        assert!(limiter.admit(DAY_MS, false).is_ok());
    }
}
