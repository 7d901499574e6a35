//! `xentral:hubspot/log`: the plugin's log lines into the job log, secrets redacted.

use crate::clock::SharedClock;
use crate::joblog::{JobLog, LogEntry, LogLevel};
use crate::secrets::JobSecrets;

use super::xentral::hubspot::log;

/// What the log interface of one job holds.
pub struct LogCtx {
    pub(crate) log: JobLog,
    pub(crate) secrets: JobSecrets,
    pub(crate) clock: SharedClock,
}

impl log::Host for LogCtx {
    fn log(&mut self, level: log::Level, message: String, fields: Vec<(String, String)>) {
        let secrets = &self.secrets;
        let entry = LogEntry {
            at_ms: self.clock.now_ms(),
            level: match level {
                log::Level::Trace => LogLevel::Trace,
                log::Level::Debug => LogLevel::Debug,
                log::Level::Info => LogLevel::Info,
                log::Level::Warn => LogLevel::Warn,
                log::Level::Error => LogLevel::Error,
            },
            source: "plugin".into(),
            message: secrets.redact(&message),
            fields: fields
                .into_iter()
                .map(|(k, v)| (k, secrets.redact(&v)))
                .collect(),
        };
        self.log.push(entry);
    }
}
