//! `xentral:hubspot/clock`: the host's (possibly virtual) time and the tenant's time zone.

use crate::clock::SharedClock;

use super::xentral::hubspot::clock;

/// What the clock interface of one job holds.
pub struct ClockCtx {
    pub(crate) clock: SharedClock,
    pub(crate) time_zone: String,
}

impl clock::Host for ClockCtx {
    fn now_ms(&mut self) -> i64 {
        self.clock.now_ms()
    }

    fn sleep_ms(&mut self, ms: u64) {
        // A single wait longer than ten minutes is a plugin bug; cap it so a job cannot park
        // a scheduler slot for hours.
        self.clock.sleep_ms(ms.min(600_000));
    }

    fn time_zone(&mut self) -> String {
        self.time_zone.clone()
    }
}
