//! The auth server's HTTP API, over fetch (gloo-net). Bodies are `flexdesk_core::wire` types.
//!
//! JSON goes through the browser's own `JSON` and serde-wasm-bindgen rather than serde_json's parser and
//! writer: the same result, and a much smaller wasm file.

use flexdesk_core::wire::{ApiError, Availability, CreateSessionRequest, SessionAuth, SessionCreated, TokenRefreshed};
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;


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
        let r = with_json(Request::post(&format!("{}/v1/sessions", self.base)), req)?;
        read(r.send().await.map_err(unreachable)?).await
    }

    pub async fn refresh(&self, session_id: &str, credential: &str) -> Result<TokenRefreshed, AuthError> {
        let body = SessionAuth { session_credential: credential.to_string() };
        let url = format!("{}/v1/sessions/{}/token", self.base, encode(session_id));
        let r = with_json(Request::post(&url), &body)?;
        read(r.send().await.map_err(unreachable)?).await
    }

    pub async fn end(&self, session_id: &str, credential: &str) -> Result<(), AuthError> {
        let body = SessionAuth { session_credential: credential.to_string() };
        let url = format!("{}/v1/sessions/{}", self.base, encode(session_id));
        let res = with_json(Request::delete(&url), &body)?.send().await.map_err(unreachable)?;
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

fn with_json<T: Serialize>(builder: RequestBuilder, body: &T) -> Result<Request, AuthError> {
    let value = body
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| AuthError { status: 0, message: format!("Cannot encode the request: {e}") })?;
    let text: String = js_sys::JSON::stringify(&value).map(String::from).unwrap_or_default();
    builder.header("content-type", "application/json").body(text).map_err(unreachable)
}

async fn parse<T: DeserializeOwned>(res: &Response) -> Result<T, String> {
    let text = res.text().await.map_err(|e| e.to_string())?;
    let value = js_sys::JSON::parse(&text).map_err(|_| "not JSON".to_string())?;
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}

async fn read<T: DeserializeOwned>(res: Response) -> Result<T, AuthError> {
    if !res.ok() {
        return Err(error_of(res).await);
    }
    parse(&res).await.map_err(|e| AuthError { status: res.status(), message: format!("Unexpected answer from the chat service: {e}") })
}

async fn error_of(res: Response) -> AuthError {
    let status = res.status();
    let message = match parse::<ApiError>(&res).await {
        Ok(e) => e.error.message,
        Err(_) => format!("The chat service answered {status}."),
    };
    AuthError { status, message }
}

