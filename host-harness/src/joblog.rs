//! The job log: what a guest logged through the `log` import and printed on stdout/stderr,
//! with secrets redacted, kept per job and mirrored to `tracing` — capped in entries and bytes,
//! so a guest that floods its log costs the host a bounded amount: past a cap entries are
//! counted, not kept, and the log ends with one "N more lines dropped" entry.

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
#[derive(Debug, Clone)]
pub struct JobLog {
    inner: Arc<Mutex<Inner>>,
    max_entries: usize,
    max_bytes: usize,
}

#[derive(Debug, Default)]
struct Inner {
    entries: Vec<LogEntry>,
    bytes: usize,
    dropped: u64,
    last_at_ms: i64,
}

impl Default for JobLog {
    fn default() -> Self {
        JobLog::with_caps(usize::MAX, usize::MAX)
    }
}

impl LogEntry {
    fn size(&self) -> usize {
        self.message.len()
            + self
                .fields
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }
}

impl JobLog {
    /// A log that keeps at most `max_entries` entries of `max_bytes` together.
    pub fn with_caps(max_entries: usize, max_bytes: usize) -> Self {
        JobLog {
            inner: Arc::default(),
            max_entries,
            max_bytes,
        }
    }

    /// Appends an entry and mirrors it to `tracing`; past a cap it is only counted.
    pub fn push(&self, entry: LogEntry) {
        {
            let mut inner = self.lock();
            let size = entry.size();
            inner.last_at_ms = entry.at_ms;
            if inner.dropped > 0
                || inner.entries.len() >= self.max_entries
                || inner.bytes.saturating_add(size) > self.max_bytes
            {
                inner.dropped += 1;
                return;
            }
            inner.bytes += size;
        }
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
        self.lock().entries.push(entry);
    }

    /// All entries kept so far, then one entry saying how many were dropped, if any were.
    pub fn entries(&self) -> Vec<LogEntry> {
        let inner = self.lock();
        let mut entries = inner.entries.clone();
        if inner.dropped > 0 {
            entries.push(LogEntry {
                at_ms: inner.last_at_ms,
                level: LogLevel::Warn,
                source: "host".into(),
                message: format!(
                    "{} more lines dropped (the job log keeps {} entries of {} bytes at most)",
                    inner.dropped, self.max_entries, self.max_bytes
                ),
                fields: Vec::new(),
            });
        }
        entries
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: usize) -> LogEntry {
        LogEntry {
            at_ms: i as i64,
            level: LogLevel::Info,
            source: "plugin".into(),
            message: format!("line {i}"),
            fields: Vec::new(),
        }
    }

    #[test]
    fn entries_cap_obeyed() {
        let log = JobLog::with_caps(3, 1_000);
        (0..3).for_each(|i| log.push(entry(i)));
        assert_eq!(log.entries().len(), 3);
    }

    #[test]
    fn entries_cap_violated() {
        let log = JobLog::with_caps(3, 1_000);
        (0..10).for_each(|i| log.push(entry(i)));
        let entries = log.entries();
        assert_eq!(entries.len(), 4);
        assert_eq!(
            entries[3].message,
            "7 more lines dropped (the job log keeps 3 entries of 1000 bytes at most)"
        );
    }

    #[test]
    fn bytes_cap_violated() {
        let log = JobLog::with_caps(100, 10);
        log.push(entry(1));
        log.push(entry(2));
        let entries = log.entries();
        assert_eq!(entries.len(), 2);
        assert!(entries[1].message.starts_with("1 more lines dropped"));
    }
}
