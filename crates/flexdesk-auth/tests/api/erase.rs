//! `POST /v1/sessions/{id}/erase` (issue 28, `ERASE_ON_REQUEST=on`): an ended chat's conversation is deleted at Twilio
//! with one `DeleteServiceConversation`, once, with the ended session's own credential; off by default.

use axum::http::{Method, StatusCode};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

async fn erase(h: &Harness, id: &str, credential: &str) -> Answer {
    h.json(Method::POST, &format!("/v1/sessions/{id}/erase"), json!({ "sessionCredential": credential })).await
}

fn conversation_path() -> String {
    format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))
}

/// Twilio deletes the conversation (204), once: a second DELETE is 404 / 20404 as for any resource gone.
async fn mount_delete(h: &Harness) {
    Mock::given(method("DELETE")).and(path(conversation_path())).respond_with(ResponseTemplate::new(204)).up_to_n_times(1).with_priority(1).mount(&h.twilio).await;
    Mock::given(method("DELETE"))
        .and(path(conversation_path()))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({ "code": 20404, "message": "not found", "status": 404 })))
        .mount(&h.twilio)
        .await;
}

async fn deletes(h: &Harness) -> usize {
    h.twilio.received_requests().await.unwrap().iter().filter(|r| r.method.as_str() == "DELETE" && r.url.path() == conversation_path()).count()
}

#[tokio::test]
async fn off_by_default_nothing_is_deleted() {
    let h = harness(&[]).await;
    mount_delete(&h).await;
    let (id, cred) = ended_session(&h).await;
    let a = erase(&h, &id, &cred).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::NOT_FOUND, "erase_not_enabled"));
    assert_eq!(deletes(&h).await, 0);
}

/// The session never had an agent (`ended_session`: the customer ended it in the queue): erasable all the same.
#[tokio::test]
async fn after_the_end_one_delete_at_twilio_a_receipt_and_never_again() {
    let h = harness(&[("ERASE_ON_REQUEST", "on")]).await;
    mount_delete(&h).await;
    let (id, cred) = ended_session(&h).await;
    let (_, other_cred) = ids(&h.start_webchat_session().await);
    let a = erase(&h, &id, &other_cred).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::UNAUTHORIZED, "invalid_credential"));
    let a = erase(&h, &id, &cred).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["erased"], json!(["conversation", "messages", "participants", "media", "session"]));
    assert!(a.body["at"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok(), "{}", a.text);
    assert_eq!(a.body["requestId"].as_str().unwrap().len(), 36, "the request's own x-request-id: {}", a.text);
    assert_eq!(deletes(&h).await, 1, "one Twilio call");
    let again = erase(&h, &id, &cred).await;
    assert_eq!((again.status, error_code(&again)), (StatusCode::GONE, "already_erased"));
    assert_eq!(deletes(&h).await, 1, "refused without another call");
    // The session is forgotten: its credential renews nothing.
    let refresh = h.json(Method::POST, &format!("/v1/sessions/{id}/token"), json!({ "sessionCredential": cred })).await;
    assert!(refresh.status.is_client_error(), "{} {}", refresh.status, refresh.text);
}

#[tokio::test]
async fn a_chat_still_open_is_409_and_nothing_is_deleted() {
    let h = harness(&[("ERASE_ON_REQUEST", "on")]).await;
    mount_delete(&h).await;
    let (id, cred) = ids(&h.start_webchat_session().await);
    conversation_state(&h.twilio, "active").await;
    let a = erase(&h, &id, &cred).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::CONFLICT, "chat_not_ended"));
    assert_eq!(deletes(&h).await, 0);
    // Not used up: once the chat ends, it may be erased.
    Mock::given(method("GET"))
        .and(path(conversation_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": CONVERSATION, "state": "closed" })))
        .with_priority(1)
        .mount(&h.twilio)
        .await;
    assert_eq!(erase(&h, &id, &cred).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_conversation_already_gone_at_twilio_is_410() {
    let h = harness(&[("ERASE_ON_REQUEST", "on")]).await;
    Mock::given(method("DELETE"))
        .and(path(conversation_path()))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({ "code": 20404, "message": "not found", "status": 404 })))
        .mount(&h.twilio)
        .await;
    let (id, cred) = ended_session(&h).await;
    let a = erase(&h, &id, &cred).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::GONE, "already_erased"));
}
