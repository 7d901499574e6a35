//! The job log: what a guest logged through the `log` import and printed on stdout/stderr,
//! with secrets redacted, kept per job and mirrored to `tracing`.

use std::sync::{Arc, Mutex};

use serde::Serialize;

/// Severity of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Trace.
    Trace,
    /// Debug.
    Debug,
    /// Info.
    Info,
    /// Warning.
    Warn,
    /// Error.
    Error,
}

/// One entry of the job log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// When (ms since epoch, host clock).
    pub at_ms: i64,
    /// Severity.
    pub level: LogLevel,
    /// Where it came from: `plugin`, `stdout`, `stderr` or `host`.
    pub source: String,
    /// The message.
    pub message: String,
    /// Key/value context.
    pub fields: Vec<(String, String)>,
}

/// A job's log; cheap to clone, shared between the store and the caller.
#[derive(Debug, Clone, Default)]
pub struct JobLog {
    entries: Arc<Mutex<Vec<LogEntry>>>,
}

impl JobLog {
    /// Appends an entry and mirrors it to `tracing`.
    pub fn push(&self, entry: LogEntry) {
        match entry.level {
            LogLevel::Error => {
                tracing::error!(source = %entry.source, fields = ?entry.fields, "{}", entry.message)
            }
            LogLevel::Warn => {
                tracing::warn!(source = %entry.source, fields = ?entry.fields, "{}", entry.message)
            }
            LogLevel::Info => {
                tracing::info!(source = %entry.source, fields = ?entry.fields, "{}", entry.message)
            }
            LogLevel::Debug => {
                tracing::debug!(source = %entry.source, fields = ?entry.fields, "{}", entry.message)
            }
            LogLevel::Trace => {
                tracing::trace!(source = %entry.source, fields = ?entry.fields, "{}", entry.message)
            }
        }
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry);
    }

    /// All entries so far.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
