//! Time as the host gives it to guests and the scheduler: the system clock in production, a
//! virtual clock in tests (a guest's `sleep` advances it instantly).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of time that may be virtual.
pub trait HostClock: Send + Sync {
    /// Milliseconds since the Unix epoch, UTC.
    fn now_ms(&self) -> i64;
    /// Waits `ms` milliseconds (a virtual clock advances instead).
    fn sleep_ms(&self, ms: u64);
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl HostClock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }

    fn sleep_ms(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// A clock that only moves when told to (or when someone sleeps on it).
#[derive(Debug, Clone)]
pub struct VirtualClock {
    now: Arc<AtomicI64>,
}

impl VirtualClock {
    /// A virtual clock starting at `start_ms`.
    pub fn new(start_ms: i64) -> Self {
        VirtualClock {
            now: Arc::new(AtomicI64::new(start_ms)),
        }
    }

    /// Moves the clock forward.
    pub fn advance_ms(&self, ms: i64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set_ms(&self, ms: i64) {
        self.now.store(ms, Ordering::SeqCst);
    }
}

impl HostClock for VirtualClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    fn sleep_ms(&self, ms: u64) {
        self.advance_ms(ms as i64);
    }
}

/// A shareable clock handle.
pub type SharedClock = Arc<dyn HostClock>;

/// The clock as a plain function, the form `xentral-erp` and the emulator take.
pub fn now_fn(clock: &SharedClock) -> Arc<dyn Fn() -> i64 + Send + Sync> {
    let clock = Arc::clone(clock);
    Arc::new(move || clock.now_ms())
}

/// Adapts a host clock to WASI's wall clock, so `std::time::SystemTime` in a guest agrees
/// with the `clock` import.
pub(crate) struct WasiWallClock(pub SharedClock);

impl wasmtime_wasi::HostWallClock for WasiWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        Duration::from_millis(self.0.now_ms().max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_sleep_advances_instantly() {
        let c = VirtualClock::new(1_000);
        let started = std::time::Instant::now();
        c.sleep_ms(86_400_000);
        assert_eq!(c.now_ms(), 1_000 + 86_400_000);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
