//! `POST /v1/sessions/{id}/sms` (issue 28, item 4): continue the chat by SMS. Off without TWILIO_SMS_NUMBER; the number
//! checked (E.164, the country allowlist) before Twilio is called; then exactly one Twilio call, of the shape twilio-oai
//! `CreateServiceConversationParticipant` has (`MessagingBinding.Address`, `MessagingBinding.ProxyAddress`).

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

const SMS: [(&str, &str); 2] = [("TWILIO_SMS_NUMBER", "+14155550100"), ("SMS_ALLOWED_CALLING_CODES", "1,44")];

fn participants_path() -> String {
    format!("/v1/Services/{}/Conversations/{CONVERSATION}/Participants", sid("IS"))
}

async fn ask(h: &Harness, session: &Value, phone: &str) -> Answer {
    let id = session["sessionId"].as_str().unwrap();
    h.json(Method::POST, &format!("/v1/sessions/{id}/sms"), json!({ "sessionCredential": session["sessionCredential"], "phone": phone })).await
}

/// Mounts the conversation's participants list: the customer, and an SMS participant for each of `phones`.
async fn sms_participants(h: &Harness, phones: &[&str]) {
    let mut list = vec![json!({ "identity": "customer-from-twilio", "attributes": "{}", "messaging_binding": null })];
    list.extend(phones.iter().map(|p| json!({ "identity": null, "attributes": "{}", "messaging_binding": { "type": "sms", "address": p, "proxy_address": "+14155550100" } })));
    Mock::given(method("GET"))
        .and(path(participants_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "participants": list, "meta": { "page": 0 } })))
        .mount(&h.twilio)
        .await;
}

/// The SMS participant calls Twilio received.
async fn sms_calls(h: &Harness) -> Vec<String> {
    let calls = h.twilio.received_requests().await.unwrap_or_default();
    calls.into_iter().filter(|r| r.method.as_str() == "POST" && r.url.path() == participants_path()).map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect()
}

#[tokio::test]
async fn the_customers_number_joins_the_conversation_as_an_sms_participant() {
    let h = harness(&SMS).await;
    Mock::given(method("POST"))
        .and(path(participants_path()))
        .and(body_string_contains("MessagingBinding.Address=%2B4915112345678"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": "MB00000000000000000000000000000001", "messaging_binding": { "type": "sms" } })))
        .mount(&h.twilio)
        .await;
    let session = h.start_webchat_session().await;
    // With the UK and North America allowed, a German number is refused before Twilio hears of it.
    let a = ask(&h, &session, "+49 151 1234 5678").await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::UNPROCESSABLE_ENTITY, "phone_not_allowed"), "{}", a.text);
    assert!(sms_calls(&h).await.is_empty());

    let h = harness(&[SMS[0], ("SMS_ALLOWED_CALLING_CODES", "49")]).await;
    sms_participants(&h, &[]).await;
    Mock::given(method("POST"))
        .and(path(participants_path()))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": "MB00000000000000000000000000000001" })))
        .mount(&h.twilio)
        .await;
    let session = h.start_webchat_session().await;
    let a = ask(&h, &session, "+49 151 1234 5678").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    // The answer shows the number masked: a page may show it, a log may hold it.
    assert_eq!(a.body, json!({ "phone": "+49•••••••••78" }));
    let calls = sms_calls(&h).await;
    assert_eq!(calls.len(), 1, "one Twilio call");
    let form: std::collections::HashMap<String, String> = form_urlencoded::parse(calls[0].as_bytes()).into_owned().collect();
    assert_eq!(form["MessagingBinding.Address"], "+4915112345678");
    assert_eq!(form["MessagingBinding.ProxyAddress"], "+14155550100");
    let attributes: Value = serde_json::from_str(&form["Attributes"]).unwrap();
    assert_eq!(attributes["member_type"], "customer", "never taken for an agent");
    assert!(!form.contains_key("Identity"), "an SMS participant has a binding, not an identity");
}

#[tokio::test]
async fn numbers_that_are_not_international_are_refused_before_twilio() {
    let h = harness(&SMS).await;
    let session = h.start_webchat_session().await;
    for bad in ["415 555 0199", "+1 555 CALL NOW", "+0 4155550199", ""] {
        let a = ask(&h, &session, bad).await;
        assert_eq!((a.status, error_code(&a)), (StatusCode::UNPROCESSABLE_ENTITY, "phone_invalid"), "{bad:?}: {}", a.text);
    }
    assert!(sms_calls(&h).await.is_empty());
}

#[tokio::test]
async fn off_without_a_twilio_sms_number() {
    let h = harness(&[]).await;
    let session = h.start_webchat_session().await;
    let a = ask(&h, &session, "+14155550199").await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::SERVICE_UNAVAILABLE, "sms_not_configured"), "{}", a.text);
    assert!(sms_calls(&h).await.is_empty());
}

#[tokio::test]
async fn only_with_the_sessions_credential_and_while_the_chat_is_open() {
    let h = harness(&SMS).await;
    let session = h.start_webchat_session().await;
    let id = session["sessionId"].as_str().unwrap();
    let forged = h.json(Method::POST, &format!("/v1/sessions/{id}/sms"), json!({ "sessionCredential": "v1.forged", "phone": "+14155550199" })).await;
    assert_eq!((forged.status, error_code(&forged)), (StatusCode::UNAUTHORIZED, "invalid_credential"));
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": CONVERSATION, "state": "closed" })))
        .mount(&h.twilio)
        .await;
    assert_eq!(h.end(id, session["sessionCredential"].as_str().unwrap()).await.status, StatusCode::NO_CONTENT);
    let a = ask(&h, &session, "+14155550199").await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::NOT_FOUND, "session_ended"), "{}", a.text);
    assert!(sms_calls(&h).await.is_empty());
}

/// Twilio keeps one open conversation per customer number and proxy number (error 50416): that is a 409 the page can
/// explain, and Twilio's message, which quotes the number, stays out of the answer.
#[tokio::test]
async fn a_number_already_in_another_open_sms_chat_is_a_conflict() {
    let h = harness(&SMS).await;
    sms_participants(&h, &[]).await;
    Mock::given(method("POST"))
        .and(path(participants_path()))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({ "code": 50416, "message": "Participant +14155550199 and proxy address pair is already in use", "status": 409 })))
        .mount(&h.twilio)
        .await;
    let session = h.start_webchat_session().await;
    let a = ask(&h, &session, "+14155550199").await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::CONFLICT, "phone_in_use"), "{}", a.text);
    assert!(!a.text.contains("4155550199"));
}

/// One number per chat, whoever holds the credential (a page that could add numbers at will would be an SMS pumping
/// tool): the same number again is done already (no second participant), another is refused. Twilio is asked which
/// SMS participants the chat has, so this holds across replicas and restarts.
#[tokio::test]
async fn a_chat_texts_one_number_at_most() {
    let h = harness(&SMS).await;
    sms_participants(&h, &["+14155550199"]).await;
    let session = h.start_webchat_session().await;
    let again = ask(&h, &session, "+1 (415) 555-0199").await;
    assert_eq!((again.status, again.body.clone()), (StatusCode::OK, json!({ "phone": "+14•••••••99" })), "{}", again.text);
    let other = ask(&h, &session, "+14155550123").await;
    assert_eq!((other.status, error_code(&other)), (StatusCode::CONFLICT, "sms_already_on"), "{}", other.text);
    assert!(sms_calls(&h).await.is_empty(), "no participant added");
}
