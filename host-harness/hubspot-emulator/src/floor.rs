//! HubSpot's rate-limit floor: the least wall time a run's API calls can take under the portal's
//! rolling windows, burst included, so a benchmark can say how close a sync comes to it.
//!
//! HubSpot counts calls in rolling windows per portal: the general limit (100 per 10 s on Free
//! and Starter, 190 on Professional and Enterprise) and, apart from it, the search limit (5 per
//! second). A window allows a burst: the first `limit` calls may all start at once, the next one
//! a full window after the first. So `n` calls in one bucket need `⌊(n−1)/limit⌋` windows, not
//! `n / limit` of them, and the run is done one reply latency after its last call starts.

/// The general limit's window.
pub const GENERAL_WINDOW_MS: u64 = 10_000;
/// The search limit's window.
pub const SEARCH_WINDOW_MS: u64 = 1_000;

/// A rolling-window rate limit: at most `limit` calls in any `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// What the bucket counts, for the benchmark's table.
    pub name: &'static str,
    /// Calls allowed in one window.
    pub limit: u64,
    /// The window's length.
    pub window_ms: u64,
}

impl Bucket {
    /// The general limit of a portal allowing `limit` calls per 10 s.
    pub const fn general(limit: u64) -> Bucket {
        Bucket {
            name: "general",
            limit,
            window_ms: GENERAL_WINDOW_MS,
        }
    }

    /// The search limit: 5 calls per second on every tier.
    pub const SEARCH: Bucket = Bucket {
        name: "search",
        limit: 5,
        window_ms: SEARCH_WINDOW_MS,
    };

    /// The earliest moment, after the first call starts, at which the `calls`-th call may
    /// start: each full window's worth goes at once, the next batch one window later.
    pub fn last_start_ms(&self, calls: u64) -> u64 {
        match calls {
            0 => 0,
            n => (n - 1) / self.limit.max(1) * self.window_ms,
        }
    }
}

/// A run's calls split by the bucket that counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls {
    /// Calls counted by the general limit.
    pub general: u64,
    /// Search calls (`…/search`), counted by the search limit only.
    pub search: u64,
}

impl Calls {
    /// Splits calls reported as (reason, count), a reason being the endpoint such as
    /// `POST /crm/v3/objects/contacts/search`.
    pub fn from_reasons<'a>(reasons: impl IntoIterator<Item = (&'a str, u64)>) -> Calls {
        reasons
            .into_iter()
            .fold(Calls::default(), |mut calls, (reason, count)| {
                if reason.trim_end().ends_with("/search") {
                    calls.search += count;
                } else {
                    calls.general += count;
                }
                calls
            })
    }

    /// Splits the calls an emulator counted.
    pub fn from_stats(stats: &crate::Stats) -> Calls {
        Calls::from_reasons(stats.calls.iter().map(|c| (c.endpoint.as_str(), c.count)))
    }
}

/// The floor of one run and the bucket that sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Floor {
    /// The least wall time of the run.
    pub ms: u64,
    /// The bucket whose window sets it (`latency` when no window binds).
    pub bound_by: &'static str,
}

/// The floor of a run making `calls` against a portal allowing `general_limit` calls per 10 s,
/// each reply taking `latency_ms`: the latest of the buckets' last starts, plus one latency.
pub fn floor(calls: Calls, general_limit: u64, latency_ms: u64) -> Floor {
    if calls.general + calls.search == 0 {
        return Floor {
            ms: 0,
            bound_by: "latency",
        };
    }
    let general = Bucket::general(general_limit);
    let (start, bound_by) = [
        (general.last_start_ms(calls.general), general.name),
        (
            Bucket::SEARCH.last_start_ms(calls.search),
            Bucket::SEARCH.name,
        ),
    ]
    .into_iter()
    .max_by_key(|(ms, _)| *ms)
    .filter(|(ms, _)| *ms > 0)
    .unwrap_or((0, "latency"));
    Floor {
        ms: start + latency_ms,
        bound_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_window_goes_at_once() {
        let b = Bucket::general(100);
        assert_eq!(b.last_start_ms(1), 0);
        assert_eq!(b.last_start_ms(100), 0);
        assert_eq!(b.last_start_ms(101), 10_000);
    }

    #[test]
    fn two_hundred_and_one_batch_calls_need_two_windows_not_twenty_seconds() {
        assert_eq!(Bucket::general(100).last_start_ms(201), 20_000);
        assert_eq!(Bucket::general(100).last_start_ms(200), 10_000);
        assert_eq!(Bucket::general(190).last_start_ms(201), 10_000);
    }

    #[test]
    fn search_is_five_per_second() {
        assert_eq!(Bucket::SEARCH.last_start_ms(5), 0);
        assert_eq!(Bucket::SEARCH.last_start_ms(6), 1_000);
        assert_eq!(Bucket::SEARCH.last_start_ms(500), 99_000);
    }

    #[test]
    fn the_slower_bucket_sets_the_floor_plus_one_reply() {
        let calls = Calls {
            general: 150,
            search: 100,
        };
        assert_eq!(
            floor(calls, 100, 150),
            Floor {
                ms: 19_150,
                bound_by: "search"
            }
        );
        let calls = Calls {
            general: 1_001,
            search: 10,
        };
        assert_eq!(
            floor(calls, 100, 0),
            Floor {
                ms: 100_000,
                bound_by: "general"
            }
        );
    }

    #[test]
    fn no_calls_cost_nothing_and_a_burst_costs_one_reply() {
        assert_eq!(floor(Calls::default(), 100, 150).ms, 0);
        let burst = Calls {
            general: 40,
            search: 3,
        };
        assert_eq!(
            floor(burst, 100, 150),
            Floor {
                ms: 150,
                bound_by: "latency"
            }
        );
    }

    #[test]
    fn search_reasons_are_counted_apart() {
        let calls = Calls::from_reasons([
            ("POST /crm/v3/objects/contacts/search", 7),
            ("POST /crm/v3/objects/contacts/batch/create", 3),
            ("GET /crm/v3/owners", 1),
            ("POST /crm/v3/objects/deals/search", 2),
        ]);
        assert_eq!(
            calls,
            Calls {
                general: 4,
                search: 9
            }
        );
    }
}
