//! The auth server's HTTP API, over fetch (gloo-net). Bodies are `flexdesk_core::wire` types.

use flexdesk_core::wire::{ApiError, Availability, CreateSessionRequest, SessionAuth, SessionCreated, TokenRefreshed};
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;

#[derive(Clone)]
pub struct AuthClient {
    base: String,
}

/// Why a call failed, worded for the person in the chat; `status` is 0 when the server was not reached.
#[derive(Debug)]
pub struct AuthError {
    pub status: u16,
    pub message: String,
}

impl AuthClient {
    pub fn new(base: &str) -> Self {
        AuthClient { base: base.trim_end_matches('/').to_string() }
    }

    pub async fn create_session(&self, req: &CreateSessionRequest) -> Result<SessionCreated, AuthError> {
        let r = Request::post(&format!("{}/v1/sessions", self.base)).json(req).map_err(unreachable)?;
        read(r.send().await.map_err(unreachable)?).await
    }

    pub async fn refresh(&self, session_id: &str, credential: &str) -> Result<TokenRefreshed, AuthError> {
        let body = SessionAuth { session_credential: credential.to_string() };
        let url = format!("{}/v1/sessions/{}/token", self.base, encode(session_id));
        let r = Request::post(&url).json(&body).map_err(unreachable)?;
        read(r.send().await.map_err(unreachable)?).await
    }

    pub async fn end(&self, session_id: &str, credential: &str) -> Result<(), AuthError> {
        let body = SessionAuth { session_credential: credential.to_string() };
        let url = format!("{}/v1/sessions/{}", self.base, encode(session_id));
        let res = Request::delete(&url).json(&body).map_err(unreachable)?.send().await.map_err(unreachable)?;
        if res.ok() {
            Ok(())
        } else {
            Err(error_of(res).await)
        }
    }

    pub async fn availability(&self) -> Result<Availability, AuthError> {
        let res = Request::get(&format!("{}/v1/agents/availability", self.base)).send().await.map_err(unreachable)?;
        read(res).await
    }
}

fn encode(segment: &str) -> String {
    js_sys::encode_uri_component(segment).into()
}

fn unreachable(e: gloo_net::Error) -> AuthError {
    AuthError { status: 0, message: format!("The chat service cannot be reached ({e}).") }
}

async fn read<T: DeserializeOwned>(res: Response) -> Result<T, AuthError> {
    if !res.ok() {
        return Err(error_of(res).await);
    }
    res.json::<T>().await.map_err(|e| AuthError { status: res.status(), message: format!("Unexpected answer from the chat service: {e}") })
}

async fn error_of(res: Response) -> AuthError {
    let status = res.status();
    let message = match res.json::<ApiError>().await {
        Ok(e) => e.error.message,
        Err(_) => format!("The chat service answered {status}."),
    };
    AuthError { status, message }
}
