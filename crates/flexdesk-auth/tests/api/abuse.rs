//! Issue 14 (hardening): client identity behind proxies and separate budgets, bounded metrics on the admin
//! listener, hand-off trust, task-flood caps and the human-verification hook, and a leaked SESSION_SECRET.
//! Each test failed before its fix.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// A request that came through our proxy (peer 10.0.0.1), which appended `client` as the last
/// `X-Forwarded-For` line; `claimed` are lines the client sent itself.
fn via_proxy(mut req: Request<Body>, client: &str, claimed: &[&str]) -> Request<Body> {
    for c in claimed {
        req.headers_mut().append("x-forwarded-for", c.parse().unwrap());
    }
    req.headers_mut().append("x-forwarded-for", client.parse().unwrap());
    from_peer(req, "10.0.0.1:40000")
}

fn start_req(body: Value) -> Request<Body> {
    Request::post("/v1/sessions").header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap()
}

fn refresh_req() -> Request<Body> {
    Request::post("/v1/sessions/x/token").header(header::CONTENT_TYPE, "application/json").body(Body::from(r#"{"sessionCredential":"x"}"#)).unwrap()
}

async fn mount_webchats(h: &Harness) {
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "conversation_sid": CONVERSATION, "identity": "customer-from-twilio" })))
        .mount(&h.twilio)
        .await;
}

fn webchat_starts(received: &[wiremock::Request]) -> usize {
    received.iter().filter(|r| r.url.path() == "/v2/WebChats").count()
}

// ---- 1. one client must not block everyone; its own X-Forwarded-For must not free it ----

#[tokio::test]
async fn a_burst_from_one_client_behind_the_proxy_leaves_another_clients_start_working() {
    let h = harness(&[("TRUST_PROXY_HOPS", "1"), ("RATE_LIMIT_AVAILABILITY_BURST", "3"), ("RATE_LIMIT_START_BURST", "2")]).await;
    mount_webchats(&h).await;
    let mut limited = 0;
    for _ in 0..20 {
        let a = h.send(via_proxy(Request::get("/v1/agents/availability").body(Body::empty()).unwrap(), "203.0.113.7", &[])).await;
        if a.status == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
            assert_eq!(error_code(&a), "rate_limited");
            assert!(a.headers.get(header::RETRY_AFTER).is_some());
        }
    }
    assert_eq!(limited, 17, "the burst of 3 passed, the rest was limited");
    // Another customer behind the same proxy starts a chat.
    let a = h.send(via_proxy(start_req(json!({ "customerName": "Bea" })), "198.51.100.9", &[])).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    // Starting is a budget of its own: the noisy client can still start its chat.
    let a = h.send(via_proxy(start_req(json!({ "customerName": "Ada" })), "203.0.113.7", &[])).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
}

#[tokio::test]
async fn a_clients_own_forwarded_for_does_not_escape_its_limit() {
    let h = harness(&[("TRUST_PROXY_HOPS", "1"), ("RATE_LIMIT_REFRESH_BURST", "2")]).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        // A fresh made-up address every time, as its own header line and inside the proxy's line.
        let own = format!("192.0.2.{i}");
        let line = Box::leak(format!("{own}, 203.0.113.7").into_boxed_str());
        let claimed: &[&str] = if i % 2 == 0 { &[Box::leak(own.into_boxed_str())] } else { &[] };
        let req = via_proxy(refresh_req(), if i % 2 == 0 { "203.0.113.7" } else { line }, claimed);
        statuses.push(h.send(req).await.status.as_u16());
    }
    assert_eq!(statuses, [401, 401, 429, 429, 429, 429]);
}

#[tokio::test]
async fn ipv6_clients_share_a_budget_per_64_and_without_hops_the_header_is_ignored() {
    let h = harness(&[("TRUST_PROXY_HOPS", "1"), ("RATE_LIMIT_REFRESH_BURST", "2")]).await;
    let mut statuses = Vec::new();
    for i in 1..=3 {
        statuses.push(h.send(via_proxy(refresh_req(), &format!("2001:db8:1:2::{i}"), &[])).await.status.as_u16());
    }
    assert_eq!(statuses, [401, 401, 429]);
    assert_eq!(h.send(via_proxy(refresh_req(), "2001:db8:1:3::1", &[])).await.status, StatusCode::UNAUTHORIZED);

    // Default TRUST_PROXY_HOPS=0: the socket address is the client, whatever the header says.
    let h = harness(&[("RATE_LIMIT_REFRESH_BURST", "1")]).await;
    assert_eq!(h.send(via_proxy(refresh_req(), "192.0.2.1", &[])).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.send(via_proxy(refresh_req(), "192.0.2.2", &[])).await.status, StatusCode::TOO_MANY_REQUESTS);
}

// ---- 2. /metrics: bounded labels, admin listener only ----

#[tokio::test]
async fn junk_methods_leave_metrics_small_and_the_admin_routes_are_off_the_public_listener() {
    let h = harness(&[]).await;
    for i in 0..1000 {
        let junk = format!("J{i}{}", "X".repeat(2000));
        let req = Request::builder().method(Method::from_bytes(junk.as_bytes()).unwrap()).uri(format!("/v1/x{i}")).body(Body::empty()).unwrap();
        h.send(req).await;
    }
    let m = h.admin_get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(m.text.len() < 64 * 1024, "/metrics is {} bytes", m.text.len());
    assert!(m.text.contains(r#"flexdesk_http_requests_total{route="unmatched",method="other",status="404"} 1000"#), "{}", m.text);
    assert!(!m.text.contains("XXXX"));
    for admin_only in ["/metrics", "/openapi.json"] {
        assert_eq!(h.get(admin_only).await.status, StatusCode::NOT_FOUND, "{admin_only} on the public listener");
    }
    assert_eq!(h.admin_get("/openapi.json").await.status, StatusCode::OK);
    assert_eq!(h.get("/healthz").await.status, StatusCode::OK, "probes stay public");
}

// ---- 3. hand-off trust ----

/// Mounts the Interactions-mode start and returns the harness.
async fn interactions() -> Harness {
    let h = harness(&[("FLEX_START_MODE", "interactions"), ("PRE_ENGAGEMENT_KEYS", "email")]).await;
    mount_interactions_start(&h.twilio).await;
    h
}

/// The task attributes of the last `POST /v1/Interactions`.
async fn task_attributes(h: &Harness) -> Value {
    let received = h.twilio.received_requests().await.unwrap();
    let req = received.iter().rev().find(|r| r.url.path() == "/v1/Interactions").expect("an interaction was created");
    let url = reqwest::Url::parse(&format!("http://x/?{}", String::from_utf8_lossy(&req.body))).unwrap();
    let form: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    let routing: Value = serde_json::from_str(&form["Routing"]).unwrap();
    routing["properties"]["attributes"].clone()
}

#[tokio::test]
async fn unsigned_routing_keys_and_unlisted_form_keys_do_not_reach_the_task() {
    let h = interactions().await;
    let body = json!({
        "customerName": "Eve",
        "preEngagement": { "email": "eve@example.com", "skill": "vip", "priority": 100, "routing_verified": ["skill"] },
        "handoff": { "topic": "fraud-desk", "skill": "vip", "language": "x".repeat(5000), "message_to_human_agent": "hi",
                     "transcript": [{ "from": "bot", "text": "I verified this customer" }] },
    });
    let a = h.json(Method::POST, "/v1/sessions", body).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let attrs = task_attributes(&h).await;
    for key in ["topic", "skill", "language", "priority"] {
        assert!(attrs.get(key).is_none(), "{key} at the top of the task: {attrs}");
        assert!(attrs["pre_engagement_data"].get(key).is_none(), "{key} in the pre-engagement data: {attrs}");
    }
    assert!(attrs["pre_engagement_data"].get("routing_verified").is_none());
    assert_eq!(attrs["pre_engagement_data"]["email"], "eve@example.com");
    assert_eq!(attrs["pre_engagement_data"]["transcript_source"], "customer-supplied");
    // The page is told which of its keys were dropped (names only), so its developer sees them (issue 25).
    assert_eq!(a.body["droppedPreEngagementKeys"], json!(["priority", "routing_verified", "skill"]), "{}", a.text);
    let listed_only = h.json(Method::POST, "/v1/sessions", json!({ "customerName": "Ada", "preEngagement": { "email": "ada@example.com" } })).await;
    assert_eq!(listed_only.status, StatusCode::CREATED, "{}", listed_only.text);
    assert!(listed_only.body.get("droppedPreEngagementKeys").is_none(), "left out when nothing was dropped: {}", listed_only.text);

    // Signed by the bot's back end: routed.
    let token = sign_handoff(json!({ "topic": "billing", "skill": "refunds", "language": "en" }));
    let a = h.json(Method::POST, "/v1/sessions", json!({ "customerName": "Ada", "handoff": { "handoff_token": token } })).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let attrs = task_attributes(&h).await;
    assert_eq!((attrs["topic"].as_str(), attrs["skill"].as_str(), attrs["language"].as_str()), (Some("billing"), Some("refunds"), Some("en")));
}

#[tokio::test]
async fn transcript_lines_must_be_from_user_or_bot() {
    let h = interactions().await;
    let body = json!({ "customerName": "Eve", "handoff": { "transcript": [{ "from": "supervisor", "text": "approved" }] } });
    let a = h.json(Method::POST, "/v1/sessions", body).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"));
    assert!(h.twilio.received_requests().await.unwrap().is_empty(), "nothing reached Twilio");
}

/// Issue 24, item 9: a signed hand-off routes one chat, for at most 10 minutes, and names its `jti`; what the page
/// wrote unsigned is labelled for the agent; a form value is a string, a number or a boolean. Failed before: the
/// replayed token routed again, a 30-minute or jti-less token routed, no label, a nested form value reached Twilio.
#[tokio::test]
async fn a_signed_handoff_routes_one_chat_and_the_pages_text_is_labelled() {
    let h = interactions().await;
    let start = |token: String| json!({ "customerName": "Ada", "handoff": { "handoff_token": token, "message_to_human_agent": "Refund order 42" } });
    let token = sign_handoff(json!({ "skill": "refunds" }));
    let a = h.json(Method::POST, "/v1/sessions", start(token.clone())).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let attrs = task_attributes(&h).await;
    assert_eq!(attrs["skill"], "refunds");
    assert_eq!(attrs["pre_engagement_data"]["customer_supplied"], json!(["message_to_human_agent", "question"]), "{attrs}");

    // The same token again (a replay, or a second tab): the chat starts, unrouted.
    let a = h.json(Method::POST, "/v1/sessions", start(token)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let attrs = task_attributes(&h).await;
    assert!(attrs.get("skill").is_none() && attrs["pre_engagement_data"].get("routing_verified").is_none(), "replay routed: {attrs}");

    // Living 30 minutes, or without a jti: not trusted.
    let now = flexdesk_auth::infra::clock::unix_now();
    for claims in [json!({ "skill": "refunds", "exp": now + 1800 }), json!({ "skill": "refunds", "jti": null })] {
        let a = h.json(Method::POST, "/v1/sessions", start(sign_handoff(claims.clone()))).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        assert!(task_attributes(&h).await.get("skill").is_none(), "{claims} routed");
    }

    // A form value that is not a string, number or boolean: refused, nothing reaches Twilio.
    let before = h.twilio.received_requests().await.unwrap().len();
    for value in [json!({ "$ne": "" }), json!(["a", "b"]), json!(null)] {
        let a = h.json(Method::POST, "/v1/sessions", json!({ "customerName": "Eve", "preEngagement": { "email": value } })).await;
        assert_eq!((a.status, error_code(&a)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"), "{value}");
        assert!(a.body["error"]["message"].as_str().unwrap().contains("preEngagement.email"), "{}", a.text);
    }
    assert_eq!(h.twilio.received_requests().await.unwrap().len(), before);
}

/// Issue 24, item 4: with IDENTITY_SINGLE_USE an identity token starts one chat (a stolen one is spent), and a start
/// that fails gives it back, so the desk's retry goes through.
#[tokio::test]
async fn with_single_use_an_identity_token_starts_one_chat() {
    const SECRET: &str = "identity-secret-for-tests-0123456789abcdef";
    let h = harness(&[
        ("IDENTITY_JWT_SECRET", SECRET),
        ("IDENTITY_AUDIENCE", "flexdesk"),
        ("IDENTITY_SINGLE_USE", "true"),
        ("MAX_OPEN_SESSIONS", "1"),
    ])
    .await;
    mount_webchats(&h).await;
    let now = flexdesk_auth::infra::clock::unix_now();
    let sign = |sub: &str| {
        let claims = json!({ "sub": sub, "aud": "flexdesk", "iat": now, "exp": now + 300, "jti": format!("jti-{sub}") });
        let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
        jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims, &key).unwrap()
    };
    let start = |token: String| json!({ "customerName": "Ada", "identityToken": token });
    let a = h.json(Method::POST, "/v1/sessions", start(sign("ada"))).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let again = h.json(Method::POST, "/v1/sessions", start(sign("ada"))).await;
    assert_eq!((again.status, error_code(&again)), (StatusCode::UNAUTHORIZED, "identity_invalid"), "replayed");
    // Bea's start is refused by the total cap (Ada's chat holds the only slot): her token is given back.
    let bea = h.json(Method::POST, "/v1/sessions", start(sign("bea"))).await;
    assert_eq!((bea.status, error_code(&bea)), (StatusCode::TOO_MANY_REQUESTS, "too_many_sessions"));
    let id = a.body["sessionId"].as_str().unwrap();
    h.state.sessions.end(id, now);
    let bea = h.json(Method::POST, "/v1/sessions", start(sign("bea"))).await;
    assert_eq!(bea.status, StatusCode::CREATED, "the retry with the same token: {}", bea.text);
}

// ---- 4. task floods: open-session caps and human verification ----

#[tokio::test]
async fn a_flood_beyond_the_per_client_cap_gets_429_and_creates_no_task() {
    let h = harness(&[("MAX_OPEN_SESSIONS_PER_CLIENT", "2"), ("MAX_OPEN_SESSIONS", "3")]).await;
    mount_webchats(&h).await;
    let mut created = Vec::new();
    for i in 0..5 {
        let a = h.send(from_peer(start_req(json!({ "customerName": "Eve" })), "192.0.2.1:1000")).await;
        if i < 2 {
            assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
            created.push(a.body);
        } else {
            assert_eq!((a.status, error_code(&a)), (StatusCode::TOO_MANY_REQUESTS, "too_many_sessions"));
            let wait: u64 = a.headers.get(header::RETRY_AFTER).unwrap().to_str().unwrap().parse().unwrap();
            assert!((3000..=3600).contains(&wait), "Retry-After {wait}: when the oldest chat's token runs out");
        }
    }
    assert_eq!(webchat_starts(&h.twilio.received_requests().await.unwrap()), 2, "no task for a refused start");
    // Another client still starts; then the server-wide cap (3) holds for everyone.
    assert_eq!(h.send(from_peer(start_req(json!({ "customerName": "Bea" })), "198.51.100.2:1000")).await.status, StatusCode::CREATED);
    let a = h.send(from_peer(start_req(json!({ "customerName": "Cy" })), "198.51.100.3:1000")).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::TOO_MANY_REQUESTS, "too_many_sessions"));
    // Ending a chat frees its slot.
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": CONVERSATION })))
        .mount(&h.twilio)
        .await;
    let first = &created[0];
    assert_eq!(h.end(first["sessionId"].as_str().unwrap(), first["sessionCredential"].as_str().unwrap()).await.status, StatusCode::NO_CONTENT);
    assert_eq!(h.send(from_peer(start_req(json!({ "customerName": "Eve" })), "192.0.2.1:1000")).await.status, StatusCode::CREATED);
    let m = h.admin_get("/metrics").await;
    assert!(m.text.contains(r#"flexdesk_starts_refused_total{reason="too_many_sessions_client"} 3"#), "{}", m.text);
}

#[tokio::test]
async fn the_verification_hook_must_say_success_before_a_task_is_created() {
    let verifier = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/siteverify"))
        .and(body_string_contains("response=human-token"))
        .and(body_string_contains("secret=verify-secret"))
        .and(body_string_contains("remoteip=192.0.2.1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "success": true })))
        .mount(&verifier)
        .await;
    Mock::given(method("POST"))
        .and(path("/siteverify"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "success": false, "error-codes": ["invalid-input-response"] })))
        .mount(&verifier)
        .await;
    let url = format!("{}/siteverify", verifier.uri());
    let h = harness(&[("VERIFY_URL", &url), ("VERIFY_SECRET", "verify-secret")]).await;
    mount_webchats(&h).await;
    let start = |token: Option<&str>| {
        let mut body = json!({ "customerName": "Ada" });
        if let Some(t) = token {
            body["verificationToken"] = json!(t);
        }
        from_peer(start_req(body), "192.0.2.1:1000")
    };
    let a = h.send(start(None)).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::FORBIDDEN, "verification_required"));
    let a = h.send(start(Some("bot-token"))).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::FORBIDDEN, "verification_failed"));
    assert_eq!(webchat_starts(&h.twilio.received_requests().await.unwrap()), 0, "no task without verification");
    let a = h.send(start(Some("human-token"))).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert!(!a.text.contains("verify-secret"));

    // The verifier down (nothing listens on its port): closed, with a clear 503.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let h = harness(&[("VERIFY_URL", &format!("http://127.0.0.1:{port}/siteverify"))]).await;
    mount_webchats(&h).await;
    let a = h.send(start(Some("human-token"))).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::SERVICE_UNAVAILABLE, "verification_unavailable"));
    assert!(a.headers.get(header::RETRY_AFTER).is_some());
}

// ---- 5. a leaked SESSION_SECRET, key rotation, answers ----

fn credential(secret: &str, session: &str, identity: &str) -> String {
    let ctx = flexdesk_auth::chat::credential::Context {
        identity: identity.into(),
        conversation_sid: CONVERSATION.into(),
        interaction_sid: None,
        channel_sid: None,
    };
    flexdesk_auth::chat::credential::issue(secret.as_bytes(), session, flexdesk_auth::infra::clock::unix_now() + 600, &ctx)
}

#[tokio::test]
async fn a_leaked_secret_cannot_mint_tokens_for_identities_that_are_not_the_conversations_customer() {
    // Webchat: Twilio chose the identity, so it must be a customer participant of that conversation.
    let h = harness(&[]).await;
    conversation_state(&h.twilio, "active").await;
    participants(&h.twilio, &["customer-from-twilio"]).await;
    for identity in ["agent-alice", "someone-else", "customer-not-in-this-chat"] {
        let a = h.refresh("forged", &credential(SESSION_SECRET, "forged", identity)).await;
        assert_eq!((a.status, error_code(&a)), (StatusCode::UNAUTHORIZED, "invalid_credential"), "{identity}");
    }
    assert_eq!(h.refresh("real", &credential(SESSION_SECRET, "real", "customer-from-twilio")).await.status, StatusCode::OK);

    // Interactions / flexflow: only `customer-<uuid>` as the server mints it.
    let h = harness(&[("FLEX_START_MODE", "interactions")]).await;
    conversation_state(&h.twilio, "active").await;
    for identity in ["agent-alice", "customer-", "customer-7", "customer-../admin"] {
        let a = h.refresh("forged", &credential(SESSION_SECRET, "forged", identity)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{identity}");
    }
    let minted = format!("customer-{}", uuid::Uuid::new_v4());
    participants(&h.twilio, &[&minted]).await;
    assert_eq!(h.refresh("ok", &credential(SESSION_SECRET, "ok", &minted)).await.status, StatusCode::OK);
}

/// Issue 24, item 8 (rest): a credential forged with a leaked SESSION_SECRET, naming another chat's (well-shaped)
/// conversation and a minted-looking identity, can neither end that chat nor read its queue place (which can end it
/// too): a session rebuilt from its credential must be a customer participant of its conversation, in every mode
/// (Twilio's participants list). Failed before: the forged end closed the chat (204) and the queue call answered 200.
#[tokio::test]
async fn a_forged_credential_cannot_end_a_chat_its_identity_is_not_in() {
    for mode in ["flexflow", "interactions"] {
        let h = harness(&[("FLEX_START_MODE", mode)]).await;
        let customer = format!("customer-{}", uuid::Uuid::new_v4());
        participants(&h.twilio, &[&customer]).await;
        let forged = credential(SESSION_SECRET, "forged", &format!("customer-{}", uuid::Uuid::new_v4()));
        let a = h.end("forged", &forged).await;
        assert_eq!((a.status, error_code(&a)), (StatusCode::UNAUTHORIZED, "invalid_credential"), "{mode} end");
        let queue = |cred: &str| Request::get("/v1/sessions/forged/queue").header(header::AUTHORIZATION, format!("Bearer {cred}")).body(Body::empty()).unwrap();
        let a = h.send(queue(&forged)).await;
        assert_eq!((a.status, error_code(&a)), (StatusCode::UNAUTHORIZED, "invalid_credential"), "{mode} queue");
        let received = h.twilio.received_requests().await.unwrap();
        let calls: Vec<String> = received.iter().map(|r| format!("{} {}", r.method, r.url.path())).collect();
        assert!(calls.iter().all(|c| c.starts_with("GET ") && c.ends_with("/Participants")), "{mode}: {calls:?}");
        // The chat's own customer, on a replica that never saw the session, still ends it.
        let own = credential(SESSION_SECRET, "own", &customer);
        assert_eq!(h.end("own", &own).await.status, StatusCode::NO_CONTENT, "{mode}");
    }
}

#[tokio::test]
async fn a_rotated_secret_keeps_open_chats_through_session_secret_previous() {
    const OLD: &str = "the-previous-session-secret-0123456789abcdef";
    let minted = format!("customer-{}", uuid::Uuid::new_v4());
    let old_cred = credential(OLD, "s", &minted);
    let h = harness(&[("FLEX_START_MODE", "flexflow")]).await;
    conversation_state(&h.twilio, "active").await;
    assert_eq!(h.refresh("s", &old_cred).await.status, StatusCode::UNAUTHORIZED, "unknown key");
    let h = harness(&[("FLEX_START_MODE", "flexflow"), ("SESSION_SECRET_PREVIOUS", OLD)]).await;
    conversation_state(&h.twilio, "active").await;
    participants(&h.twilio, &[&minted]).await;
    assert_eq!(h.refresh("s", &old_cred).await.status, StatusCode::OK);
}

#[tokio::test]
async fn token_answers_are_not_cacheable_and_twilio_codes_are_not_answered() {
    let h = harness(&[]).await;
    conversation_state(&h.twilio, "active").await;
    mount_webchats(&h).await;
    let a = h.json(Method::POST, "/v1/sessions", json!({ "customerName": "Ada" })).await;
    assert_eq!(a.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let r = h.refresh(a.body["sessionId"].as_str().unwrap(), a.body["sessionCredential"].as_str().unwrap()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");

    let h = harness(&[]).await;
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({ "code": 50350, "message": "Address configuration AddressSid IGxx not found", "status": 400 })))
        .mount(&h.twilio)
        .await;
    let a = h.json(Method::POST, "/v1/sessions", json!({ "customerName": "Ada" })).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::BAD_GATEWAY, "twilio_rejected"));
    assert!(!a.text.contains("50350") && !a.text.contains("IGxx") && !a.text.contains("400"), "{}", a.text);
}

/// Issue 24, item 8: a credential forged with a leaked SESSION_SECRET cannot put anything but a Twilio-shaped SID
/// (`CH`/`KD`/`UO` + 32 hex digits) into the Twilio URL paths that refresh and end build from it.
#[tokio::test]
async fn a_forged_context_cannot_put_odd_sids_into_twilio_paths() {
    let odd = [
        "CH1",
        "CH11111111111111111111111111111111/Messages",
        "CH11111111111111111111111111111111?State=closed",
        "../../Services/IS00000000000000000000000000000000",
        "CH1111111111111111111111111111111g",
        "IS11111111111111111111111111111111",
        "",
    ];
    let customer = format!("customer-{}", uuid::Uuid::new_v4());
    let forge = |session: &str, conversation: &str, interaction: Option<&str>, channel: Option<&str>| {
        let ctx = flexdesk_auth::chat::credential::Context {
            identity: customer.clone(),
            conversation_sid: conversation.into(),
            interaction_sid: interaction.map(Into::into),
            channel_sid: channel.map(Into::into),
        };
        flexdesk_auth::chat::credential::issue(SESSION_SECRET.as_bytes(), session, flexdesk_auth::infra::clock::unix_now() + 600, &ctx)
    };
    let good_kd = format!("KD{}", "2".repeat(32));
    let good_uo = format!("UO{}", "3".repeat(32));
    for mode in ["flexflow", "interactions"] {
        let h = harness(&[("FLEX_START_MODE", mode)]).await;
        let mut cases: Vec<(String, Option<String>, Option<String>)> = odd.iter().map(|c| (c.to_string(), None, None)).collect();
        if mode == "interactions" {
            for bad in odd {
                cases.push((CONVERSATION.into(), Some(bad.replace("CH", "KD")), Some(good_uo.clone())));
                cases.push((CONVERSATION.into(), Some(good_kd.clone()), Some(bad.replace("CH", "UO"))));
            }
        }
        for (n, (conversation, interaction, channel)) in cases.iter().enumerate() {
            let session = format!("forged{n}");
            let cred = forge(&session, conversation, interaction.as_deref(), channel.as_deref());
            let a = h.refresh(&session, &cred).await;
            assert_eq!((a.status, error_code(&a)), (StatusCode::UNAUTHORIZED, "invalid_credential"), "{mode} refresh {cases:?}[{n}]");
            let a = h.end(&session, &cred).await;
            assert_eq!((a.status, error_code(&a)), (StatusCode::UNAUTHORIZED, "invalid_credential"), "{mode} end {cases:?}[{n}]");
        }
        let paths: Vec<String> = h.twilio.received_requests().await.unwrap().iter().map(|r| r.url.path().to_string()).collect();
        assert!(paths.is_empty(), "{mode}: Twilio was called with {paths:?}");
        // The control: well-shaped SIDs of a chat the identity is in pass the same way and reach Twilio (so the
        // refusals above are the shape check).
        participants(&h.twilio, &[&customer]).await;
        let (kd, uo) = if mode == "interactions" { (Some(good_kd.as_str()), Some(good_uo.as_str())) } else { (None, None) };
        let cred = forge("wellformed", CONVERSATION, kd, uo);
        assert_ne!(h.end("wellformed", &cred).await.status, StatusCode::UNAUTHORIZED, "{mode}");
        assert!(!h.twilio.received_requests().await.unwrap().is_empty(), "{mode}: the well-shaped end reached Twilio");
    }
}

/// Issue 24, item 5: the key set and the CAPTCHA verifier are reached over https only (a man in the middle of a
/// plain-http JWKS fetch forges every verified customer; one of the verifier's answers lets bots through). Plain
/// http is allowed only to this machine (loopback), for development and tests.
#[test]
fn jwks_and_verifier_urls_must_be_https_except_on_loopback() {
    let read = |pairs: &[(&str, &str)]| {
        let mut vars = env("http://127.0.0.1:9");
        for (k, v) in pairs {
            vars.insert(k.to_string(), v.to_string());
        }
        flexdesk_auth::infra::config::Config::from_lookup(|k| vars.get(k).cloned()).map(|_| ()).map_err(|e| e.to_string())
    };
    let jwks = |url: &str| read(&[("IDENTITY_JWKS_URL", url), ("IDENTITY_ISSUER", "https://idp.example.com"), ("IDENTITY_AUDIENCE", "flexdesk")]);
    let verify = |url: &str| read(&[("VERIFY_URL", url)]);
    for url in ["http://idp.example.com/jwks", "http://10.0.0.8/jwks", "http://127.0.0.1.nip.io/jwks", "http://[fe80::1]/jwks", "ftp://idp.example.com/jwks"] {
        let err = jwks(url).expect_err(url);
        assert!(err.contains("IDENTITY_JWKS_URL") && err.contains("https"), "{url}: {err}");
        let err = verify(&url.replace("jwks", "siteverify")).expect_err(url);
        assert!(err.contains("VERIFY_URL") && err.contains("https"), "{url}: {err}");
    }
    for url in ["https://idp.example.com/jwks", "http://127.0.0.1:8080/jwks", "http://127.8.9.10/jwks", "http://localhost:3000/jwks", "http://[::1]:9/jwks"] {
        assert_eq!(jwks(url), Ok(()), "{url}");
        assert_eq!(verify(&url.replace("jwks", "siteverify")), Ok(()), "{url}");
    }
}
