//! The JSON API under `/api/v1/`. One file per resource; each exposes `router()` as a
//! [`utoipa_axum::router::OpenApiRouter`] so that the OpenAPI document
//! (`/api/v1/openapi.json`) is built from the very routes that are registered (a route
//! without `#[utoipa::path]` cannot be added with `routes!`). Plain `axum::Router`s can be
//! merged with `.merge(OpenApiRouter::from(router))`, but their routes are then missing
//! from the document and the `openapi_matches_route_table` test fails: annotate them.

pub mod audit;
pub mod captures;
pub mod devices;
pub mod documents;
pub mod export;
pub mod findings;
pub mod ingest;
pub mod intel;
pub mod jobs;
pub mod segmentation;
pub mod session;
pub mod tokens;
pub mod users;

use crate::state::AppState;
use axum::Json;
use serde::Deserialize;
use std::sync::OnceLock;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every API route with its OpenAPI description (paths relative to `/api/v1`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(openapi_json))
        .merge(session::router())
        .merge(devices::router())
        .merge(documents::router())
        .merge(findings::router())
        .merge(intel::router())
        .merge(captures::router())
        .merge(users::router())
        .merge(tokens::router())
        .merge(audit::router())
        .merge(export::router())
        .merge(ingest::router())
        .merge(jobs::router())
        .merge(segmentation::router())
}

/// The routes under `/api/v1`.
pub fn router() -> axum::Router<AppState> {
    api().split_for_parts().0
}

/// The OpenAPI document (built once).
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = api().into_openapi();
        doc.info = utoipa::openapi::InfoBuilder::new()
            .title("Ward API")
            .version(env!("CARGO_PKG_VERSION"))
            .description(Some(
                "Ward's JSON API. Authenticate with a session cookie (and X-CSRF-Token on \
                 state-changing requests) or `Authorization: Bearer <token>`.",
            ))
            .build();
        doc.servers = Some(vec![utoipa::openapi::server::Server::new("/api/v1")]);
        doc
    })
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI document")))]
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi().clone())
}

/// Offset pagination.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
pub struct Page {
    /// Page size (default 100, at most 1000).
    pub limit: Option<u32>,
    pub offset: Option<u64>,
}

impl Page {
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(100).clamp(1, 1000)
    }
}
