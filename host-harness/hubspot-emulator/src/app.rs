//! The state of one running portal, shared by the HTTP handlers and the in-process API.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::auth::Auth;
use crate::clock::{Clock, system_now};
use crate::config::{EmulatorConfig, Latency};
use crate::faults::{FaultPlan, Faults};
use crate::rate_limit::RateLimiter;
use crate::stats::StatsBook;
use crate::store::Store;

/// Everything the portal holds; each part has its own lock, never held across an `await`.
pub(crate) struct App {
    pub clock: Clock,
    pub auth: Auth,
    pub search_lag_ms: i64,
    store: Mutex<Store>,
    limiter: Mutex<RateLimiter>,
    faults: Mutex<Faults>,
    stats: Mutex<StatsBook>,
    latency: Latency,
    /// Requests received so far (numbers each one's latency).
    received: AtomicU64,
    /// Requests being answered now, and the most there were at once since the counters were
    /// zeroed.
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// One request being answered: counted in flight until dropped.
pub(crate) struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Locks a mutex, ignoring poisoning: a panicked handler leaves the data consistent enough for tests.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl App {
    pub(crate) fn new(config: &EmulatorConfig) -> App {
        App {
            clock: Clock::new(config.clock.clone().unwrap_or_else(system_now)),
            auth: Auth::new(&config.tokens),
            search_lag_ms: config.search_lag_ms,
            store: Mutex::new(Store::new()),
            limiter: Mutex::new(RateLimiter::new(
                config.rate_limit_per_10s,
                config.search_per_second,
                config.daily_limit,
            )),
            faults: Mutex::new(Faults::new(config.faults.clone())),
            stats: Mutex::new(StatsBook::default()),
            latency: config.latency,
            received: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        }
    }

    /// Counts a request in flight until the guard is dropped.
    pub(crate) fn arrived(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(&self.in_flight)
    }

    /// The most requests answered at the same time since the counters were zeroed.
    pub(crate) fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// How long the next request's reply takes to arrive.
    pub(crate) fn next_latency(&self) -> std::time::Duration {
        self.latency
            .of_request(self.received.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub(crate) fn limiter(&self) -> MutexGuard<'_, RateLimiter> {
        lock(&self.limiter)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    pub(crate) fn stats(&self) -> MutexGuard<'_, StatsBook> {
        lock(&self.stats)
    }

    pub(crate) fn set_faults(&self, plan: FaultPlan) {
        *self.faults() = Faults::new(plan);
    }

    pub(crate) fn reset_stats(&self) {
        *self.stats() = StatsBook::default();
        self.max_in_flight
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Back to a fresh portal: data, counters, rate-limit windows and faults; the clock is kept.
    pub(crate) fn reset_all(&self) {
        *self.store() = Store::new();
        self.limiter().clear();
        self.set_faults(FaultPlan::default());
        self.reset_stats();
    }
}
