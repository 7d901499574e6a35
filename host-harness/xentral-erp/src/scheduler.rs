//! xentral's process starters (`prozessstarter`): when one is due, and its lock.
//!
//! The convention, as xentral's `cronjobs/starter2.php` and the job scripts implement it:
//! - a periodic starter (`art` = 'periodisch', `aktiv` = 1) is due `periode` minutes after
//!   `letzteausfuerhung` (never run = `'0000-00-00 00:00:00'` = due at once); other `art`s
//!   (`uhrzeit`) are never due here;
//! - an attempt on a due starter stamps `letzteausfuerhung`; if `mutex` = 0 it takes the lock
//!   (`mutex = 1, mutexcounter = 0`) and runs; if `mutex` = 1 it only increments `mutexcounter`
//!   and gives up, so a running job blocks the next attempt of the same starter;
//! - once `mutexcounter` > 2 (three attempts found it locked, i.e. three periods) the lock
//!   counts as stale and the next attempt takes it over;
//! - a finished run sets `mutex = 0, mutexcounter = 0`, `letzteausfuerhung` and `status`.
//!
//! A claim also writes `status = 'running since … (run <token>)'`: that text is the [`Lease`]
//! of the run holding the lock, and [`finish`] releases the lock only while `status` still
//! holds it. A late run whose stale lock was taken over therefore never releases the lock of
//! the run that took it over. A manual run ([`claim_manual`]) obeys the same lock and the same
//! staleness rule; it never counts as an attempt that found the lock held.
//!
//! The lease also names its [`Holder`] (process, host, boot). A lock whose holder died on
//! this machine (`kill -9`, a crash) is free at once, for scheduled and manual attempts
//! alike, instead of after three periods; a manual run may also be forced over any lock.
//!
//! Two differences from xentral, both deliberate: a starter is due at exactly
//! `letzteausfuerhung + periode` (xentral compares strictly, which only matters on a virtual
//! clock), and every state change is one conditional UPDATE checked by its affected-row count, so
//! several scheduler processes on one database never both claim a run. Instants are UTC,
//! stored as `'YYYY-MM-DD HH:MM:SS'`; the SQL is plain enough for MariaDB (the due cutoff is
//! computed here and bound as a parameter, no date functions).

use chrono::{DateTime, Duration, Utc};

use crate::database::{Database, DbError};
use crate::mysql_compat::{ZERO_DATETIME, format_datetime, parse_datetime};
use crate::value::Value;

/// `status` is a `varchar(255)`: longer messages are cut to this many characters.
pub const STATUS_MAX_CHARS: usize = 255;

/// A lock found this many times is still respected; one more and it is stale.
pub const STALE_AFTER: i64 = 2;

/// How often a claim re-reads the row when another process changed it in between.
const CLAIM_RETRIES: usize = 8;

/// One `prozessstarter` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Starter {
    /// Row id.
    pub id: i64,
    /// Name shown in xentral.
    pub bezeichnung: String,
    /// `periodisch` or `uhrzeit`.
    pub art: String,
    /// `cronjob` for job scripts.
    pub typ: String,
    /// Which job to run (`hubspot_process`); the host maps it to a job.
    pub parameter: String,
    /// Period in minutes, as stored (text).
    pub periode: String,
    /// Whether the starter is switched on.
    pub aktiv: bool,
    /// Whether a run holds the lock.
    pub mutex: bool,
    /// How many attempts found the lock held since it was taken.
    pub mutexcounter: i64,
    /// Last attempt or run, UTC; `None` if never.
    pub letzteausfuerhung: Option<DateTime<Utc>>,
    /// Start time (for `uhrzeit` starters), UTC; `None` if unset.
    pub startzeit: Option<DateTime<Utc>>,
    /// Last recorded status (`OK` or an error message).
    pub status: String,
    /// When the row last changed, UTC.
    pub status_zeit: Option<DateTime<Utc>>,
    /// The period the module recommends, in minutes.
    pub recommended_period: i64,
}

/// Holding a starter's lock: handed out by a claim, given back by [`finish`]. Its text is
/// unique per claim and kept in `status` while the run holds the lock; it names the
/// [`Holder`], so a lock left by a crashed process can be recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The starter's row id.
    pub starter_id: i64,
    status: String,
}

impl Lease {
    fn new(starter_id: i64, now: DateTime<Utc>) -> Self {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let holder = Holder::current();
        Lease {
            starter_id,
            status: format!(
                "running since {} (run {}; pid {} on {}, boot {})",
                format_datetime(now),
                &token[..12],
                holder.pid,
                holder.host,
                holder.boot
            ),
        }
    }
}

/// The process holding a lock, as its lease records it: process id, host name and the
/// kernel's boot id (a host name alone may repeat across machines, and a pid across boots).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// The first 8 characters of the kernel's boot id (`unknown` where there is none).
    pub boot: String,
    /// When it took the lock (`YYYY-MM-DD HH:MM:SS`, UTC), empty for the current process.
    pub since: String,
}

impl Holder {
    /// This process.
    pub fn current() -> Holder {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .ok()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty() && !t.contains([';', ' ', ')']))
        };
        Holder {
            pid: std::process::id(),
            host: read("/proc/sys/kernel/hostname").unwrap_or_else(|| "unknown".into()),
            boot: read("/proc/sys/kernel/random/boot_id")
                .map(|b| b.chars().take(8).collect())
                .unwrap_or_else(|| "unknown".into()),
            since: String::new(),
        }
    }

    /// The holder a lease's status names, if it names one (older leases do not).
    pub fn from_status(status: &str) -> Option<Holder> {
        let since = status
            .strip_prefix("running since ")?
            .split(" (")
            .next()?
            .to_owned();
        let (_, rest) = status.split_once("; pid ")?;
        let (pid, rest) = rest.split_once(" on ")?;
        let (host, rest) = rest.split_once(", boot ")?;
        let boot = rest.strip_suffix(')')?;
        Some(Holder {
            pid: pid.parse().ok()?,
            host: host.to_owned(),
            boot: boot.to_owned(),
            since,
        })
    }

    /// Whether the holder is known to be gone: it ran on this machine since its current
    /// boot and no such process lives (or only its zombie). A holder on another machine, or
    /// one that cannot be told, is taken to be alive.
    pub fn is_dead(&self) -> bool {
        let here = Holder::current();
        if self.host != here.host || self.boot != here.boot || self.boot == "unknown" {
            return false;
        }
        if self.pid == here.pid {
            return false;
        }
        match std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) {
            // The state follows the command name in parentheses: `Z` is a zombie, `X` dead.
            Ok(stat) => stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next())
                .is_some_and(|state| matches!(state, 'Z' | 'X')),
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "process {} on {}", self.pid, self.host)?;
        if !self.since.is_empty() {
            write!(f, " since {} UTC", self.since)?;
        }
        Ok(())
    }
}

/// What an attempt to start a run found, and the lease when it took the lock. Only this
/// module builds one, so a lease is held exactly when [`ClaimOutcome::should_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    outcome: ClaimOutcome,
    lease: Option<Lease>,
}

impl Claim {
    fn taken(outcome: ClaimOutcome, lease: Lease) -> Claim {
        debug_assert!(outcome.should_run());
        Claim {
            outcome,
            lease: Some(lease),
        }
    }

    fn refused(outcome: ClaimOutcome) -> Claim {
        debug_assert!(!outcome.should_run());
        Claim {
            outcome,
            lease: None,
        }
    }

    /// What the attempt found.
    pub fn outcome(&self) -> ClaimOutcome {
        self.outcome
    }

    /// The lock's lease, held exactly when the attempt must run the job.
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    /// The lease, to give back with [`finish`] once the job ran.
    pub fn into_lease(self) -> Option<Lease> {
        self.lease
    }
}

/// Who attempts a run: the scheduler (due, active, counting locked attempts) or an operator
/// running the job by hand (any time, never counting towards staleness).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    Scheduled,
    Manual { force: bool },
}

/// What an attempt to start a run found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The lock was free and is now held: run the job, then call [`finish`].
    Claimed,
    /// The lock was stale and is now held by this attempt: run the job, then call [`finish`].
    TakenOverStale {
        /// `mutexcounter` before the takeover.
        previous_counter: i64,
    },
    /// The lock's holder had died on this machine; the lock is now held by this attempt.
    TakenOverFromDead {
        /// The dead holder.
        pid: u32,
    },
    /// An operator forced a manual run over a lock that counted as held.
    Forced,
    /// A run holds the lock; its counter was incremented to `counter`. Do not run.
    Locked {
        /// `mutexcounter` after this attempt.
        counter: i64,
    },
    /// The period has not passed yet.
    NotDue,
    /// The starter is switched off (or is not a periodic starter).
    Inactive,
}

impl ClaimOutcome {
    /// Whether the caller now holds the lock and must run the job.
    pub fn should_run(self) -> bool {
        matches!(
            self,
            Self::Claimed
                | Self::TakenOverStale { .. }
                | Self::TakenOverFromDead { .. }
                | Self::Forced
        )
    }
}

impl Starter {
    /// The period in minutes, read like PHP's `(int)`: garbage or negative counts as 0.
    pub fn period_minutes(&self) -> i64 {
        Value::from(self.periode.as_str())
            .as_i64()
            .unwrap_or(0)
            .max(0)
    }

    /// Whether this starter is scheduled at all: active and periodic.
    pub fn is_scheduled(&self) -> bool {
        self.aktiv && self.art == "periodisch"
    }

    /// When the next run is due: `letzteausfuerhung + periode`, the epoch if it never ran;
    /// `None` if the starter is not scheduled.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.is_scheduled().then(|| {
            self.letzteausfuerhung.map_or(DateTime::UNIX_EPOCH, |t| {
                t + Duration::minutes(self.period_minutes())
            })
        })
    }

    /// Whether a run is due at `now`.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.next_due().is_some_and(|t| t <= now)
    }

    /// Whether the lock, if held, counts as stale.
    pub fn lock_is_stale(&self) -> bool {
        self.mutex && self.mutexcounter > STALE_AFTER
    }

    /// The process holding the lock, if it is held and its lease names one.
    pub fn holder(&self) -> Option<Holder> {
        self.mutex
            .then(|| Holder::from_status(&self.status))
            .flatten()
    }

    /// The dead process that still holds the lock, if any (see [`Holder::is_dead`]).
    pub fn dead_holder(&self) -> Option<Holder> {
        self.holder().filter(Holder::is_dead)
    }
}

const COLUMNS: &str = "id, bezeichnung, art, typ, parameter, periode, aktiv, mutex, mutexcounter, \
     letzteausfuerhung, startzeit, status, status_zeit, recommended_period";

fn text(v: &Value) -> String {
    v.to_text().unwrap_or_default()
}

fn instant(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().and_then(parse_datetime).map(|t| t.and_utc())
}

fn starter_from_row(r: &[Value]) -> Starter {
    let int = |i: usize| r[i].as_i64().unwrap_or(0);
    Starter {
        id: int(0),
        bezeichnung: text(&r[1]),
        art: text(&r[2]),
        typ: text(&r[3]),
        parameter: text(&r[4]),
        periode: text(&r[5]),
        aktiv: int(6) == 1,
        mutex: int(7) == 1,
        mutexcounter: int(8),
        letzteausfuerhung: instant(&r[9]),
        startzeit: instant(&r[10]),
        status: text(&r[11]),
        status_zeit: instant(&r[12]),
        recommended_period: int(13),
    }
}

/// All starters, by id.
pub fn list(db: &mut dyn Database) -> Result<Vec<Starter>, DbError> {
    let rows = db.query(
        &format!("SELECT {COLUMNS} FROM prozessstarter ORDER BY id"),
        &[],
    )?;
    Ok(rows.rows.iter().map(|r| starter_from_row(r)).collect())
}

/// The starter with `id`.
pub fn get(db: &mut dyn Database, id: i64) -> Result<Option<Starter>, DbError> {
    let rows = db.query(
        &format!("SELECT {COLUMNS} FROM prozessstarter WHERE id = ?"),
        &[id.into()],
    )?;
    Ok(rows.rows.first().map(|r| starter_from_row(r)))
}

/// The first starter whose `parameter` is `parameter` (how xentral modules find theirs).
pub fn find_by_parameter(
    db: &mut dyn Database,
    parameter: &str,
) -> Result<Option<Starter>, DbError> {
    let rows = db.query(
        &format!("SELECT {COLUMNS} FROM prozessstarter WHERE parameter = ? ORDER BY id LIMIT 1"),
        &[parameter.into()],
    )?;
    Ok(rows.rows.first().map(|r| starter_from_row(r)))
}

/// One scheduled attempt to start a run of `starter` at `now`.
///
/// `starter` is the caller's snapshot; the decision is re-checked in the database by one
/// conditional UPDATE whose WHERE clause repeats what the snapshot showed (lock state, counter,
/// `letzteausfuerhung` not after the due cutoff). If another process changed the row in between,
/// nothing is written, the row is re-read and the decision made again.
pub fn try_claim(
    db: &mut dyn Database,
    starter: &Starter,
    now: DateTime<Utc>,
) -> Result<Claim, DbError> {
    claim(db, starter, now, Attempt::Scheduled)
}

/// An operator's attempt to run `starter`'s job now, whether or not it is due or active:
/// it takes a free, stale or dead holder's lock like a scheduled attempt (stamping
/// `letzteausfuerhung`, so the next scheduled run is a period later), and leaves a held lock
/// and its counter alone — unless `force`, which takes over any lock (the caller warns).
pub fn claim_manual(
    db: &mut dyn Database,
    starter: &Starter,
    now: DateTime<Utc>,
    force: bool,
) -> Result<Claim, DbError> {
    claim(db, starter, now, Attempt::Manual { force })
}

fn claim(
    db: &mut dyn Database,
    starter: &Starter,
    now: DateTime<Utc>,
    attempt: Attempt,
) -> Result<Claim, DbError> {
    let stamp = format_datetime(now);
    let mut s = starter.clone();
    let refused = Claim::refused;
    for _ in 0..CLAIM_RETRIES {
        if attempt == Attempt::Scheduled {
            if !s.is_scheduled() {
                return Ok(refused(ClaimOutcome::Inactive));
            }
            if !s.is_due(now) {
                return Ok(refused(ClaimOutcome::NotDue));
            }
        }
        let dead = s.dead_holder();
        let forced = attempt == Attempt::Manual { force: true };
        let locked = s.mutex && !s.lock_is_stale() && dead.is_none() && !forced;
        if locked && attempt != Attempt::Scheduled {
            return Ok(refused(ClaimOutcome::Locked {
                counter: s.mutexcounter,
            }));
        }
        // One conditional UPDATE: it writes only if the row is still as `s` shows it.
        let lease = (!locked).then(|| Lease::new(s.id, now));
        let mut params: Vec<Value> = vec![stamp.as_str().into()];
        let set = match &lease {
            Some(l) => {
                params.push(l.status.as_str().into());
                "mutex = 1, mutexcounter = 0, status = ?"
            }
            None => "mutexcounter = mutexcounter + 1",
        };
        params.extend([s.id.into(), s.mutex.into(), s.mutexcounter.into()]);
        let scheduled_only = if attempt == Attempt::Scheduled {
            let cutoff = now - Duration::minutes(s.period_minutes());
            params.push(format_datetime(cutoff).into());
            " AND aktiv = 1 AND letzteausfuerhung <= ?"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE prozessstarter SET letzteausfuerhung = ?, {set} \
             WHERE id = ? AND mutex = ? AND mutexcounter = ?{scheduled_only}"
        );
        if db.execute(&sql, &params)?.rows_affected == 1 {
            let outcome = match (locked, s.mutex) {
                (true, _) => ClaimOutcome::Locked {
                    counter: s.mutexcounter + 1,
                },
                (false, false) => ClaimOutcome::Claimed,
                (false, true) if s.lock_is_stale() => ClaimOutcome::TakenOverStale {
                    previous_counter: s.mutexcounter,
                },
                (false, true) => match dead {
                    Some(h) => ClaimOutcome::TakenOverFromDead { pid: h.pid },
                    None => ClaimOutcome::Forced,
                },
            };
            return Ok(match lease {
                Some(lease) => Claim::taken(outcome, lease),
                None => Claim::refused(outcome),
            });
        }
        match get(db, s.id)? {
            Some(fresh) => s = fresh,
            None => return Ok(refused(ClaimOutcome::Inactive)),
        }
    }
    Err(DbError::Busy(format!(
        "prozessstarter {} kept changing while being claimed",
        s.id
    )))
}

/// Whether [`finish`] gave the lock back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// The lock was this run's and is free now; `status` holds the outcome.
    Released,
    /// Another attempt took the lock over as stale while this run went on: the row is the
    /// other run's and was left as it is.
    TakenOver,
}

/// Ends the run holding `lease` at `now`: releases the lock and records `Ok(status)` or
/// `Err(message)` in `status` (cut to [`STATUS_MAX_CHARS`] characters) — only if the lock is
/// still this run's.
pub fn finish(
    db: &mut dyn Database,
    lease: &Lease,
    now: DateTime<Utc>,
    outcome: Result<&str, &str>,
) -> Result<Release, DbError> {
    let status: String = match outcome {
        Ok(s) | Err(s) => s.chars().take(STATUS_MAX_CHARS).collect(),
    };
    let stamp = format_datetime(now);
    let done = db.execute(
        "UPDATE prozessstarter SET mutex = 0, mutexcounter = 0, letzteausfuerhung = ?, \
         status = ?, status_zeit = ? WHERE id = ? AND mutex = 1 AND status = ?",
        &[
            stamp.as_str().into(),
            status.into(),
            stamp.as_str().into(),
            lease.starter_id.into(),
            lease.status.as_str().into(),
        ],
    )?;
    if done.rows_affected == 1 {
        return Ok(Release::Released);
    }
    tracing::warn!(
        starter = lease.starter_id,
        "the lock was taken over as stale while the job ran; left to its new holder"
    );
    Ok(Release::TakenOver)
}

/// Sets a starter's period (minutes, stored as text as xentral does) and whether it is
/// switched on, as xentral's process-starter page saves them; its lock and last run are left
/// alone. Returns whether a row with `id` exists.
pub fn set_schedule(
    db: &mut dyn Database,
    id: i64,
    period_minutes: u32,
    aktiv: bool,
) -> Result<bool, DbError> {
    if get(db, id)?.is_none() {
        return Ok(false);
    }
    db.execute(
        "UPDATE prozessstarter SET periode = ?, aktiv = ? WHERE id = ?",
        &[period_minutes.to_string().into(), aktiv.into(), id.into()],
    )?;
    Ok(true)
}

/// Makes sure a periodic cronjob starter with this `parameter` exists, creating it as xentral's
/// `CheckProzessstarter` does (never run, unlocked); an existing one is left as it is.
/// Returns its id and whether it was created. One INSERT … SELECT … WHERE NOT EXISTS, so
/// concurrent callers on SQLite create it once.
pub fn ensure_starter(
    db: &mut dyn Database,
    bezeichnung: &str,
    parameter: &str,
    periode_minutes: u32,
    aktiv: bool,
) -> Result<(i64, bool), DbError> {
    let inserted = db.execute(
        "INSERT INTO prozessstarter (bezeichnung, bedingung, art, startzeit, letzteausfuerhung, \
         periode, typ, parameter, aktiv, mutex, mutexcounter, firma, art_filter, status, \
         recommended_period) \
         SELECT ?, '', 'periodisch', ?, ?, ?, 'cronjob', ?, ?, 0, 0, 1, '', '', ? \
         FROM (SELECT 1 AS one) AS single_row \
         WHERE NOT EXISTS (SELECT 1 FROM prozessstarter WHERE parameter = ?)",
        &[
            bezeichnung.into(),
            ZERO_DATETIME.into(),
            ZERO_DATETIME.into(),
            periode_minutes.to_string().into(),
            parameter.into(),
            aktiv.into(),
            periode_minutes.into(),
            parameter.into(),
        ],
    )?;
    if inserted.rows_affected == 1 {
        return Ok((inserted.last_insert_id, true));
    }
    let existing = find_by_parameter(db, parameter)?
        .ok_or_else(|| DbError::Invalid(format!("prozessstarter `{parameter}` vanished")))?;
    Ok((existing.id, false))
}
