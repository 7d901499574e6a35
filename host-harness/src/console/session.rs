//! Sessions and their CSRF tokens. A session id is 256 bits from a CSPRNG, sent only in an
//! `HttpOnly; SameSite=Strict` cookie (`Secure` and `__Host-` under TLS) and kept here only as
//! its SHA-256, so the store's lookups reveal nothing about live ids. Every session, the
//! anonymous one a login form starts too, has its own CSRF token, checked in constant time on
//! every POST. Logging in replaces the session (a fixed id is worthless); a session ends after
//! [`IDLE_MS`] without a request, after [`LIFETIME_MS`] in any case, on logout, and when the
//! administrator password changes.

use std::collections::HashMap;
use std::sync::Mutex;

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clock::SharedClock;

/// A session ends after this long without a request: 30 minutes.
pub const IDLE_MS: i64 = 30 * 60 * 1000;

/// A session ends this long after the login in any case: 12 hours.
pub const LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;

/// The most anonymous sessions (open login forms) kept; beyond, the oldest are dropped, so
/// a flood of login-page requests cannot fill the memory.
const MAX_ANONYMOUS: usize = 10_000;

/// What a page shows once after an action (post, redirect, get): the outcome for one tenant's
/// page, so it never appears on another tenant's.
#[derive(Debug, Clone)]
pub struct Flash<T> {
    /// The tenant whose page shows it.
    pub tenant: String,
    /// What to show.
    pub content: T,
}

/// A session's state.
#[derive(Debug)]
struct Session<T> {
    csrf: String,
    /// The password's fingerprint when the administrator logged in; `None`: not logged in.
    admin: Option<[u8; 32]>,
    created_ms: i64,
    last_seen_ms: i64,
    flash: Option<Flash<T>>,
}

/// A session as a request sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    /// The CSRF token its forms carry.
    pub csrf: String,
    /// The password fingerprint of its login, if logged in.
    pub admin: Option<[u8; 32]>,
}

impl SessionView {
    /// Whether `token` is this session's CSRF token (constant-time).
    pub fn csrf_matches(&self, token: &str) -> bool {
        self.csrf.as_bytes().ct_eq(token.as_bytes()).into()
    }
}

/// The live sessions; `T` is what a flash holds.
pub struct Sessions<T> {
    clock: SharedClock,
    live: Mutex<HashMap<[u8; 32], Session<T>>>,
}

/// 32 random bytes from the thread's CSPRNG (ChaCha, seeded and reseeded from the operating
/// system), as 64 hex digits.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl<T: Clone> Sessions<T> {
    /// No sessions yet; time by `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Sessions {
            clock,
            live: Mutex::new(HashMap::new()),
        }
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session<T>>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn insert(&self, admin: Option<[u8; 32]>) -> (String, SessionView) {
        let now = self.clock.now_ms();
        let id = random_token();
        let csrf = random_token();
        let mut live = self.live();
        live.retain(|_, s| alive(s, now));
        if admin.is_none() {
            let mut anonymous: Vec<([u8; 32], i64)> = live
                .iter()
                .filter(|(_, s)| s.admin.is_none())
                .map(|(k, s)| (*k, s.last_seen_ms))
                .collect();
            if anonymous.len() >= MAX_ANONYMOUS {
                anonymous.sort_by_key(|(_, seen)| *seen);
                for (k, _) in &anonymous[..=anonymous.len() - MAX_ANONYMOUS] {
                    live.remove(k);
                }
            }
        }
        live.insert(
            key(&id),
            Session {
                csrf: csrf.clone(),
                admin,
                created_ms: now,
                last_seen_ms: now,
                flash: None,
            },
        );
        (id, SessionView { csrf, admin })
    }

    /// A new anonymous session (for a login form): its id and view.
    pub fn start(&self) -> (String, SessionView) {
        self.insert(None)
    }

    /// The live session `id`, its idle time reset; `None` if there is none or it ended.
    pub fn get(&self, id: &str) -> Option<SessionView> {
        let now = self.clock.now_ms();
        let mut live = self.live();
        let k = key(id);
        let session = live.get_mut(&k)?;
        if !alive(session, now) {
            live.remove(&k);
            return None;
        }
        session.last_seen_ms = now;
        Some(SessionView {
            csrf: session.csrf.clone(),
            admin: session.admin,
        })
    }

    /// Logs the administrator in: `old` (the login form's session) ends and a new session
    /// with a new id and CSRF token begins, remembering the password's `fingerprint`.
    pub fn log_in(&self, old: Option<&str>, fingerprint: [u8; 32]) -> (String, SessionView) {
        if let Some(old) = old {
            self.end(old);
        }
        self.insert(Some(fingerprint))
    }

    /// Ends session `id`.
    pub fn end(&self, id: &str) {
        self.live().remove(&key(id));
    }

    /// Keeps `flash` for the next page of session `id`.
    pub fn set_flash(&self, id: &str, flash: Flash<T>) {
        if let Some(s) = self.live().get_mut(&key(id)) {
            s.flash = Some(flash);
        }
    }

    /// Takes the flash of session `id` if it is for `tenant`'s page and `wanted` accepts it;
    /// one for another page is dropped, so it never shows up later out of place.
    pub fn take_flash(&self, id: &str, tenant: &str, wanted: impl FnOnce(&T) -> bool) -> Option<T> {
        let flash = self.live().get_mut(&key(id))?.flash.take()?;
        (flash.tenant == tenant && wanted(&flash.content)).then_some(flash.content)
    }
}

fn alive<T>(s: &Session<T>, now: i64) -> bool {
    now - s.last_seen_ms < IDLE_MS && (s.admin.is_none() || now - s.created_ms < LIFETIME_MS)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::VirtualClock;

    fn sessions() -> (Arc<VirtualClock>, Sessions<String>) {
        let clock = Arc::new(VirtualClock::new(1_000_000));
        (clock.clone(), Sessions::new(clock))
    }

    #[test]
    fn ids_and_tokens_are_256_random_bits_and_differ() {
        let (_, s) = sessions();
        let (a, va) = s.start();
        let (b, vb) = s.start();
        assert_eq!((a.len(), va.csrf.len()), (64, 64));
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_ne!(va.csrf, vb.csrf);
        assert_ne!(a, va.csrf);
    }

    #[test]
    fn logging_in_replaces_the_session_and_its_token() {
        let (_, s) = sessions();
        let (anon, view) = s.start();
        let (admin, admin_view) = s.log_in(Some(&anon), [7; 32]);
        assert_eq!(s.get(&anon), None, "the login form's id is worthless now");
        assert_ne!(admin_view.csrf, view.csrf);
        assert_eq!(s.get(&admin).unwrap().admin, Some([7; 32]));
    }

    #[test]
    fn csrf_tokens_compare_whole() {
        let (_, s) = sessions();
        let (_, view) = s.start();
        assert!(view.csrf_matches(&view.csrf.clone()));
        assert!(!view.csrf_matches(&view.csrf[..63]));
        assert!(!view.csrf_matches(""));
    }

    #[test]
    fn an_idle_session_ends_and_a_busy_one_ends_after_its_lifetime() {
        let (clock, s) = sessions();
        let (idle, _) = s.log_in(None, [1; 32]);
        clock.advance_ms(IDLE_MS - 1);
        assert!(s.get(&idle).is_some(), "used just before the idle limit");
        clock.advance_ms(IDLE_MS);
        assert!(s.get(&idle).is_none(), "idle too long");

        let (busy, _) = s.log_in(None, [1; 32]);
        for _ in 0..(LIFETIME_MS / (IDLE_MS / 2)) - 1 {
            clock.advance_ms(IDLE_MS / 2);
            assert!(s.get(&busy).is_some());
        }
        clock.advance_ms(IDLE_MS / 2);
        assert!(s.get(&busy).is_none(), "past its lifetime");
    }

    #[test]
    fn a_flash_shows_on_its_tenants_page_only_and_only_once() {
        let (_, s) = sessions();
        let (id, _) = s.log_in(None, [1; 32]);
        s.set_flash(
            &id,
            Flash {
                tenant: "acme".into(),
                content: "saved".to_owned(),
            },
        );
        assert_eq!(s.take_flash(&id, "other", |_| true), None);
        assert_eq!(
            s.take_flash(&id, "acme", |_| true),
            None,
            "dropped when shown elsewhere"
        );
        s.set_flash(
            &id,
            Flash {
                tenant: "acme".into(),
                content: "saved".to_owned(),
            },
        );
        assert_eq!(
            s.take_flash(&id, "acme", |_| true).as_deref(),
            Some("saved")
        );
        assert_eq!(s.take_flash(&id, "acme", |_| true), None);
    }

    #[test]
    fn open_login_forms_are_bounded() {
        let (_, s) = sessions();
        let (admin, _) = s.log_in(None, [1; 32]);
        for _ in 0..MAX_ANONYMOUS + 5 {
            s.start();
        }
        assert_eq!(s.live().len(), MAX_ANONYMOUS + 1);
        assert!(
            s.get(&admin).is_some(),
            "a logged-in session is never dropped for them"
        );
    }
}
