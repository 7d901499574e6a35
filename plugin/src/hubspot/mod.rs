//! A HubSpot API client over the host's HTTP: credential by name, pacing under HubSpot's rate
//! limits, retries with jittered back-off, the job budget, call accounting, and classification
//! of HubSpot's replies. Every call it makes is idempotent (reads, search, upsert by a unique
//! property, update by id), so retrying after a dropped connection cannot duplicate anything.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Value as Json, json};

use crate::api::Budget;
use crate::platform::{Clock, Http, HttpError, Level, Log, Method, Request, Response};

mod version;
pub mod wire;

pub use version::ApiVersion;

/// A failed HubSpot call, classified by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 401: the token was rejected.
    Unauthorized(String),
    /// 403: a scope is missing (the message names it when HubSpot does).
    MissingScopes(String),
    /// 429 with its policy (`TEN_SECONDLY_ROLLING`, `SECONDLY`, `DAILY`).
    RateLimited {
        /// The policy HubSpot named.
        policy: String,
    },
    /// 5xx: transient; retried with back-off.
    Server(u16),
    /// Another 4xx: the request itself is wrong (validation, conflict, not found).
    Client {
        /// Status code.
        status: u16,
        /// HubSpot's `category`.
        category: String,
        /// HubSpot's `message`.
        message: String,
    },
    /// No usable response; the request may have been applied.
    Transport(HttpError),
    /// A 2xx reply whose body is not the JSON expected.
    Malformed(String),
    /// The job's budget (requests or deadline) is used up; nothing was sent.
    Budget(String),
}

impl ApiError {
    /// Whether retrying soon may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Server(_) | ApiError::Malformed(_) => true,
            ApiError::RateLimited { policy } => policy != "DAILY",
            ApiError::Transport(e) => matches!(e, HttpError::Timeout | HttpError::Transport(_)),
            _ => false,
        }
    }

    /// Whether HubSpot refused the record itself for a reason sending it again unchanged
    /// cannot cure (a validation rule, a required property, an invalid value): it waits for a
    /// change of the record instead of a back-off.
    pub fn refuses_record(&self) -> bool {
        match self {
            ApiError::Client {
                status, category, ..
            } => category == "VALIDATION_ERROR" || matches!(status, 400 | 422),
            _ => false,
        }
    }

    /// Whether the job must stop now and continue in a later run (budget, daily limit).
    pub fn stops_job(&self) -> bool {
        matches!(self, ApiError::Budget(_))
            || matches!(self, ApiError::RateLimited { policy } if policy == "DAILY")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unauthorized(m) => write!(f, "HubSpot rejected the access token ({m})"),
            ApiError::MissingScopes(m) => write!(f, "the access token lacks a scope: {m}"),
            ApiError::RateLimited { policy } => write!(f, "HubSpot rate limit reached ({policy})"),
            ApiError::Server(s) => write!(f, "HubSpot server error {s}"),
            ApiError::Client {
                status,
                category,
                message,
            } => write!(
                f,
                "HubSpot refused the request ({status} {category}): {message}"
            ),
            ApiError::Transport(e) => write!(f, "HubSpot unreachable: {e}"),
            ApiError::Malformed(m) => write!(f, "HubSpot sent an unreadable reply: {m}"),
            ApiError::Budget(m) => write!(f, "job budget used up: {m}"),
        }
    }
}

/// Which rate-limit bucket a call draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    General,
    Search,
}

/// The bucket of a call to `endpoint`: searches have their own limit.
fn bucket_of(endpoint: &str) -> Bucket {
    if endpoint.ends_with("/search") {
        Bucket::Search
    } else {
        Bucket::General
    }
}

/// HubSpot's published limits for private apps, adjusted from response headers.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Requests per rolling window (100 on Free/Starter, 190 on Professional/Enterprise).
    pub general_max: u32,
    /// The window in milliseconds.
    pub general_window_ms: i64,
    /// Search requests per second.
    pub search_per_second: u32,
    /// Attempts per call before giving up on transient failures.
    pub max_attempts: u32,
    /// Waits on a per-second or ten-second 429 before the job stops with its work pending
    /// (other jobs of the portal may hold the budget for a while); the job's deadline ends
    /// waiting earlier.
    pub max_rate_limit_waits: u32,
    /// First back-off delay; doubled per attempt, with jitter.
    pub backoff_ms: u64,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            general_max: 100,
            general_window_ms: 10_000,
            search_per_second: 5,
            max_attempts: 6,
            max_rate_limit_waits: 60,
            backoff_ms: 1_000,
        }
    }
}

/// One CRM record as HubSpot returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The numeric id as a string.
    pub id: String,
    /// Property values (`None` for null).
    pub properties: BTreeMap<String, Option<String>>,
}

impl Record {
    /// A property's value, `""` when null or missing.
    pub fn prop(&self, name: &str) -> &str {
        self.properties
            .get(name)
            .and_then(Option::as_deref)
            .unwrap_or("")
    }
}

impl From<wire::RecordReply> for Record {
    fn from(r: wire::RecordReply) -> Self {
        Record {
            id: r.id.0,
            properties: r.properties,
        }
    }
}

/// One page of search results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// Total matches of the query.
    pub total: u64,
    /// The records of this page.
    pub results: Vec<Record>,
    /// The cursor of the next page, absent on the last.
    pub next_after: Option<String>,
}

impl From<wire::SearchReply> for SearchPage {
    fn from(reply: wire::SearchReply) -> Self {
        SearchPage {
            total: reply.total,
            results: reply.results.into_iter().map(Record::from).collect(),
            next_after: reply.paging.and_then(|p| p.next).map(|n| n.after.0),
        }
    }
}

/// The outcome of a batch write: the records written and the per-input errors.
#[derive(Debug, Clone, Default)]
pub struct BatchOutcome {
    /// Records HubSpot returned (with `new` for upserts).
    pub results: Vec<(Record, Option<bool>)>,
    /// HubSpot's errors for inputs it did not apply.
    pub errors: Vec<wire::BatchError>,
}

/// Calls HubSpot for one job.
pub struct Client<'a> {
    http: &'a mut dyn Http,
    clock: &'a dyn Clock,
    log: &'a dyn Log,
    base_url: String,
    credential: String,
    version: ApiVersion,
    limits: RateLimits,
    budget: Budget,
    calls: BTreeMap<String, u32>,
    total_calls: u32,
    general: VecDeque<i64>,
    search: VecDeque<i64>,
    rng: u64,
    /// HubSpot's time from the `Date` header of the latest reply, with our time then.
    hubspot_time: Option<(i64, i64)>,
}

impl<'a> Client<'a> {
    /// A client for `base_url` speaking `version`, authenticating with the named host secret.
    pub fn new(
        http: &'a mut dyn Http,
        clock: &'a dyn Clock,
        log: &'a dyn Log,
        base_url: &str,
        credential: &str,
        version: ApiVersion,
        budget: Budget,
    ) -> Self {
        let seed = clock.now_ms() as u64 ^ 0x9e37_79b9_7f4a_7c15;
        Client {
            http,
            clock,
            log,
            base_url: base_url.trim_end_matches('/').to_owned(),
            credential: credential.to_owned(),
            version,
            limits: RateLimits::default(),
            budget,
            calls: BTreeMap::new(),
            total_calls: 0,
            general: VecDeque::new(),
            search: VecDeque::new(),
            rng: seed | 1,
            hubspot_time: None,
        }
    }

    /// The API version every path is built for.
    pub fn version(&self) -> ApiVersion {
        self.version
    }

    /// Calls made so far, by endpoint.
    pub fn calls(&self) -> &BTreeMap<String, u32> {
        &self.calls
    }

    /// Total calls made so far.
    pub fn total_calls(&self) -> u32 {
        self.total_calls
    }

    /// Whether the budget allows another call.
    pub fn budget_left(&self) -> Result<(), ApiError> {
        if let Some(max) = self.budget.max_requests
            && self.total_calls >= max
        {
            return Err(ApiError::Budget(format!("{max} requests")));
        }
        if let Some(deadline) = self.budget.deadline_ms
            && self.clock.now_ms() >= deadline
        {
            return Err(ApiError::Budget("deadline reached".into()));
        }
        Ok(())
    }

    /// GETs a path and decodes the reply.
    pub fn get<T: DeserializeOwned>(&mut self, path: &str, endpoint: &str) -> Result<T, ApiError> {
        decode(self.call(Method::Get, path, endpoint, None)?)
    }

    /// POSTs `body` to a path and decodes the reply.
    pub fn post<T: DeserializeOwned>(
        &mut self,
        path: &str,
        endpoint: &str,
        body: &Json,
    ) -> Result<T, ApiError> {
        decode(self.call(Method::Post, path, endpoint, Some(body))?)
    }

    /// Searches `object` (`contacts`, `deals`) with a search body.
    pub fn search(&mut self, object: &str, body: &Json) -> Result<SearchPage, ApiError> {
        let path = self.version.search(object);
        let reply: wire::SearchReply = self.post(&path, &path, body)?;
        Ok(SearchPage::from(reply))
    }

    /// A batch operation (`read`, `update`, `upsert`, `create`, `archive`) on `object`.
    /// A 207 is not an error: the per-input errors are returned with the results.
    pub fn batch(
        &mut self,
        object: &str,
        operation: &str,
        inputs: Vec<Json>,
        extra: Option<(&str, Json)>,
    ) -> Result<BatchOutcome, ApiError> {
        let path = self.version.batch(object, operation);
        let mut body = json!({ "inputs": inputs });
        if let Some((k, v)) = extra {
            body[k] = v;
        }
        batch_outcome(self.call(Method::Post, &path, &path, Some(&body))?)
    }

    /// A batch read of archived records only (`?archived=true`): those of `ids` HubSpot
    /// keeps archived (restorable), with `properties`.
    pub fn batch_read_archived(
        &mut self,
        object: &str,
        ids: &[String],
        properties: &[&str],
    ) -> Result<BatchOutcome, ApiError> {
        let path = self.version.batch(object, "read");
        let inputs: Vec<Json> = ids.iter().map(|id| json!({ "id": id })).collect();
        let body = json!({ "inputs": inputs, "properties": properties });
        batch_outcome(self.call(
            Method::Post,
            &format!("{path}?archived=true"),
            &path,
            Some(&body),
        )?)
    }

    /// Several searches of `object` at once (independent key ranges of one read): paced and
    /// counted one by one, sent together, each retried on its own as [`Client::search`]
    /// retries. The results are in the order of `bodies`; once the budget is used up, the
    /// rest are not sent.
    pub fn search_all(
        &mut self,
        object: &str,
        bodies: &[Json],
    ) -> Vec<Result<SearchPage, ApiError>> {
        let path = self.version.search(object);
        let calls: Vec<(String, Json)> = bodies.iter().map(|b| (path.clone(), b.clone())).collect();
        self.post_all(&calls)
            .into_iter()
            .map(|r| {
                r.and_then(decode::<wire::SearchReply>)
                    .map(SearchPage::from)
            })
            .collect()
    }

    /// Several batches of one operation on `object` at once, each `inputs` with the same
    /// `extra`: paced and counted one by one, then sent together (the host has several in
    /// flight), so a portal's latency is paid once per group. A batch whose reply is a
    /// transient failure (a 429, a 5xx, a dropped connection) is then retried on its own as
    /// [`Client::batch`] retries; once the budget is used up, the rest are not sent. The
    /// results are in the order of `batches`. Only for operations safe to send again
    /// (`read`, `update`, `upsert` by a unique property).
    pub fn batch_all(
        &mut self,
        object: &str,
        operation: &str,
        batches: Vec<Vec<Json>>,
        extra: Option<(&str, Json)>,
    ) -> Vec<Result<BatchOutcome, ApiError>> {
        let path = self.version.batch(object, operation);
        let calls: Vec<(String, Json)> = batches
            .into_iter()
            .map(|inputs| {
                let mut body = json!({ "inputs": inputs });
                if let Some((k, v)) = &extra {
                    body[*k] = v.clone();
                }
                (path.clone(), body)
            })
            .collect();
        self.post_all(&calls)
            .into_iter()
            .map(|r| r.and_then(batch_outcome))
            .collect()
    }

    /// POSTs each body to its path, all together (see [`Client::batch_all`]): the replies
    /// in order, a transient failure retried on its own, what the budget left unsent
    /// refused. Only for calls safe to send again (reads, searches, idempotent writes).
    pub fn post_all(&mut self, calls: &[(String, Json)]) -> Vec<Result<Json, ApiError>> {
        let mut results: Vec<Option<Result<Json, ApiError>>> = calls.iter().map(|_| None).collect();
        let searches = calls
            .iter()
            .filter(|(p, _)| bucket_of(p) == Bucket::Search)
            .count();
        if searches > 0 {
            self.pace(Bucket::Search, searches);
        }
        if calls.len() > searches {
            self.pace(Bucket::General, calls.len() - searches);
        }
        let mut sent = Vec::new();
        let mut requests = Vec::new();
        for (i, (path, body)) in calls.iter().enumerate() {
            if let Err(e) = self.budget_left() {
                results[i] = Some(Err(e));
                continue;
            }
            requests.push(self.request(Method::Post, path, path, Some(body), bucket_of(path)));
            sent.push(i);
        }
        let replies = self.http.send_all(requests);
        for (i, reply) in sent.into_iter().zip(replies) {
            let (path, body) = &calls[i];
            results[i] = Some(match self.answer(reply) {
                Err(e) => self.retry(e, Method::Post, path, path, Some(body), bucket_of(path)),
                ok => ok,
            });
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(ApiError::Budget("not sent".into()))))
            .collect()
    }

    /// Sends one request (paced, retried, counted) and parses the JSON reply. `endpoint` is
    /// the path template used for accounting.
    pub fn call(
        &mut self,
        method: Method,
        path: &str,
        endpoint: &str,
        body: Option<&Json>,
    ) -> Result<Json, ApiError> {
        self.attempts_after(0, method, path, endpoint, body, bucket_of(endpoint))
    }

    /// Sends a request again until it succeeds or its attempts are used up, after a first
    /// attempt (sent elsewhere, e.g. in a group) failed with `first`.
    fn retry(
        &mut self,
        first: ApiError,
        method: Method,
        path: &str,
        endpoint: &str,
        body: Option<&Json>,
        bucket: Bucket,
    ) -> Result<Json, ApiError> {
        self.after_failure(first, 1, endpoint)?;
        self.attempts_after(1, method, path, endpoint, body, bucket)
    }

    /// Attempts after the first `made` (paced, within the budget) until one succeeds or
    /// [`Client::after_failure`] gives up.
    fn attempts_after(
        &mut self,
        made: u32,
        method: Method,
        path: &str,
        endpoint: &str,
        body: Option<&Json>,
        bucket: Bucket,
    ) -> Result<Json, ApiError> {
        let mut attempt = made;
        loop {
            attempt += 1;
            self.budget_left()?;
            self.pace(bucket, 1);
            match self.send_once(method, path, endpoint, body, bucket) {
                Ok(json) => return Ok(json),
                Err(e) => self.after_failure(e, attempt, endpoint)?,
            }
        }
    }

    /// After attempt `attempt` failed with `e`: waits before the next attempt when one is
    /// due (a short rate limit is waited out, a transient failure backed off), or gives the
    /// error to report.
    fn after_failure(&mut self, e: ApiError, attempt: u32, endpoint: &str) -> Result<(), ApiError> {
        let short_limit = matches!(&e, ApiError::RateLimited { policy } if policy != "DAILY");
        let attempts = if short_limit {
            self.limits.max_rate_limit_waits
        } else {
            self.limits.max_attempts
        };
        match e {
            ApiError::RateLimited { policy } if short_limit && attempt >= attempts => {
                // Never reported as the daily limit: the job stops with its work pending.
                Err(ApiError::Budget(format!(
                    "HubSpot's {policy} rate limit stayed exceeded for {attempt} attempts (other jobs on this portal?)"
                )))
            }
            e if attempt < attempts && e.is_transient() => {
                let wait = match &e {
                    // Jittered, so jobs sharing the portal do not retry in lockstep.
                    ApiError::RateLimited { policy } if policy == "SECONDLY" => {
                        1_000 + self.jitter(500)
                    }
                    ApiError::RateLimited { .. } => {
                        self.limits.general_window_ms as u64 + self.jitter(1_000)
                    }
                    _ => self.backoff(attempt),
                };
                self.log.log(
                    Level::Warn,
                    "retrying a HubSpot call",
                    &[
                        ("endpoint", endpoint),
                        ("error", &e.to_string()),
                        ("wait_ms", &wait.to_string()),
                    ],
                );
                self.clock.sleep_ms(wait);
                Ok(())
            }
            e => Err(e),
        }
    }

    fn send_once(
        &mut self,
        method: Method,
        path: &str,
        endpoint: &str,
        body: Option<&Json>,
        bucket: Bucket,
    ) -> Result<Json, ApiError> {
        let request = self.request(method, path, endpoint, body, bucket);
        let reply = self.http.send(request);
        self.answer(reply)
    }

    /// Builds one request and counts it as sent (by endpoint, in the budget and in the rate
    /// window of `bucket`).
    fn request(
        &mut self,
        method: Method,
        path: &str,
        endpoint: &str,
        body: Option<&Json>,
        bucket: Bucket,
    ) -> Request {
        let mut headers = vec![("accept".to_owned(), "application/json".to_owned())];
        if body.is_some() {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        let request = Request {
            method,
            url: format!("{}{}", self.base_url, path),
            headers,
            body: body.map(|b| b.to_string().into_bytes()),
            credential: Some(self.credential.clone()),
            timeout_ms: Some(30_000),
        };
        *self
            .calls
            .entry(format!("{} {}", method.as_str(), endpoint))
            .or_default() += 1;
        self.total_calls += 1;
        let now = self.clock.now_ms();
        match bucket {
            Bucket::General => self.general.push_back(now),
            Bucket::Search => self.search.push_back(now),
        }
        request
    }

    /// Learns the limits and HubSpot's time from a reply and classifies it.
    fn answer(&mut self, reply: Result<Response, HttpError>) -> Result<Json, ApiError> {
        let response = reply.map_err(ApiError::Transport)?;
        self.learn_limits(&response);
        self.learn_time(&response);
        classify(response)
    }

    /// Waits until `n` calls of `bucket` sent together stay within the rate limits (a group
    /// goes out at once, so it waits for room for all of it; at most a window's worth).
    fn pace(&mut self, bucket: Bucket, n: usize) {
        let (max, window) = self.limit_of(bucket);
        let n = n.clamp(1, max);
        let now = self.clock.now_ms();
        let queue = self.sent_in(bucket, now);
        if queue.len() + n > max {
            // The calls that must have left the window first: the oldest `len + n - max`.
            let last_to_leave = queue[queue.len() + n - max - 1];
            let wait = (last_to_leave + window + 1 - now).max(0) as u64;
            self.clock.sleep_ms(wait);
            let now = self.clock.now_ms();
            self.sent_in(bucket, now);
        }
    }

    /// How long `n` searches sent together would wait for room now (ms): a read with
    /// several independent searches weighs sending more of them against waiting.
    pub fn search_wait_ms(&mut self, n: usize) -> i64 {
        let (max, window) = self.limit_of(Bucket::Search);
        let n = n.clamp(1, max);
        let now = self.clock.now_ms();
        let queue = self.sent_in(Bucket::Search, now);
        match (queue.len() + n).checked_sub(max + 1) {
            Some(i) => (queue[i] + window + 1 - now).max(0),
            None => 0,
        }
    }

    /// The most calls of `bucket` per window, and the window in ms as we pace it. HubSpot
    /// counts a call when it arrives, a varying delay after it was sent; paced to the
    /// millisecond against our send times, a call can land in its predecessor's window and
    /// be refused (a 429 costs a whole window). A 40th of the window absorbs that.
    fn limit_of(&self, bucket: Bucket) -> (usize, i64) {
        let (max, window) = match bucket {
            Bucket::General => (
                self.limits.general_max as usize,
                self.limits.general_window_ms,
            ),
            Bucket::Search => (self.limits.search_per_second as usize, 1_000),
        };
        (max.max(1), window + window / 40)
    }

    /// The send times of `bucket` still in its window at `now` (older ones dropped).
    fn sent_in(&mut self, bucket: Bucket, now: i64) -> &mut VecDeque<i64> {
        let (_, window) = self.limit_of(bucket);
        let queue = match bucket {
            Bucket::General => &mut self.general,
            Bucket::Search => &mut self.search,
        };
        while queue.front().is_some_and(|t| *t <= now - window) {
            queue.pop_front();
        }
        queue
    }

    /// Adopts the portal's limits from HubSpot's headers (190 on higher tiers).
    fn learn_limits(&mut self, r: &Response) {
        if let Some(max) = r
            .header("x-hubspot-ratelimit-max")
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|m| *m > 0)
        {
            self.limits.general_max = max;
        }
        if let Some(window) = r
            .header("x-hubspot-ratelimit-interval-milliseconds")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|w| *w > 0)
        {
            self.limits.general_window_ms = window;
        }
    }

    /// Notes HubSpot's clock from the reply's `Date` header (whole seconds, so HubSpot's
    /// time is at most a second later than noted: an estimate that errs early).
    fn learn_time(&mut self, r: &Response) {
        if let Some(at) = r
            .header("date")
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v.trim()).ok())
        {
            self.hubspot_time = Some((at.timestamp_millis(), self.clock.now_ms()));
        }
    }

    /// HubSpot's current time as its latest reply told it (`None` before any reply with a
    /// `Date` header). Read positions compared with HubSpot's modification times live in
    /// this time, never in ours: the two clocks may be minutes apart.
    pub fn hubspot_now_ms(&self) -> Option<i64> {
        self.hubspot_time
            .map(|(theirs, ours)| theirs + (self.clock.now_ms() - ours).max(0))
    }

    /// Exponential back-off with ±25 % jitter.
    fn backoff(&mut self, attempt: u32) -> u64 {
        let base = self.limits.backoff_ms << (attempt - 1).min(6);
        base - base / 4 + self.jitter(base / 2)
    }

    /// A pseudo-random wait in `0..=max` ms (xorshift).
    fn jitter(&mut self, max: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % (max + 1)
    }
}

/// Turns a response into parsed JSON or a classified error.
fn classify(response: Response) -> Result<Json, ApiError> {
    let status = response.status;
    if (200..300).contains(&status) {
        if response.body.is_empty() {
            return Ok(Json::Null);
        }
        return serde_json::from_slice(&response.body)
            .map_err(|e| ApiError::Malformed(format!("status {status}: {e}")));
    }
    let body: wire::ErrorReply = serde_json::from_slice(&response.body).unwrap_or_default();
    match status {
        401 => Err(ApiError::Unauthorized(format!(
            "401 {}",
            non_empty(body.category, "INVALID_AUTHENTICATION")
        ))),
        403 => Err(ApiError::MissingScopes(non_empty(body.message, "403"))),
        429 => Err(ApiError::RateLimited {
            policy: non_empty(body.policy_name, "TEN_SECONDLY_ROLLING"),
        }),
        500..=599 => Err(ApiError::Server(status)),
        _ => Err(ApiError::Client {
            status,
            category: body.category,
            message: with_details(body.message, &body.errors),
        }),
    }
}

/// HubSpot's message with the details it names (which property, which rule) that the
/// message does not already say.
fn with_details(message: String, details: &[wire::ErrorDetail]) -> String {
    let extra: Vec<String> = details
        .iter()
        .filter(|d| !d.message.is_empty() && !message.contains(&d.message))
        .map(|d| match d.code.as_str() {
            "" => d.message.clone(),
            code => format!("{} ({code})", d.message),
        })
        .collect();
    match (message.is_empty(), extra.is_empty()) {
        (_, true) => message,
        (true, false) => extra.join("; "),
        (false, false) => format!("{message}: {}", extra.join("; ")),
    }
}

/// A batch reply (or an empty body) as its results and per-input errors.
fn batch_outcome(json: Json) -> Result<BatchOutcome, ApiError> {
    if json.is_null() {
        return Ok(BatchOutcome::default());
    }
    let reply: wire::BatchReply<wire::RecordReply> = decode(json)?;
    // A batch whose every input failed may come without results, only with its errors.
    let Some(results) = reply
        .results
        .or_else(|| (!reply.errors.is_empty()).then(Vec::new))
    else {
        return Err(ApiError::Malformed("batch reply without results".into()));
    };
    Ok(BatchOutcome {
        results: results
            .into_iter()
            .map(|r| {
                let new = r.new;
                (Record::from(r), new)
            })
            .collect(),
        errors: reply.errors,
    })
}

/// Decodes a successful reply into the type the caller expects.
pub(crate) fn decode<T: DeserializeOwned>(json: Json) -> Result<T, ApiError> {
    serde_json::from_value(json).map_err(|e| ApiError::Malformed(e.to_string()))
}

fn non_empty(s: String, default: &str) -> String {
    if s.is_empty() { default.to_owned() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeClock, FakeHttp, NullLog};

    /// A client of a test portal with the default budget.
    fn client<'a>(http: &'a mut dyn Http, clock: &'a FakeClock) -> Client<'a> {
        Client::new(
            http,
            clock,
            &NullLog,
            "http://h",
            "hubspot",
            ApiVersion::default(),
            Budget::default(),
        )
    }

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn daily_limit_stops_the_job_and_is_not_retried() {
        let e = classify(response(429, r#"{"policyName":"DAILY"}"#)).unwrap_err();
        assert!(!e.is_transient());
        assert!(e.stops_job());
    }

    #[test]
    fn ten_secondly_limit_is_retried() {
        let e = classify(response(429, r#"{"policyName":"TEN_SECONDLY_ROLLING"}"#)).unwrap_err();
        assert!(e.is_transient());
    }

    #[test]
    fn malformed_success_body_is_an_error_not_an_empty_result() {
        let e = classify(response(200, r#"{"results":[{"id":"1""#)).unwrap_err();
        assert!(matches!(e, ApiError::Malformed(_)));
    }

    #[test]
    fn conflict_keeps_hubspot_message() {
        let e = classify(response(
            409,
            r#"{"status":"error","message":"Contact already exists. Existing ID: 42","category":"CONFLICT"}"#,
        ))
        .unwrap_err();
        assert_eq!(
            e,
            ApiError::Client {
                status: 409,
                category: "CONFLICT".into(),
                message: "Contact already exists. Existing ID: 42".into()
            }
        );
    }

    #[test]
    fn a_validation_error_names_the_property_and_rule_and_refuses_the_record() {
        let e = classify(response(
            400,
            r#"{"status":"error","message":"Property values were not valid","category":"VALIDATION_ERROR",
                "errors":[{"message":"\"phone\" is required by a validation rule of this portal","code":"REQUIRED"}]}"#,
        ))
        .unwrap_err();
        assert!(e.refuses_record() && !e.is_transient(), "{e:?}");
        let text = e.to_string();
        assert!(
            text.contains("VALIDATION_ERROR")
                && text.contains("\"phone\" is required")
                && text.contains("(REQUIRED)"),
            "{text}"
        );
        let conflict = classify(response(
            409,
            r#"{"category":"CONFLICT","message":"exists"}"#,
        ))
        .unwrap_err();
        assert!(!conflict.refuses_record());
    }

    #[test]
    fn server_errors_are_retried_with_back_off_then_succeed() {
        let clock = FakeClock::new(0);
        let mut http = FakeHttp::new(vec![
            response(503, "{}"),
            response(502, "{}"),
            response(200, r#"{"ok":true}"#),
        ]);
        let mut c = client(&mut http, &clock);
        let json: Json = c.get::<Json>("/x", "/x").unwrap();
        assert_eq!(json["ok"], true);
        assert_eq!(c.total_calls(), 3);
        assert!(
            clock.now() >= 750 + 1_500,
            "slept between attempts: {}",
            clock.now()
        );
    }

    #[test]
    fn a_per_second_429_is_waited_out_well_beyond_the_usual_attempts() {
        let clock = FakeClock::new(0);
        let mut replies = vec![response(429, r#"{"policyName":"SECONDLY"}"#); 10];
        replies.push(response(200, r#"{"total":0,"results":[]}"#));
        let mut http = FakeHttp::new(replies);
        let mut c = client(&mut http, &clock);
        let page = c.search("contacts", &json!({})).unwrap();
        assert_eq!((page.total, c.total_calls()), (0, 11));
        assert!(
            clock.now() >= 10_000,
            "waited a second or more each time: {}",
            clock.now()
        );
    }

    #[test]
    fn a_per_second_limit_that_never_clears_stops_the_job_pending_not_as_the_daily_limit() {
        let clock = FakeClock::new(0);
        let mut http = FakeHttp::always(response(429, r#"{"policyName":"SECONDLY"}"#));
        let mut c = client(&mut http, &clock);
        let e = c.search("contacts", &json!({})).unwrap_err();
        assert!(e.stops_job(), "{e:?}");
        assert!(
            matches!(&e, ApiError::Budget(m) if m.contains("SECONDLY")),
            "{e:?}"
        );
        assert_eq!(c.total_calls(), RateLimits::default().max_rate_limit_waits);
    }

    #[test]
    fn a_per_second_wait_ends_at_the_jobs_deadline() {
        let clock = FakeClock::new(0);
        let mut http = FakeHttp::always(response(429, r#"{"policyName":"SECONDLY"}"#));
        let budget = Budget {
            deadline_ms: Some(5_000),
            ..Budget::default()
        };
        let mut c = Client::new(
            &mut http,
            &clock,
            &NullLog,
            "http://h",
            "hubspot",
            ApiVersion::default(),
            budget,
        );
        let e = c.search("contacts", &json!({})).unwrap_err();
        assert!(matches!(e, ApiError::Budget(_)), "{e:?}");
        assert!(c.total_calls() < 8, "{}", c.total_calls());
    }

    #[test]
    fn pacing_keeps_general_calls_under_the_window() {
        let clock = FakeClock::new(0);
        let mut http = FakeHttp::always(response(200, "{}"));
        let mut c = client(&mut http, &clock);
        for _ in 0..250 {
            c.get::<Json>("/x", "/x").unwrap();
        }
        // 250 calls at 100 per 10 s need at least two full windows.
        assert!(clock.now() >= 20_000, "{}", clock.now());
        assert!(clock.now() < 21_000, "{}", clock.now());
    }

    #[test]
    fn pacing_keeps_search_at_five_per_second() {
        let clock = FakeClock::new(0);
        let mut http = FakeHttp::always(response(200, r#"{"total":0,"results":[]}"#));
        let mut c = client(&mut http, &clock);
        for _ in 0..11 {
            c.search("contacts", &json!({})).unwrap();
        }
        assert!(
            clock.now() >= 2_000 && clock.now() < 2_100,
            "{}",
            clock.now()
        );
    }

    /// Notes when each request went out (by the fake clock) and answers an empty search.
    struct TimedHttp<'c> {
        clock: &'c FakeClock,
        sent: Vec<i64>,
    }

    impl Http for TimedHttp<'_> {
        fn send(&mut self, _request: Request) -> Result<Response, HttpError> {
            self.sent.push(self.clock.now());
            Ok(response(200, r#"{"total":0,"results":[]}"#))
        }
    }

    #[test]
    fn searches_alone_and_in_groups_never_exceed_five_in_any_second_and_a_group_goes_out_at_once() {
        let clock = FakeClock::new(0);
        let mut http = TimedHttp {
            clock: &clock,
            sent: Vec::new(),
        };
        let mut c = client(&mut http, &clock);
        let mut groups = Vec::new();
        // Four alone fill the second but one: the group's first member would fit, its second
        // not; both wait, so that the four after them cannot slip into the same second.
        for step in [1, 1, 1, 1, 2, 1, 1, 1, 1, 2, 2, 1, 2, 2, 2] {
            if step == 1 {
                c.search("contacts", &json!({})).unwrap();
            } else {
                let before = c.total_calls() as usize;
                for page in c.search_all("contacts", &[json!({}), json!({})]) {
                    page.unwrap();
                }
                groups.push(before);
            }
            clock.sleep_ms(40);
        }
        drop(c);
        let sent = &http.sent;
        assert_eq!(sent.len(), 21);
        for (i, t) in sent.iter().enumerate() {
            let in_second = sent[..=i].iter().filter(|s| **s > t - 1_000).count();
            assert!(
                in_second <= 5,
                "{in_second} searches in the second up to {t}: {sent:?}"
            );
        }
        for first in groups {
            assert_eq!(sent[first], sent[first + 1], "a group at once: {sent:?}");
        }
    }

    #[test]
    fn the_wait_for_a_group_of_searches_is_until_its_last_member_fits() {
        let clock = FakeClock::new(0);
        let mut http = FakeHttp::always(response(200, r#"{"total":0,"results":[]}"#));
        let mut c = client(&mut http, &clock);
        for _ in 0..3 {
            c.search("contacts", &json!({})).unwrap();
        }
        clock.sleep_ms(300);
        c.search("contacts", &json!({})).unwrap();
        // Four of five in the window (paced as 1,025 ms): one more fits now, two to four
        // once the first three have left it, five once the fourth has.
        let waits: Vec<i64> = (1..=5).map(|n| c.search_wait_ms(n)).collect();
        assert_eq!(waits, vec![0, 726, 726, 726, 1_026]);
    }

    #[test]
    fn request_budget_stops_before_sending() {
        let clock = FakeClock::new(0);
        let mut http = FakeHttp::always(response(200, "{}"));
        let budget = Budget {
            max_requests: Some(2),
            ..Budget::default()
        };
        let mut c = Client::new(
            &mut http,
            &clock,
            &NullLog,
            "http://h",
            "hubspot",
            ApiVersion::default(),
            budget,
        );
        c.get::<Json>("/x", "/x").unwrap();
        c.get::<Json>("/x", "/x").unwrap();
        assert!(matches!(
            c.get::<Json>("/x", "/x"),
            Err(ApiError::Budget(_))
        ));
        assert_eq!(c.total_calls(), 2);
    }
}
