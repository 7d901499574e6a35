//! Fakes of the platform traits for native unit tests of the sync core.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use crate::platform::{Clock, Http, HttpError, Level, Log, Request, Response};

/// A virtual clock: sleeping advances it.
pub struct FakeClock {
    now: Cell<i64>,
}

impl FakeClock {
    /// Starts at `ms`.
    pub fn new(ms: i64) -> Self {
        FakeClock { now: Cell::new(ms) }
    }

    /// The current time.
    pub fn now(&self) -> i64 {
        self.now.get()
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.now.get()
    }
    fn sleep_ms(&self, ms: u64) {
        self.now.set(self.now.get() + ms as i64);
    }
    fn time_zone(&self) -> String {
        "Europe/Berlin".into()
    }
}

/// Canned HTTP responses, recorded requests.
pub struct FakeHttp {
    replies: VecDeque<Response>,
    always: Option<Response>,
    /// Requests seen.
    pub requests: RefCell<Vec<Request>>,
}

impl FakeHttp {
    /// Replies in order.
    pub fn new(replies: Vec<Response>) -> Self {
        FakeHttp {
            replies: replies.into(),
            always: None,
            requests: RefCell::new(Vec::new()),
        }
    }

    /// The same reply every time.
    pub fn always(reply: Response) -> Self {
        FakeHttp {
            replies: VecDeque::new(),
            always: Some(reply),
            requests: RefCell::new(Vec::new()),
        }
    }
}

impl Http for FakeHttp {
    fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        self.requests.borrow_mut().push(request);
        self.replies
            .pop_front()
            .or_else(|| self.always.clone())
            .ok_or_else(|| HttpError::Transport("no reply scripted".into()))
    }
}

/// A log that drops everything.
pub struct NullLog;

impl Log for NullLog {
    fn log(&self, _level: Level, _message: &str, _fields: &[(&str, &str)]) {}
}
