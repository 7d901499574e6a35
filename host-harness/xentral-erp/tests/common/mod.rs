//! Shared helpers: a virtual clock and ready-made databases.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDateTime, Utc};
use xentral_erp::{NowFn, SqliteDatabase, TableGrant};

/// A clock tests move by hand.
#[derive(Clone)]
pub struct Clock(Arc<AtomicI64>);

impl Clock {
    /// A clock standing at `'YYYY-MM-DD HH:MM:SS'` UTC.
    pub fn at(text: &str) -> Self {
        let clock = Self(Arc::default());
        clock.set(text);
        clock
    }

    pub fn set(&self, text: &str) {
        let t = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
        self.0
            .store(t.and_utc().timestamp_millis(), Ordering::SeqCst);
    }

    pub fn advance_minutes(&self, minutes: i64) {
        self.0.fetch_add(minutes * 60_000, Ordering::SeqCst);
    }

    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0.load(Ordering::SeqCst)).unwrap()
    }

    pub fn now_fn(&self) -> NowFn {
        let inner = Arc::clone(&self.0);
        Arc::new(move || inner.load(Ordering::SeqCst))
    }
}

/// A migrated in-memory database on `clock`, without a grant (the host's view).
pub fn host_db(clock: &Clock) -> SqliteDatabase {
    let db = SqliteDatabase::open_in_memory(clock.now_fn()).unwrap();
    db.migrate().unwrap();
    db
}

/// A migrated in-memory database with a xentral table outside the plugin grant (`user`),
/// then fenced by the plugin's default grant.
pub fn plugin_db(clock: &Clock) -> SqliteDatabase {
    let db = host_db(clock);
    db.connection()
        .execute_batch(
            "CREATE TABLE user (id INTEGER PRIMARY KEY, username TEXT, passwort TEXT);
             INSERT INTO user (username, passwort) VALUES ('admin', 'secret');",
        )
        .unwrap();
    db.with_grant(TableGrant::hubspot_plugin_for_tests())
}
