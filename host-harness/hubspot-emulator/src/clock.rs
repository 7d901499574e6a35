//! The emulator clock: a time source plus an adjustable offset, so tests can share virtual time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A source of "now" in milliseconds since the Unix epoch (UTC).
pub type NowFn = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock as a [`NowFn`]; the default source.
pub fn system_now() -> NowFn {
    Arc::new(|| chrono::Utc::now().timestamp_millis())
}

/// The emulator's clock: `source() + offset`, where the admin API moves the offset.
pub(crate) struct Clock {
    source: NowFn,
    offset: AtomicI64,
}

impl Clock {
    pub(crate) fn new(source: NowFn) -> Clock {
        Clock {
            source,
            offset: AtomicI64::new(0),
        }
    }

    pub(crate) fn now_ms(&self) -> i64 {
        (self.source)() + self.offset.load(Ordering::SeqCst)
    }

    pub(crate) fn advance(&self, ms: i64) {
        self.offset.fetch_add(ms, Ordering::SeqCst);
    }

    pub(crate) fn set(&self, ms: i64) {
        self.offset.store(ms - (self.source)(), Ordering::SeqCst);
    }
}

/// A hand-driven clock for deterministic tests: share [`ManualClock::now_fn`] with the emulator
/// and the code under test, then move time with [`ManualClock::advance`].
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing still at `start_ms`.
    pub fn new(start_ms: i64) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(start_ms)))
    }

    /// The current time in epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Moves time forward (or back, with a negative value).
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// Jumps to an absolute time.
    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }

    /// This clock as a time source for [`crate::EmulatorConfig::clock`].
    pub fn now_fn(&self) -> NowFn {
        let cell = self.0.clone();
        Arc::new(move || cell.load(Ordering::SeqCst))
    }
}
