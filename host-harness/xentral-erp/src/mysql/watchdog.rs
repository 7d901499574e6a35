//! Stops a connection's statement from outside: a job's deadline, or a result that grew past
//! its cap, ends the statement on the server with `KILL QUERY ID`, sent over a second
//! connection of the same account (a MariaDB user may kill its own threads without any
//! privilege). A wasm deadline cannot interrupt a guest that waits inside a host call; this can.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ::mysql::Conn;
use ::mysql::prelude::Queryable;

use crate::database::{DbError, deadline_passed};
use crate::mysql::MysqlUrl;

/// How often the watchdog looks again after the deadline, for a statement that started in the
/// moment it passed.
const RECHECK: Duration = Duration::from_millis(20);

/// The watchdog of one connection.
pub(crate) struct Watchdog {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    /// The account's URL (with its password), for the killing connection.
    url: MysqlUrl,
    /// The watched connection's id.
    target: u32,
    state: Mutex<State>,
    wake: Condvar,
    /// The second connection, opened when first needed.
    killer: Mutex<Option<Conn>>,
}

#[derive(Default)]
struct State {
    deadline: Option<Instant>,
    /// The statement running now (a sequence number), if any.
    running: Option<u64>,
    next: u64,
    /// Why the running statement was killed, once it was.
    killed: Option<(u64, DbError)>,
    stop: bool,
}

impl Watchdog {
    /// A watchdog for connection `target` of the account `url` names.
    pub(crate) fn new(url: MysqlUrl, target: u32) -> Self {
        Watchdog {
            shared: Arc::new(Shared {
                url,
                target,
                state: Mutex::default(),
                wake: Condvar::new(),
                killer: Mutex::new(None),
            }),
            thread: None,
        }
    }

    /// Sets the deadline; the watcher thread starts with the first one.
    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.shared.lock().deadline = deadline;
        self.shared.wake.notify_all();
        if deadline.is_some() && self.thread.is_none() {
            let shared = Arc::clone(&self.shared);
            self.thread = std::thread::Builder::new()
                .name("mariadb-watchdog".into())
                .spawn(move || shared.watch())
                .ok();
        }
    }

    /// Marks a statement as running; refused once the deadline has passed.
    pub(crate) fn begin(&self) -> Result<(), DbError> {
        let mut state = self.shared.lock();
        if state.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(deadline_passed());
        }
        state.next += 1;
        state.running = Some(state.next);
        state.killed = None;
        Ok(())
    }

    /// Marks the statement as finished; returns why it was killed, if it was.
    pub(crate) fn end(&self) -> Option<DbError> {
        let mut state = self.shared.lock();
        let running = state.running.take();
        match state.killed.take() {
            Some((seq, reason)) if Some(seq) == running => Some(reason),
            _ => None,
        }
    }

    /// Kills the running statement now, for `reason` (its result grew past a cap).
    pub(crate) fn kill_now(&self, reason: DbError) {
        let seq = self.shared.lock().running;
        if let Some(seq) = seq {
            self.shared.kill(seq, reason);
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The watcher thread: sleeps until the deadline, then kills whatever statement runs.
    fn watch(&self) {
        let mut state = self.lock();
        loop {
            if state.stop {
                return;
            }
            let now = Instant::now();
            let wait = match state.deadline {
                None => None,
                Some(d) if now < d => Some(d - now),
                Some(_) => {
                    let victim = state
                        .running
                        .filter(|seq| state.killed.as_ref().is_none_or(|(k, _)| k != seq));
                    if let Some(seq) = victim {
                        drop(state);
                        self.kill(seq, deadline_passed());
                        state = self.lock();
                    }
                    Some(RECHECK)
                }
            };
            state = match wait {
                None => self.wake.wait(state).unwrap_or_else(|e| e.into_inner()),
                Some(w) => {
                    self.wake
                        .wait_timeout(state, w)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Ends statement `seq` on the server, if it is still the one running, and records why.
    fn kill(&self, seq: u64, reason: DbError) {
        self.lock().killed = Some((seq, reason));
        let mut killer = self.killer.lock().unwrap_or_else(|e| e.into_inner());
        if killer.is_none() {
            match Conn::new(self.url.opts()) {
                Ok(conn) => *killer = Some(conn),
                Err(e) => {
                    tracing::warn!(error = %e, "the MariaDB watchdog could not connect");
                    return;
                }
            }
        }
        let Some(conn) = killer.as_mut() else { return };
        // The query id, not the connection: if the statement ended meanwhile, a later one of
        // the same connection is never hit.
        let query: Result<Option<u64>, _> = conn.exec_first(
            "SELECT QUERY_ID FROM information_schema.PROCESSLIST WHERE ID = ? AND COMMAND IN ('Query', 'Execute')",
            (self.target,),
        );
        match query {
            Ok(Some(query_id)) if self.lock().running == Some(seq) => {
                if let Err(e) = conn.query_drop(format!("KILL QUERY ID {query_id}")) {
                    tracing::warn!(error = %e, "the MariaDB watchdog could not stop a statement");
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "the MariaDB watchdog could not read the process list");
                *killer = None;
            }
        }
    }
}
