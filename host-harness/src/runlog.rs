//! The run history of a tenant's process starters: one JSON object per finished run, appended to
//! `<tenant dir>/runs.jsonl`.
//!
//! xentral's `prozessstarter` table keeps only the last attempt's time and status, not how long a
//! run took or how many API calls it made; this log keeps both so `status` can show them. The file
//! stays bounded: once it holds more than [`MAX_LINES`] lines it is cut to the last
//! [`KEEP_LINES`]. Two processes appending while one of them compacts may lose a line of
//! history; the scheduler's state itself lives in the database, never here.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::tenant::Tenant;

/// The log's file name inside a tenant directory.
pub const FILE_NAME: &str = "runs.jsonl";

/// The log is compacted once it holds more lines than this.
pub const MAX_LINES: usize = 2_000;

/// How many of the newest lines a compaction keeps.
pub const KEEP_LINES: usize = 1_000;

/// Errors reading or writing the run log.
#[derive(Debug, thiserror::Error)]
pub enum RunLogError {
    /// The file could not be read or written.
    #[error("run log {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunResult {
    /// The job returned a report.
    Ok,
    /// The job failed (plugin error, trap, limit, or the host could not run it).
    Failed,
}

/// One finished run of a process starter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The tenant.
    pub tenant: String,
    /// `prozessstarter.id`.
    pub starter_id: i64,
    /// `prozessstarter.parameter`.
    pub parameter: String,
    /// The plugin job the starter ran, by its command-line name (`sync-contacts`): the log
    /// outlives contract versions, so it keeps the name, not the contract's type.
    pub job: String,
    /// When the run started, ms since the epoch on the host clock.
    pub started_ms: i64,
    /// How long it ran, in ms on the host clock.
    pub duration_ms: u64,
    /// How it ended.
    pub outcome: RunResult,
    /// The report's summary, or the error message.
    pub message: String,
    /// HubSpot API calls the job made, when it returned a report.
    pub api_calls: Option<u32>,
    /// Records the job left out, by side and reason (`xentral: …`, `HubSpot: …`).
    #[serde(default)]
    pub excluded: std::collections::BTreeMap<String, u32>,
    /// Run by hand (`xentral-host run`), not by the scheduler.
    #[serde(default)]
    pub manual: bool,
}

/// A tenant's run log file.
#[derive(Debug, Clone)]
pub struct RunLog {
    path: PathBuf,
}

impl RunLog {
    /// The run log of `tenant`.
    pub fn for_tenant(tenant: &Tenant) -> Self {
        Self::at(tenant.dir().join(FILE_NAME))
    }

    /// A run log at `path`.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        RunLog { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> RunLogError {
        RunLogError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends one record (one line, written with a single call) and compacts the file when it
    /// has grown past [`MAX_LINES`].
    pub fn append(&self, record: &RunRecord) -> Result<(), RunLogError> {
        self.append_bounded(record, MAX_LINES, KEEP_LINES)
    }

    fn append_bounded(
        &self,
        record: &RunRecord,
        max: usize,
        keep: usize,
    ) -> Result<(), RunLogError> {
        let mut line = serde_json::to_string(record)
            .map_err(|e| self.io(std::io::Error::other(e.to_string())))?;
        line.push('\n');
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| self.io(e))?;
        file.write_all(line.as_bytes()).map_err(|e| self.io(e))?;
        drop(file);
        self.compact(max, keep)
    }

    /// Cuts the file to its newest `keep` lines if it holds more than `max` lines.
    pub fn compact(&self, max: usize, keep: usize) -> Result<(), RunLogError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.io(e)),
        };
        let lines: Vec<&str> = text.lines().collect();
        if lines.len() <= max {
            return Ok(());
        }
        let mut kept = lines[lines.len() - keep.min(lines.len())..].join("\n");
        kept.push('\n');
        let tmp = self
            .path
            .with_extension(format!("jsonl.tmp{}", std::process::id()));
        fs::write(&tmp, kept)
            .and_then(|()| fs::rename(&tmp, &self.path))
            .map_err(|e| self.io(e))
    }

    /// All records, oldest first; lines that are not valid records are skipped.
    pub fn read(&self) -> Result<Vec<RunRecord>, RunLogError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(e)),
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }

    /// The newest record of each starter, by starter id.
    pub fn latest_by_starter(&self) -> Result<BTreeMap<i64, RunRecord>, RunLogError> {
        let mut latest = BTreeMap::new();
        for r in self.read()? {
            latest.insert(r.starter_id, r);
        }
        Ok(latest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: i64) -> RunRecord {
        RunRecord {
            manual: false,
            tenant: "t".into(),
            starter_id: i % 3,
            parameter: "hubspot_process".into(),
            job: "process-queue".into(),
            started_ms: i,
            duration_ms: 5,
            outcome: RunResult::Ok,
            message: format!("run {i}"),
            api_calls: Some(1),
            excluded: Default::default(),
        }
    }

    #[test]
    fn compaction_keeps_the_newest_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = RunLog::at(dir.path().join(FILE_NAME));
        for i in 0..20 {
            log.append_bounded(&record(i), 20, 10).unwrap();
        }
        assert_eq!(log.read().unwrap().len(), 20);
        log.append_bounded(&record(20), 20, 10).unwrap();
        let started: Vec<i64> = log.read().unwrap().iter().map(|r| r.started_ms).collect();
        assert_eq!(started, (11..=20).collect::<Vec<_>>());
    }

    #[test]
    fn latest_by_starter_takes_the_last_record_of_each() {
        let dir = tempfile::tempdir().unwrap();
        let log = RunLog::at(dir.path().join(FILE_NAME));
        for i in 0..7 {
            log.append(&record(i)).unwrap();
        }
        let latest = log.latest_by_starter().unwrap();
        assert_eq!(latest.len(), 3);
        assert_eq!(latest[&0].started_ms, 6);
        assert_eq!(latest[&2].started_ms, 5);
    }

    #[test]
    fn a_missing_log_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let log = RunLog::at(dir.path().join(FILE_NAME));
        assert!(log.read().unwrap().is_empty());
    }
}
