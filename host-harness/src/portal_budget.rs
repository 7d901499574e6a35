//! One HubSpot rate budget per portal, shared by every job and every process that calls it.
//!
//! HubSpot counts requests per portal (and app), not per job: two jobs of one tenant running
//! at once (`run sync-contacts` beside `run sync-deals`, or two schedulers), each pacing
//! itself under the limit, exceed it together. The host therefore admits every request to the
//! tenant's HubSpot origin through this budget before it is sent. It lives in the tenant
//! database, the one place all processes of a tenant share: a sliding-window log of request
//! times per bucket (the ten-second window, and search's one second), claimed under a row
//! lock taken by an `UPDATE`, so the database itself serialises concurrent claims. The
//! plugin's own pacing stays the first line; this is the one that holds across jobs. The
//! tables are the host's (`xentral_host_rate_*`): the plugin's grant does not reach them.

use std::sync::Mutex;
use std::time::Instant;

use sha2::{Digest, Sha256};
use xentral_erp::{Database, DbError, Value};

use crate::clock::SharedClock;

/// Which of HubSpot's limits a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Every request but search: a rolling window (100 or 190 per 10 s).
    General,
    /// CRM search: about 5 per second per account.
    Search,
}

impl Bucket {
    /// The bucket of a request path.
    pub fn of_path(path: &str) -> Bucket {
        if path.ends_with("/search") {
            Bucket::Search
        } else {
            Bucket::General
        }
    }

    fn name(self) -> &'static str {
        match self {
            Bucket::General => "general",
            Bucket::Search => "search",
        }
    }
}

/// Search requests admitted per second (HubSpot's documented limit).
pub const SEARCH_PER_SECOND: u32 = 5;

/// Why a request was not admitted.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    /// Waiting for a slot would pass the job's deadline; nothing was sent.
    #[error("the portal's rate budget has no slot before the job's deadline")]
    Deadline,
    /// The shared budget could not be read or written.
    #[error("the portal's rate budget: {0}")]
    Database(#[from] DbError),
}

/// Opens the admin connection of the tenant database the budget lives in.
pub type Opener = Box<dyn FnOnce() -> Result<Box<dyn Database>, DbError> + Send>;

/// The budget's connection: opened on the first request it governs (a job that sends none,
/// such as the save hook, never opens it), or unavailable.
enum Connection {
    Unopened(Opener),
    Open(Box<dyn Database>),
    Unavailable,
}

/// The budget of one portal, as one job sees it.
pub struct PortalBudget {
    db: Mutex<Connection>,
    portal: String,
    clock: SharedClock,
    /// Requests per window and the window (ms), adopted from HubSpot's headers.
    general: Mutex<(u32, i64)>,
}

impl PortalBudget {
    /// The budget of the portal reached at `origin` with `token`, kept in the database `open`
    /// connects to (an admin connection of the tenant database), opened when first needed.
    /// The key is the origin and a fingerprint of the token (never the token).
    pub fn new(open: Opener, origin: &str, token: &str, clock: SharedClock) -> PortalBudget {
        let fingerprint = hex::encode(&Sha256::digest(token.as_bytes())[..8]);
        PortalBudget {
            db: Mutex::new(Connection::Unopened(open)),
            portal: format!("{origin} {fingerprint}"),
            clock,
            general: Mutex::new((100, 10_000)),
        }
    }

    /// Connects and makes sure the budget's tables and this portal's lock rows exist.
    fn connect(open: Opener, portal: &str) -> Result<Box<dyn Database>, DbError> {
        let mut db = open()?;
        for sql in [
            "CREATE TABLE IF NOT EXISTS xentral_host_rate_locks (portal VARCHAR(190) NOT NULL, bucket VARCHAR(16) NOT NULL, claims BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (portal, bucket))",
            "CREATE TABLE IF NOT EXISTS xentral_host_rate_slots (portal VARCHAR(190) NOT NULL, bucket VARCHAR(16) NOT NULL, at_ms BIGINT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS xentral_host_rate_slots_key ON xentral_host_rate_slots (portal, bucket, at_ms)",
        ] {
            db.execute(sql, &[])?;
        }
        for bucket in [Bucket::General, Bucket::Search] {
            let exists = !db
                .query(
                    "SELECT 1 FROM xentral_host_rate_locks WHERE portal = ? AND bucket = ?",
                    &[Value::from(portal), Value::from(bucket.name())],
                )?
                .is_empty();
            if !exists {
                // Another process may insert it at the same moment: its row serves as well.
                match db.execute(
                    "INSERT INTO xentral_host_rate_locks (portal, bucket) VALUES (?, ?)",
                    &[Value::from(portal), Value::from(bucket.name())],
                ) {
                    Ok(_) | Err(DbError::Constraint(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(db)
    }

    /// Adopts the portal's limits from a reply's headers (`x-hubspot-ratelimit-max`,
    /// `-interval-milliseconds`: 190 on higher tiers).
    pub fn learn(&self, headers: &[(String, String)]) {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.trim().parse::<i64>().ok())
                .filter(|v| *v > 0)
        };
        let mut general = self.general.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(max) = header("x-hubspot-ratelimit-max") {
            general.0 = u32::try_from(max).unwrap_or(u32::MAX);
        }
        if let Some(window) = header("x-hubspot-ratelimit-interval-milliseconds") {
            general.1 = window;
        }
    }

    /// Waits until a request of `bucket` fits the portal's budget and claims its slot.
    /// Refuses when the wait would pass `deadline`.
    pub fn acquire(&self, bucket: Bucket, deadline: Option<Instant>) -> Result<(), BudgetError> {
        let (max, window) = match bucket {
            Bucket::General => *self.general.lock().unwrap_or_else(|e| e.into_inner()),
            Bucket::Search => (SEARCH_PER_SECOND, 1_000),
        };
        loop {
            let now = self.clock.now_ms();
            let wait_ms = self.try_claim(bucket, max, window, now)?;
            let Some(wait_ms) = wait_ms else {
                return Ok(());
            };
            if deadline
                .is_some_and(|d| Instant::now() + std::time::Duration::from_millis(wait_ms) > d)
            {
                return Err(BudgetError::Deadline);
            }
            self.clock.sleep_ms(wait_ms);
        }
    }

    /// One claim in one transaction: `None` when a slot was taken (or the budget is
    /// unavailable: a host account that may not create its tables leaves the job paced by
    /// the plugin alone, with a warning), else how long to wait.
    fn try_claim(
        &self,
        bucket: Bucket,
        max: u32,
        window: i64,
        now: i64,
    ) -> Result<Option<u64>, DbError> {
        let mut connection = self.db.lock().unwrap_or_else(|e| e.into_inner());
        if let Connection::Unopened(_) = &*connection {
            let Connection::Unopened(open) =
                std::mem::replace(&mut *connection, Connection::Unavailable)
            else {
                unreachable!("checked above")
            };
            match Self::connect(open, &self.portal) {
                Ok(db) => *connection = Connection::Open(db),
                Err(e) => {
                    tracing::warn!(portal = %self.portal, error = %e, "the portal's shared rate budget is unavailable; this job paces itself only")
                }
            }
        }
        let Connection::Open(db) = &mut *connection else {
            return Ok(None);
        };
        let key = [
            Value::from(self.portal.as_str()),
            Value::from(bucket.name()),
        ];
        // A slot is free a 40th of the window after HubSpot's own rule would free it: HubSpot
        // counts a request when it arrives, a varying delay after this claim, so a claim to
        // the millisecond could land in the previous request's window (a 429).
        let window = window + window / 40;
        db.begin()?;
        let claimed = (|| {
            // The row lock: every claim of this bucket waits here for the one before it.
            db.execute(
                "UPDATE xentral_host_rate_locks SET claims = claims + 1 WHERE portal = ? AND bucket = ?",
                &key,
            )?;
            let mut params = key.to_vec();
            params.push(Value::Integer(now - window));
            db.execute(
                "DELETE FROM xentral_host_rate_slots WHERE portal = ? AND bucket = ? AND at_ms <= ?",
                &params,
            )?;
            let rows = db.query(
                "SELECT COUNT(*), MIN(at_ms) FROM xentral_host_rate_slots WHERE portal = ? AND bucket = ?",
                &key,
            )?;
            let row = rows.rows.first();
            let count = row.and_then(|r| r[0].as_i64()).unwrap_or(0);
            if count < i64::from(max) {
                let mut params = key.to_vec();
                params.push(Value::Integer(now));
                db.execute(
                    "INSERT INTO xentral_host_rate_slots (portal, bucket, at_ms) VALUES (?, ?, ?)",
                    &params,
                )?;
                return Ok(None);
            }
            let oldest = row.and_then(|r| r[1].as_i64()).unwrap_or(now);
            Ok(Some(
                u64::try_from(oldest + window + 1 - now).unwrap_or(1).max(1),
            ))
        })();
        match claimed {
            Ok(wait) => {
                db.commit()?;
                Ok(wait)
            }
            Err(e) => {
                let _ = db.rollback();
                Err(e)
            }
        }
    }
}

impl std::fmt::Debug for PortalBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalBudget")
            .field("portal", &self.portal)
            .finish_non_exhaustive()
    }
}
