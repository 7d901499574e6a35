//! The admin API under `/__emulator/…`: stats, reset, seed, clock, faults and bulk touch.
//! No auth, no rate limit, not counted.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::error::ApiError;
use crate::faults::FaultPlan;
use crate::object_type::ObjectType;
use crate::query::Params;
use crate::routes::parse_json;
use crate::seed::{SeedSpec, seed};

pub(crate) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/__emulator/stats", get(stats))
        .route("/__emulator/reset", post(reset))
        .route("/__emulator/seed", post(seed_data))
        .route("/__emulator/clock", get(clock).post(clock))
        .route("/__emulator/faults", post(faults))
        .route("/__emulator/touch", post(touch))
}

async fn stats(State(app): State<Arc<App>>) -> Response {
    axum::Json(app.stats().snapshot()).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResetBody {
    all: bool,
}

async fn reset(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: ResetBody = if body.is_empty() {
        ResetBody::default()
    } else {
        parse_json(&body)?
    };
    if body.all || Params::parse(query.as_deref()).flag("all") {
        app.reset_all();
    } else {
        app.reset_stats();
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn seed_data(State(app): State<Arc<App>>, body: Bytes) -> Result<Response, ApiError> {
    let spec: SeedSpec = if body.is_empty() {
        SeedSpec::default()
    } else {
        parse_json(&body)?
    };
    let now = app.now();
    let summary = seed(&mut app.store(), &spec, now);
    Ok(axum::Json(summary).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ClockBody {
    set_ms: Option<i64>,
    advance_ms: Option<i64>,
}

async fn clock(State(app): State<Arc<App>>, body: Bytes) -> Result<Response, ApiError> {
    let body: ClockBody = if body.is_empty() {
        ClockBody::default()
    } else {
        parse_json(&body)?
    };
    if let Some(ms) = body.set_ms {
        app.clock.set(ms);
    }
    if let Some(ms) = body.advance_ms {
        app.clock.advance(ms);
    }
    Ok(axum::Json(json!({"now_ms": app.now()})).into_response())
}

async fn faults(State(app): State<Arc<App>>, body: Bytes) -> Result<Response, ApiError> {
    let plan: FaultPlan = if body.is_empty() {
        FaultPlan::default()
    } else {
        parse_json(&body)?
    };
    app.set_faults(plan);
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct TouchBody {
    object: ObjectType,
    count: Option<usize>,
    at_ms: Option<i64>,
}

async fn touch(State(app): State<Arc<App>>, body: Bytes) -> Result<Response, ApiError> {
    let body: TouchBody = parse_json(&body)?;
    let now = app.now();
    let touched = app
        .store()
        .touch(body.object, body.count, body.at_ms.unwrap_or(now), now);
    Ok(axum::Json(json!({ "touched": touched })).into_response())
}
