//! What one job's store holds, the same for every contract version: WASI, the memory limiter,
//! and one context per host interface (as wasmtime-wasi keeps one view per interface), each
//! holding only what that interface needs. Each version module implements its interfaces
//! over these contexts.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use xentral_erp::Database;

use crate::clock::SharedClock;
use crate::joblog::{JobLog, LogEntry, LogLevel};
use crate::outbound::Outbound;
use crate::sandbox::MemoryLimiter;
use crate::secrets::JobSecrets;

/// Everything one job's store holds: WASI, the memory limiter, and one context per host
/// interface (as wasmtime-wasi keeps one view per interface), each holding only what that
/// interface needs.
pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) http: HttpCtx,
    pub(crate) db: DbCtx,
    pub(crate) log: LogCtx,
    pub(crate) clock: ClockCtx,
    pub(crate) secrets: SecretsCtx,
}

impl HostState {
    /// The state of one job's store.
    pub(crate) fn new(
        wasi: WasiCtx,
        limiter: MemoryLimiter,
        db: Box<dyn Database>,
        outbound: Outbound,
        clock: SharedClock,
        log: JobLog,
        time_zone: String,
    ) -> Self {
        let secrets = outbound.secrets().clone();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limiter,
            http: HttpCtx {
                outbound,
                log: log.clone(),
                clock: Arc::clone(&clock),
            },
            db: DbCtx {
                db,
                statements: 0,
                time: std::time::Duration::ZERO,
            },
            log: LogCtx {
                log,
                secrets: secrets.clone(),
                clock: Arc::clone(&clock),
            },
            clock: ClockCtx { clock, time_zone },
            secrets: SecretsCtx { secrets },
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// What the http interface of one job holds.
pub struct HttpCtx {
    pub(crate) outbound: Outbound,
    pub(crate) log: JobLog,
    pub(crate) clock: SharedClock,
}

/// What the db interface of one job holds.
pub struct DbCtx {
    pub(crate) db: Box<dyn Database>,
    /// Statements the guest ran, and the time they took (what a job costs the database).
    pub(crate) statements: u64,
    pub(crate) time: std::time::Duration,
}

/// What the log interface of one job holds.
pub struct LogCtx {
    pub(crate) log: JobLog,
    pub(crate) secrets: JobSecrets,
    pub(crate) clock: SharedClock,
}

/// What the clock interface of one job holds.
pub struct ClockCtx {
    pub(crate) clock: SharedClock,
    pub(crate) time_zone: String,
}

/// What the secrets interface of one job holds.
pub struct SecretsCtx {
    pub(crate) secrets: JobSecrets,
}

impl HttpCtx {
    /// Logs one line of the host's own about a request.
    pub(crate) fn log_host(&self, level: LogLevel, message: String) {
        self.log.push(LogEntry {
            at_ms: self.clock.now_ms(),
            level,
            source: "host".into(),
            message,
            fields: Vec::new(),
        });
    }
}
