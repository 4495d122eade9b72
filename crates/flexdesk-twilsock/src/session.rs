//! One twilsock WebSocket connection: the `init` handshake (token check), then requests from the SDK (`message` =
//! tunnelled HTTP, `update` = new token, notification-context and telemetry frames) answered with `reply` frames,
//! and server-initiated `notification` frames (Sync events, typing) pushed through the hub.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use crate::frame::Frame;
use crate::hub::Hub;
use crate::token::{self, TokenError, TokenIdentity};
use crate::upstream::{self, Caller, Request};

/// The reason phrase twilsock puts beside a status code (`"OK"`, `"Not Found"`, …).
fn reason(code: u16) -> &'static str {
    axum::http::StatusCode::from_u16(code).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error")
}

fn reply(id: &str, code: u16) -> Map<String, Value> {
    let mut h = Map::new();
    h.insert("method".into(), "reply".into());
    h.insert("id".into(), id.into());
    h.insert("payload_type".into(), "application/json".into());
    h.insert("status".into(), json!({"code": code, "status": reason(code)}));
    h
}

fn token_rejection(id: &str, e: &TokenError) -> Frame {
    let mut h = reply(id, 401);
    h.insert("status".into(), json!({"code": 401, "status": "Unauthorized", "errorCode": e.code, "description": e.message}));
    Frame::new(h, Vec::new())
}

/// Checks the frame's token; the identity's `exp` is the expiry to enforce (the hooks may bring it forward).
fn verify(hub: &Hub, frame: &Frame) -> Result<(String, TokenIdentity), TokenError> {
    let token = frame.header.get("token").and_then(Value::as_str).ok_or_else(|| TokenError::new(20101, "Invalid Access Token: no token"))?;
    let mut identity = token::verify(token, &hub.config.token_rules())?;
    identity.exp = hub.hooks.expiry(token, identity.exp);
    if identity.exp <= now_secs() {
        return Err(TokenError::expired());
    }
    Ok((token.to_string(), identity))
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The instant `secs_before` seconds ahead of `exp` (seconds since the epoch), or now if that has passed.
fn before_expiry(exp: u64, secs_before: u64) -> tokio::time::Instant {
    let secs = exp.saturating_sub(secs_before).saturating_sub(now_secs());
    tokio::time::Instant::now() + Duration::from_secs(secs)
}

fn close_frame(code: u16, status: &str) -> Frame {
    let mut h = Map::new();
    h.insert("method".into(), "close".into());
    h.insert("id".into(), crate::hub::new_message_id().into());
    h.insert("status".into(), json!({"code": code, "status": status}));
    Frame::new(h, Vec::new())
}

pub async fn run(hub: Arc<Hub>, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Frame>();
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            let close = frame.method() == "close";
            if sink.send(Message::Binary(frame.encode().into())).await.is_err() {
                break;
            }
            if close {
                let _ = sink.close().await;
                break;
            }
        }
    });

    let mut session: Option<(u64, TokenIdentity)> = None;
    // The token in force, so an injected early expiry can be looked up again.
    let mut token = String::new();
    let mut expiries = hub.expiry_generation.subscribe();
    let warning = hub.config.token_warning_secs;
    let mut warn_at: Option<tokio::time::Instant> = None;
    let mut expire_at: Option<tokio::time::Instant> = None;
    let kill = Arc::new(tokio::sync::Notify::new());
    loop {
        let next = tokio::select! {
            msg = stream.next() => msg,
            _ = kill.notified() => {
                tracing::info!("twilsock: connection dropped on request");
                writer.abort();
                break;
            }
            _ = async { tokio::time::sleep_until(expire_at.unwrap()).await }, if expire_at.is_some() => {
                // 410 makes the SDK emit tokenExpired; it then needs a new token (updateToken or a new client).
                tracing::info!("twilsock: token expired; closing");
                let _ = tx.send(close_frame(410, "Token expired"));
                break;
            }
            Ok(()) = expiries.changed() => {
                if let Some((_, identity)) = session.as_mut() {
                    let exp = hub.hooks.expiry(&token, identity.exp);
                    if exp < identity.exp {
                        identity.exp = exp;
                        warn_at = Some(before_expiry(exp, warning));
                        expire_at = Some(before_expiry(exp, 0));
                    }
                }
                continue;
            }
            _ = async { tokio::time::sleep_until(warn_at.unwrap()).await }, if warn_at.is_some() => {
                warn_at = None;
                let mut h = Map::new();
                h.insert("method".into(), "client_update".into());
                h.insert("id".into(), crate::hub::new_message_id().into());
                h.insert("client_update_type".into(), "token_about_to_expire".into());
                let _ = tx.send(Frame::new(h, Vec::new()));
                continue;
            }
        };
        let bytes = match next {
            Some(Ok(Message::Binary(b))) => b.to_vec(),
            Some(Ok(Message::Text(t))) => t.as_bytes().to_vec(),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
            Some(Ok(_)) => continue,
        };
        let frame = match Frame::decode(&bytes) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "twilsock: undecodable frame; closing with 406");
                let _ = tx.send(close_frame(406, &format!("protocol error: {e}")));
                break;
            }
        };
        let id = frame.id().to_string();
        tracing::debug!(method = frame.method(), id = %id, "twilsock frame");
        if frame.method() != "reply" {
            let delay = hub.hooks.delay();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
        match (frame.method(), &session) {
            ("reply", _) => {} // acknowledgements of our notifications
            ("init", None) => match verify(&hub, &frame) {
                Ok((t, identity)) => {
                    token = t;
                    let sid = hub.register(identity.identity.clone(), tx.clone(), kill.clone());
                    warn_at = Some(before_expiry(identity.exp, warning));
                    expire_at = Some(before_expiry(identity.exp, 0));
                    tracing::info!(identity = %identity.identity, session = sid, "twilsock: client initialised");
                    session = Some((sid, identity));
                    let mut h = reply(&id, 200);
                    h.insert("continuation_token".into(), crate::ids::sid("CT").into());
                    h.insert("continuation_token_status".into(), json!({"reused": false}));
                    h.insert("capabilities".into(), json!(["client_update", "telemetry.v1"]));
                    h.insert("init_registrations".into(), Value::Null);
                    h.insert("debug_info".into(), json!({}));
                    let _ = tx.send(Frame::new(h, Vec::new()));
                }
                Err(e) => {
                    tracing::info!(code = e.code, "twilsock: init token rejected");
                    let _ = tx.send(token_rejection(&id, &e));
                }
            },
            (_, None) => {
                let mut h = reply(&id, 400);
                h.insert("status".into(), json!({"code": 400, "status": "init required first"}));
                let _ = tx.send(Frame::new(h, Vec::new()));
            }
            ("init", Some(_)) => {
                let _ = tx.send(Frame::new(reply(&id, 200), Vec::new()));
            }
            ("update", Some((sid, current))) => match verify(&hub, &frame) {
                Ok((_, identity)) if identity.identity != current.identity => {
                    // A connection belongs to one identity; switching needs a new client.
                    let e = TokenError::new(20106, "Invalid Access Token grants: the token is for another identity");
                    let _ = tx.send(token_rejection(&id, &e));
                }
                Ok((t, identity)) => {
                    token = t;
                    let sid = *sid;
                    hub.set_identity(sid, identity.identity.clone());
                    warn_at = Some(before_expiry(identity.exp, warning));
                    expire_at = Some(before_expiry(identity.exp, 0));
                    session = Some((sid, identity));
                    let _ = tx.send(Frame::new(reply(&id, 200), Vec::new()));
                }
                Err(e) => {
                    let _ = tx.send(token_rejection(&id, &e));
                }
            },
            ("message", Some((sid, identity))) => {
                let Some(req) = Request::from_frame(&frame) else {
                    let mut h = reply(&id, 400);
                    h.insert("status".into(), json!({"code": 400, "status": "message without http_request"}));
                    let _ = tx.send(Frame::new(h, Vec::new()));
                    continue;
                };
                let caller = Caller { session: *sid, identity: &identity.identity };
                let resp = upstream::handle(&hub, &caller, &req);
                if resp.status >= 400 {
                    tracing::info!(method = %req.method, path = %req.segments.join("/"), status = resp.status, "twilsock upstream");
                } else {
                    tracing::debug!(method = %req.method, path = %req.segments.join("/"), status = resp.status, "twilsock upstream");
                }
                let mut h = reply(&id, 200);
                h.insert("http_status".into(), json!({"code": resp.status, "status": reason(resp.status)}));
                h.insert("http_headers".into(), json!({"Content-Type": "application/json"}));
                let _ = tx.send(Frame::new(h, serde_json::to_vec(&resp.body).unwrap_or_default()));
                for f in resp.after {
                    let _ = tx.send(f);
                }
            }
            ("close", Some(_)) => {
                let mut h = Map::new();
                h.insert("method".into(), "close".into());
                h.insert("id".into(), id.clone().into());
                h.insert("status".into(), json!({"code": 200, "status": "OK"}));
                let _ = tx.send(Frame::new(h, Vec::new()));
                break;
            }
            // Push registrations and telemetry: nothing to do locally, but the SDK waits for the reply.
            (_, Some(_)) => {
                let _ = tx.send(Frame::new(reply(&id, 200), Vec::new()));
            }
        }
    }
    if let Some((sid, _)) = session {
        hub.unregister(sid);
    }
    drop(tx);
    // Lets queued frames (a close, a last reply) go out; the writer ends when every sender is gone.
    let _ = writer.await;
    tracing::debug!("twilsock: connection closed");
}

#[cfg(test)]
mod tests {
    #[test]
    fn reason_phrases_are_http_s() {
        assert_eq!([super::reason(200), super::reason(202), super::reason(404), super::reason(429)], ["OK", "Accepted", "Not Found", "Too Many Requests"]);
        assert_eq!(super::reason(999), "Error");
    }
}
