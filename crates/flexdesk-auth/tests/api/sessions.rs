//! Start, refresh and end, in each start mode, and every way a credential is refused.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use flexdesk_auth::twilio::token::Claims;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde_json::json;
use wiremock::matchers::{body_string_contains, header as has_header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

fn claims(token: &str) -> Claims {
    decode::<Claims>(token, &DecodingKey::from_secret(API_SECRET.as_bytes()), &Validation::new(Algorithm::HS256)).unwrap().claims
}

/// The form-encoded body has no parameter `key`.
fn form_lacks(key: &'static str) -> impl wiremock::Match {
    move |r: &wiremock::Request| form_urlencoded_keys(&r.body).iter().all(|k| k != key)
}

fn form_urlencoded_keys(body: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(body).split('&').filter_map(|pair| pair.split('=').next()).map(str::to_string).collect()
}

fn form_has(key: &str, value: &str) -> wiremock::matchers::BodyContainsMatcher {
    let encoded: String = url_encode(value);
    body_string_contains(format!("{key}={encoded}"))
}

/// application/x-www-form-urlencoded, as reqwest (serde_urlencoded) writes it.
fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => (b as char).to_string(),
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn webchat_start_passes_handoff_and_returns_a_working_session() {
    let h = harness(&[]).await;
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .and(has_header("authorization", format!("Basic {}", base64_basic(&sid("SK"), API_SECRET)).as_str()))
        .and(form_has("AddressSid", &sid("IG")))
        .and(form_has("CustomerFriendlyName", "Ada Lovelace"))
        .and(form_lacks("Identity")) // twilio-oai flex v2 CreateWebChannel has no Identity: Twilio chooses it
        .and(body_string_contains(url_encode(r#""question":"I want a refund""#)))
        .and(body_string_contains(url_encode(r#""transcript":[{"from":"user","text":"refund?"}]"#)))
        .and(body_string_contains(url_encode(r#""skill":"billing""#)))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "conversation_sid": CONVERSATION, "identity": "customer-abc" })))
        .expect(1)
        .mount(&h.twilio)
        .await;
    let a = h
        .json(
            Method::POST,
            "/v1/sessions",
            json!({
                "customerName": "Ada Lovelace",
                "preEngagement": { "email": "ada@example.com" },
                "handoff": { "message_to_human_agent": "I want a refund", "response_type": "connect_to_agent",
                             "handoff_token": sign_handoff(json!({ "skill": "billing" })),
                             "transcript": [{ "from": "user", "text": "refund?" }] },
                "identity": "admin"
            }),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["conversationSid"], CONVERSATION);
    assert_eq!(a.body["identity"], "customer-abc", "the identity comes from Twilio's answer, never the client");
    let c = claims(a.body["token"].as_str().unwrap());
    assert_eq!(c.grants.identity, "customer-abc");
    assert_eq!(c.grants.chat.service_sid, sid("IS"));
    assert_eq!(c.exp - c.iat, 3600);
    assert_eq!(a.body["tokenExpiresAt"], c.exp);
    let cred = a.body["sessionCredential"].as_str().unwrap();
    assert!(cred.starts_with(&format!("{}.", a.body["sessionId"].as_str().unwrap())));
}

fn base64_basic(user: &str, pass: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
}

#[tokio::test]
async fn flexflow_start_uses_channels_with_a_server_chosen_identity() {
    let h = harness(&[("FLEX_START_MODE", "flexflow"), ("TOKEN_TTL_SECONDS", "600")]).await;
    Mock::given(method("POST"))
        .and(path("/v1/Channels"))
        .and(form_has("FlexFlowSid", &sid("FO")))
        .and(form_has("ChatUserFriendlyName", "Ada"))
        .and(body_string_contains("Identity=customer-"))
        .and(body_string_contains("PreEngagementData="))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": CONVERSATION, "flex_flow_sid": sid("FO") })))
        .expect(1)
        .mount(&h.twilio)
        .await;
    let a = h.json(Method::POST, "/v1/sessions", json!({ "customerName": "Ada" })).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["conversationSid"], CONVERSATION);
    let identity = a.body["identity"].as_str().unwrap();
    assert!(identity.starts_with("customer-") && identity.len() > 30, "{identity}");
    let c = claims(a.body["token"].as_str().unwrap());
    assert_eq!(c.exp - c.iat, 600);
}

#[tokio::test]
async fn interactions_start_creates_conversation_participant_and_interaction_and_end_closes_the_channel_only() {
    let h = harness(&[("FLEX_START_MODE", "interactions")]).await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations", sid("IS"))))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": CONVERSATION })))
        .expect(1)
        .mount(&h.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}/Participants", sid("IS"))))
        .and(body_string_contains("Identity=customer-"))
        .and(body_string_contains(url_encode(r#"{"member_type":"customer"}"#)))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": "MB1" })))
        .expect(1)
        .mount(&h.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/Interactions"))
        .and(body_string_contains(url_encode(&format!(r#""media_channel_sid":"{CONVERSATION}""#))))
        .and(body_string_contains(url_encode(&format!(r#""workflow_sid":"{}""#, sid("WW")))))
        .and(body_string_contains(url_encode(r#""topic":"billing""#)))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": "KD11111111111111111111111111111111", "channel": { "sid": "UO11111111111111111111111111111111", "type": "chat" } })))
        .expect(1)
        .mount(&h.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/Interactions/KD11111111111111111111111111111111/Channels/UO11111111111111111111111111111111"))
        .and(body_string_contains("Status=closed"))
        .and(form_lacks("Routing")) // the agent's task goes to wrapping: the agent wraps up
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": "UO11111111111111111111111111111111", "status": "closed" })))
        .expect(1)
        .mount(&h.twilio)
        .await;
    // Closing the channel closes its conversation (Twilio error page 80906): no second call.
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": CONVERSATION, "state": "closed" })))
        .expect(0)
        .mount(&h.twilio)
        .await;
    let signed = sign_handoff(json!({ "topic": "billing" }));
    let a = h.json(Method::POST, "/v1/sessions", json!({ "customerName": "Ada", "handoff": { "handoff_token": signed } })).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let (id, cred) = (a.body["sessionId"].as_str().unwrap(), a.body["sessionCredential"].as_str().unwrap());
    assert_eq!(h.end(id, cred).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_failed_interaction_closes_the_conversation_it_made() {
    let h = harness(&[("FLEX_START_MODE", "interactions")]).await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations", sid("IS"))))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": CONVERSATION })))
        .mount(&h.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}/Participants", sid("IS"))))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": "MB1" })))
        .mount(&h.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/Interactions"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({ "code": 20001, "message": "Invalid workflow", "status": 400 })))
        .mount(&h.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .and(body_string_contains("State=closed"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": CONVERSATION })))
        .expect(1)
        .mount(&h.twilio)
        .await;
    let a = h.json(Method::POST, "/v1/sessions", json!({ "customerName": "Ada" })).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY);
    assert_eq!(error_code(&a), "twilio_rejected");
    // Twilio's code is for our log, not for an anonymous caller (issue 14, item 5).
    assert!(!a.text.contains("20001") && !a.text.contains("400"), "{}", a.text);
}

#[tokio::test]
async fn refresh_gives_a_new_token_for_the_same_identity_while_open() {
    let h = harness(&[]).await;
    let s = h.start_webchat_session().await;
    conversation_state(&h.twilio, "active").await;
    let a = h.refresh(s["sessionId"].as_str().unwrap(), s["sessionCredential"].as_str().unwrap()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let c = claims(a.body["token"].as_str().unwrap());
    assert_eq!(c.grants.identity, s["identity"]);
    assert_eq!(a.body["tokenExpiresAt"], c.exp);
}

#[tokio::test]
async fn refresh_after_end_is_refused_and_end_is_idempotent() {
    let h = harness(&[]).await;
    let s = h.start_webchat_session().await;
    conversation_state(&h.twilio, "active").await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .and(body_string_contains("State=closed"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": CONVERSATION, "state": "closed" })))
        .expect(1) // the second DELETE does not call Twilio again
        .mount(&h.twilio)
        .await;
    let (id, cred) = (s["sessionId"].as_str().unwrap(), s["sessionCredential"].as_str().unwrap());
    assert_eq!(h.end(id, cred).await.status, StatusCode::NO_CONTENT);
    let a = h.refresh(id, cred).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&a), "session_ended");
    // Bearer form, again: still 204.
    let again = h
        .send(Request::delete(format!("/v1/sessions/{id}")).header(header::AUTHORIZATION, format!("Bearer {cred}")).body(Body::empty()).unwrap())
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "{}", again.text);
}

#[tokio::test]
async fn refresh_is_refused_once_the_agent_closed_the_conversation() {
    let h = harness(&[]).await;
    let s = h.start_webchat_session().await;
    conversation_state(&h.twilio, "closed").await;
    let (id, cred) = (s["sessionId"].as_str().unwrap(), s["sessionCredential"].as_str().unwrap());
    let a = h.refresh(id, cred).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::NOT_FOUND, "session_ended"));
    assert!(matches!(h.state.sessions.get(id).unwrap().state, flexdesk_auth::chat::sessions::SessionState::Ended(_)));
}

#[tokio::test]
async fn forged_foreign_and_token_credentials_are_refused() {
    let h = harness(&[]).await;
    conversation_state(&h.twilio, "active").await;
    let s1 = h.start_webchat_session().await;
    let s2 = h.start_webchat_session().await;
    let (id1, cred1) = (s1["sessionId"].as_str().unwrap(), s1["sessionCredential"].as_str().unwrap());
    let cred2 = s2["sessionCredential"].as_str().unwrap();

    let far_future = flexdesk_auth::infra::clock::unix_now() + 999_999;
    let ctx = flexdesk_auth::chat::credential::Context {
        identity: s1["identity"].as_str().unwrap().into(),
        conversation_sid: CONVERSATION.into(),
        interaction_sid: None,
        channel_sid: None,
    };
    let forged = flexdesk_auth::chat::credential::issue(b"not-the-server-secret-not-the-server", id1, far_future, &ctx);
    let extended = cred1.replacen(&format!(".{}.", cred1.split('.').nth(1).unwrap()), &format!(".{far_future}."), 1);
    for bad in [forged.as_str(), extended.as_str(), cred2, s1["token"].as_str().unwrap(), "", "junk"] {
        let a = h.refresh(id1, bad).await;
        assert_eq!((a.status, error_code(&a)), (StatusCode::UNAUTHORIZED, "invalid_credential"), "{bad:?}");
        let a = h.end(id1, bad).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{bad:?}");
    }
    // No credential at all on DELETE.
    let a = h.send(Request::delete(format!("/v1/sessions/{id1}")).body(Body::empty()).unwrap()).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::UNAUTHORIZED, "invalid_credential"));
    // The real one still works.
    assert_eq!(h.refresh(id1, cred1).await.status, StatusCode::OK);
}

/// Regression (tests/reliability/faults.test.mjs): sessions live in memory, so after a restart every open chat
/// lost its refresh. A valid credential now carries what the session needs; Twilio still decides if it is over.
#[tokio::test]
async fn a_restarted_server_rebuilds_the_session_from_its_credential() {
    let ctx = flexdesk_auth::chat::credential::Context {
        identity: "customer-7".into(),
        conversation_sid: CONVERSATION.into(),
        interaction_sid: None,
        channel_sid: None,
    };
    let cred = flexdesk_auth::chat::credential::issue(SESSION_SECRET.as_bytes(), "before-restart", flexdesk_auth::infra::clock::unix_now() + 600, &ctx);
    let h = harness(&[]).await;
    conversation_state(&h.twilio, "active").await;
    participants(&h.twilio, &["customer-7"]).await;
    let a = h.refresh("before-restart", &cred).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let token = a.body["token"].as_str().unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, token.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(claims["grants"]["identity"], "customer-7", "the token is for the credential's customer");

    // The same after a restart when the agent has closed the chat meanwhile: refused, as before.
    let h = harness(&[]).await;
    conversation_state(&h.twilio, "closed").await;
    participants(&h.twilio, &["customer-7"]).await;
    let a = h.refresh("before-restart", &cred).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::NOT_FOUND, "session_ended"));
}

#[tokio::test]
async fn a_failed_close_leaves_the_session_open_for_a_retry() {
    let h = harness(&[("TWILIO_MAX_RETRIES", "0")]).await;
    let s = h.start_webchat_session().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&h.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": CONVERSATION })))
        .mount(&h.twilio)
        .await;
    let (id, cred) = (s["sessionId"].as_str().unwrap(), s["sessionCredential"].as_str().unwrap());
    let a = h.end(id, cred).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::BAD_GATEWAY, "twilio_unavailable"));
    assert_eq!(h.end(id, cred).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn bad_customer_names_are_422() {
    let h = harness(&[]).await;
    for body in [json!({ "customerName": "  " }), json!({ "customerName": "x".repeat(101) }), json!({ "name": "Ada" })] {
        let a = h.json(Method::POST, "/v1/sessions", body).await;
        assert_eq!((a.status, error_code(&a)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"), "{}", a.text);
    }
}

/// Twilio's answer to updating a closed conversation: error 50377 (<https://www.twilio.com/docs/api/errors/50377>).
fn already_closed() -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({
        "code": 50377, "message": "Can't update conversation as it's in final closed state",
        "more_info": "https://www.twilio.com/docs/errors/50377", "status": 400 }))
}

#[tokio::test]
async fn ending_a_chat_the_agent_already_closed_is_204() {
    let h = harness(&[]).await;
    let s = h.start_webchat_session().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .respond_with(already_closed())
        .expect(1)
        .mount(&h.twilio)
        .await;
    let (id, cred) = (s["sessionId"].as_str().unwrap(), s["sessionCredential"].as_str().unwrap());
    assert_eq!(h.end(id, cred).await.status, StatusCode::NO_CONTENT);
    assert_eq!(h.end(id, cred).await.status, StatusCode::NO_CONTENT, "ending twice asks Twilio once");
}

#[tokio::test]
async fn ending_an_interaction_whose_channel_is_refused_falls_back_to_the_conversation() {
    let h = harness(&[("FLEX_START_MODE", "interactions")]).await;
    mount_interactions_start(&h.twilio).await;
    Mock::given(method("POST"))
        .and(path("/v1/Interactions/KD11111111111111111111111111111111/Channels/UO11111111111111111111111111111111"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({ "code": 20404, "message": "not found", "status": 404 })))
        .expect(1)
        .mount(&h.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .respond_with(already_closed())
        .expect(1)
        .mount(&h.twilio)
        .await;
    let a = h.json(Method::POST, "/v1/sessions", json!({ "customerName": "Ada" })).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let (id, cred) = (a.body["sessionId"].as_str().unwrap(), a.body["sessionCredential"].as_str().unwrap());
    assert_eq!(h.end(id, cred).await.status, StatusCode::NO_CONTENT);
}

/// Issue 22: in the webchat mode nothing routes the chat until a message fires the address's Studio flow, and a REST
/// message fires it only with `X-Twilio-Webhook-Enabled: true`. So the start posts the hand-off (the customer's words
/// as the customer, then the bot's labelled note as the bot), the last one with the header, before answering.
#[tokio::test]
async fn webchat_start_posts_the_handoff_as_messages_and_the_last_routes() {
    let h = harness(&[]).await;
    let messages = format!("/v1/Services/{}/Conversations/{CONVERSATION}/Messages", sid("IS"));
    Mock::given(method("POST"))
        .and(path(messages.clone()))
        .and(body_string_contains("Author=customer-from-twilio"))
        .and(body_string_contains("my+order+is+late"))
        .and(body_string_contains(url_encode(r#"{"flexdesk":{"handoff":"request"}}"#)))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": "IM1", "index": 0 })))
        .expect(1)
        .mount(&h.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path(messages))
        .and(body_string_contains("Author=Bot"))
        .and(body_string_contains("Order+42"))
        .and(has_header("X-Twilio-Webhook-Enabled", "true"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": "IM2", "index": 1 })))
        .expect(1)
        .mount(&h.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "conversation_sid": CONVERSATION, "identity": "customer-from-twilio" })))
        .mount(&h.twilio)
        .await;
    let a = h
        .json(Method::POST, "/v1/sessions", json!({ "customerName": "Ada", "handoff": {
            "message_to_human_agent": "Order 42",
            "transcript": [{ "from": "user", "text": "my order is late" }, { "from": "bot", "text": "Connecting you" }] } }))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    // The customer's words did not carry the header: only the last message routes.
    let posted: Vec<_> = h.twilio.received_requests().await.unwrap().into_iter().filter(|r| r.url.path().ends_with("/Messages")).collect();
    assert_eq!(posted.len(), 2);
    assert!(posted[0].headers.get("x-twilio-webhook-enabled").is_none());
}
