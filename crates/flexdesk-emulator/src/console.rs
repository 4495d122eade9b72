//! The agent console: one static page (console.html, plain HTML + JS), the agents' avatars, and, apart from the
//! agent's view, the supervisor view (supervisor.html): the task attributes Flex Insights reads (a chat's rating).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::state::Shared;

const PAGE: &str = include_str!("console.html");
const SUPERVISOR_PAGE: &str = include_str!("supervisor.html");

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/console", get(|| async { Html(PAGE) }))
        .route("/console/supervisor", get(|| async { Html(SUPERVISOR_PAGE) }))
        .route("/console/avatars/{file}", get(avatar))
}

/// A round SVG avatar with the agent's initial; generated so no binary assets are needed.
async fn avatar(State(emu): State<Shared>, Path(file): Path<String>) -> Response {
    const COLORS: [&str; 6] = ["#8a3ffc", "#0f62fe", "#007d79", "#da1e28", "#b28600", "#198038"];
    let id = file.strip_suffix(".svg").unwrap_or("");
    let found = emu.lock().agents.iter().enumerate().find(|(_, a)| a.id == id).map(|(i, _)| i);
    let Some(i) = found else { return StatusCode::NOT_FOUND.into_response() };
    // The initial is a letter or digit of the name (agent ids are ASCII alphanumerics), so nothing to escape.
    let letter = id.chars().next().unwrap_or('?').to_ascii_uppercase();
    let color = COLORS[i % COLORS.len()];
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><title>{id}</title><circle cx="32" cy="32" r="32" fill="{color}"/><text x="32" y="42" font-family="sans-serif" font-size="30" fill="#fff" text-anchor="middle">{letter}</text></svg>"##
    );
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"), (header::CACHE_CONTROL, "max-age=3600")], svg).into_response()
}
