//! The HTTP side: routes, and the gate every CRM request passes (accounting, auth, rate limits,
//! faults) before its handler runs.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use http_body::Frame;

use crate::admin;
use crate::app::App;
use crate::endpoint::classify;
use crate::error::ApiError;
use crate::faults::FaultKind;
use crate::routes::{associations, batch, objects, owners, pipelines, properties, schemas, search};

/// The path prefixes of one family of HubSpot's API paths: the legacy v3/v4 paths, or a date
/// version (`/crm/objects/2026-03/…`). Both families are served by the same handlers.
struct Family {
    objects: String,
    properties: String,
    pipelines: String,
    /// Single-record associations (`…/{from}/{id}/associations/…`).
    record_associations: String,
    /// Batch associations (`…/{from}/{to}/batch/…`).
    associations: String,
    owners: String,
    /// Custom object schemas (legacy HubSpot serves two spellings).
    schemas: Vec<String>,
}

impl Family {
    fn legacy() -> Family {
        Family {
            objects: "/crm/v3/objects".into(),
            properties: "/crm/v3/properties".into(),
            pipelines: "/crm/v3/pipelines".into(),
            record_associations: "/crm/v4/objects".into(),
            associations: "/crm/v4/associations".into(),
            owners: "/crm/v3/owners".into(),
            schemas: vec![
                "/crm/v3/schemas".into(),
                "/crm-object-schemas/v3/schemas".into(),
            ],
        }
    }

    fn dated(version: &str) -> Family {
        Family {
            objects: format!("/crm/objects/{version}"),
            properties: format!("/crm/properties/{version}"),
            pipelines: format!("/crm/pipelines/{version}"),
            record_associations: format!("/crm/objects/{version}"),
            associations: format!("/crm/associations/{version}"),
            owners: format!("/crm/owners/{version}"),
            schemas: vec![format!("/crm-object-schemas/{version}/schemas")],
        }
    }

    fn routes(&self) -> Router<Arc<App>> {
        let Family {
            objects: o,
            properties: p,
            pipelines: pl,
            record_associations: ra,
            associations: a,
            owners: ow,
            schemas: sc,
        } = self;
        let mut router = Router::new()
            .route(
                &format!("{o}/{{object}}"),
                get(objects::list).post(objects::create),
            )
            .route(&format!("{o}/{{object}}/search"), post(search::search))
            .route(&format!("{o}/{{object}}/merge"), post(objects::merge))
            .route(&format!("{o}/{{object}}/batch/read"), post(batch::read))
            .route(&format!("{o}/{{object}}/batch/create"), post(batch::create))
            .route(&format!("{o}/{{object}}/batch/update"), post(batch::update))
            .route(&format!("{o}/{{object}}/batch/upsert"), post(batch::upsert))
            .route(
                &format!("{o}/{{object}}/batch/archive"),
                post(batch::archive),
            )
            .route(
                &format!("{o}/{{object}}/{{id}}"),
                get(objects::get)
                    .patch(objects::update)
                    .delete(objects::archive),
            )
            .route(&format!("{pl}/{{object}}"), get(pipelines::list))
            .route(
                &format!("{pl}/{{object}}/{{pipeline_id}}"),
                get(pipelines::get),
            )
            .route(
                &format!("{p}/{{object}}"),
                get(properties::list).post(properties::create),
            )
            .route(&format!("{p}/{{object}}/{{name}}"), get(properties::get))
            .route(
                &format!("{ra}/{{from}}/{{from_id}}/associations/default/{{to}}/{{to_id}}"),
                put(associations::associate_default),
            )
            .route(
                &format!("{ra}/{{from}}/{{from_id}}/associations/{{to}}"),
                get(associations::list),
            )
            .route(
                &format!("{ra}/{{from}}/{{from_id}}/associations/{{to}}/{{to_id}}"),
                put(associations::create_labelled).delete(associations::remove),
            )
            .route(
                &format!("{a}/{{from}}/{{to}}/batch/create"),
                post(associations::batch_create),
            )
            .route(
                &format!("{a}/{{from}}/{{to}}/batch/associate/default"),
                post(associations::batch_default),
            )
            .route(
                &format!("{a}/{{from}}/{{to}}/batch/read"),
                post(associations::batch_read),
            )
            .route(
                &format!("{a}/{{from}}/{{to}}/batch/archive"),
                post(associations::batch_archive),
            )
            .route(
                &format!("{a}/{{from}}/{{to}}/batch/labels/archive"),
                post(associations::batch_archive_labels),
            )
            .route(ow, get(owners::list))
            .route(&format!("{ow}/{{owner_id}}"), get(owners::get));
        for path in sc {
            router = router.route(path, get(schemas::list));
        }
        router
    }
}

/// The date versions served besides the legacy paths.
pub(crate) const DATE_VERSIONS: &[&str] = &["2026-03"];

/// All routes: the CRM API (both families) behind the gate, the admin API without it.
pub(crate) fn router(app: Arc<App>) -> Router {
    let mut crm = Family::legacy()
        .routes()
        // HubSpot's own clients list owners with a trailing slash, which HubSpot answers.
        .route("/crm/v3/owners/", get(owners::list));
    for version in DATE_VERSIONS {
        crm = crm.merge(Family::dated(version).routes());
    }
    let crm = crm
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), gate));
    crm.merge(admin::router()).with_state(app)
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        "Resource not found",
    )
}

/// Counts the call, then authenticates, rate-limits and injects faults around the handler.
async fn gate(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let _in_flight = app.arrived();
    let latency = app.next_latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let endpoint = classify(&method, route.as_deref(), &path);
    let mut response = guarded(&app, &endpoint, &method, &path, req, next).await;
    // HubSpot's clock, not the machine's: clients place read positions in this time.
    if let Some(now) = chrono::DateTime::from_timestamp_millis(app.now())
        && let Ok(date) = now.format("%a, %d %b %Y %H:%M:%S GMT").to_string().parse()
    {
        response
            .headers_mut()
            .insert(axum::http::header::DATE, date);
    }
    app.stats()
        .record(&method, &endpoint.template, response.status().as_u16());
    response
}

async fn guarded(
    app: &App,
    endpoint: &crate::endpoint::Endpoint,
    method: &str,
    path: &str,
    req: Request,
    next: Next,
) -> Response {
    if let Err(err) = app.auth.check(req.headers(), &endpoint.scopes) {
        drain(req).await;
        return err.into_response();
    }
    let admitted = app.limiter().admit(app.now(), endpoint.search);
    let usage = match admitted {
        Ok(usage) => usage,
        Err((policy, usage)) => {
            drain(req).await;
            let mut response = ApiError::rate_limited(policy.name()).into_response();
            if !endpoint.search {
                usage.write(response.headers_mut());
            }
            return response;
        }
    };
    let fault = app.faults().pick(method, path);
    let mut response = match fault {
        Some(FaultKind::Status(code)) => {
            drain(req).await;
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            ApiError::server(status).into_response()
        }
        Some(FaultKind::LatencyMs(ms)) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Some(FaultKind::DropAfterApply) => {
            let (parts, _) = next.run(req).await.into_parts();
            Response::from_parts(parts, Body::new(Aborted))
        }
        Some(FaultKind::MalformedJson) => malformed(next.run(req).await).await,
        Some(FaultKind::Pass) | None => next.run(req).await,
    };
    if !endpoint.search {
        usage.write(response.headers_mut());
    }
    response
}

/// Reads and discards the body of a request refused before its handler, so the connection stays
/// usable for keep-alive (HubSpot does not close connections on 4xx/5xx).
async fn drain(req: Request) {
    let _ = axum::body::to_bytes(req.into_body(), 64 * 1024 * 1024).await;
}

/// Keeps the status (204 becomes 200, which can carry a body) and truncates the JSON body.
async fn malformed(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let truncated = if bytes.len() < 4 {
        Bytes::from_static(b"{\"status\":\"COMPL")
    } else {
        bytes.slice(..bytes.len() / 2)
    };
    if parts.status == StatusCode::NO_CONTENT {
        parts.status = StatusCode::OK;
    }
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.insert(
        axum::http::header::CONTENT_TYPE,
        "application/json".parse().expect("static header"),
    );
    Response::from_parts(parts, Body::from(truncated))
}

/// A body that fails on first read, so hyper aborts the connection before a complete response.
struct Aborted;

impl HttpBody for Aborted {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::other("emulated connection drop"))))
    }
}
