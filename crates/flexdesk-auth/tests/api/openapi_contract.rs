//! Issue 24, item 4 (issue 11's schemathesis failures): the OpenAPI document served on the admin listener states
//! what the server answers. Integrators generate clients from it, so a status the server gives must be declared,
//! and a value over a declared `maxLength` must be refused (a 4xx the document lists), not accepted.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

fn declared_statuses(doc: &Value, path: &str, method: &str) -> Vec<u16> {
    doc["paths"][path][method]["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}")).keys().map(|k| k.parse().unwrap()).collect()
}

fn max_length(doc: &Value, schema: &str, property: &str) -> usize {
    let p = &doc["components"]["schemas"][schema]["properties"][property];
    // `Option<String>` fields are `oneOf [null, {type: string, maxLength}]` or `type: [string, null]`.
    let limit = p["maxLength"].as_u64().or_else(|| p["oneOf"].as_array().and_then(|a| a.iter().find_map(|s| s["maxLength"].as_u64())));
    limit.unwrap_or_else(|| panic!("{schema}.{property} declares no maxLength: {p}")) as usize
}

#[tokio::test]
async fn the_served_document_declares_what_a_start_answers_and_its_limits_hold() {
    // No IDENTITY_* and no VERIFY_URL: the server the schemathesis run found the mismatches on.
    let h = harness(&[("RATE_LIMIT_START_BURST", "1000")]).await;
    let doc = h.admin_get("/openapi.json").await.body;
    let declared = declared_statuses(&doc, "/v1/sessions", "post");
    h.start_webchat_session().await; // mounts Twilio's WebChats answer
    let start = |body: Value| h.json(Method::POST, "/v1/sessions", body);

    // An identityToken to a server without identity config: 400 identity_not_configured, declared as such.
    let a = start(json!({"customerName": "Ada", "identityToken": "a.b.c"})).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::BAD_REQUEST, "identity_not_configured"));
    assert!(declared.contains(&400), "{declared:?}");
    let said = doc["paths"]["/v1/sessions"]["post"]["responses"]["400"]["description"].as_str().unwrap_or("");
    assert!(said.contains("identity_not_configured"), "the 400 description names the code: {said}");

    // Every string limit the document declares on the start body: a value at the limit is taken as the document
    // says, one character over it is refused 422 invalid_body (whatever else is configured).
    let with = |schema: &str, property: &str, value: String| -> Value {
        match (schema, property) {
            ("Handoff", _) => json!({"customerName": "Ada", "handoff": {property: value}}),
            (_, "customerName") => json!({"customerName": value}),
            _ => json!({"customerName": "Ada", property: value}),
        }
    };
    // Without IDENTITY_* the document does not offer identityToken (schemathesis called a schema-valid start refused
    // 400 a disagreement); a server that verifies tokens declares it with its limit (the test below).
    assert!(doc["components"]["schemas"]["CreateSessionRequest"]["properties"].get("identityToken").is_none(), "identityToken offered");
    let cases = [
        ("CreateSessionRequest", "customerName", (StatusCode::CREATED, "")),
        ("CreateSessionRequest", "verificationToken", (StatusCode::CREATED, "")),
    ];
    // The cases are every maxLength the document declares on the start body: a new limit needs a case here.
    let mut limited: Vec<(String, String)> = Vec::new();
    for schema in ["CreateSessionRequest", "Handoff"] {
        for (property, p) in doc["components"]["schemas"][schema]["properties"].as_object().unwrap() {
            if p.to_string().contains("\"maxLength\"") {
                limited.push((schema.to_string(), property.clone()));
            }
        }
    }
    // The unsigned routing keys are dropped whatever their length: the document must not promise a limit on them.
    let long = start(json!({"customerName": "Ada", "handoff": {"topic": "t".repeat(5000), "skill": "s".repeat(5000), "language": "l".repeat(5000)}})).await;
    assert_eq!(long.status, StatusCode::CREATED, "{}", long.text);
    let covered: Vec<(String, String)> = cases.iter().map(|(s, p, _)| (s.to_string(), p.to_string())).collect();
    limited.sort();
    let mut sorted = covered.clone();
    sorted.sort();
    assert_eq!(limited, sorted, "every declared maxLength of the start body is checked");
    for (schema, property, at_limit) in cases {
        let max = max_length(&doc, schema, property);
        // Multi-byte characters: JSON Schema's maxLength counts characters, not bytes.
        for ch in ['x', 'é'] {
            let a = start(with(schema, property, ch.to_string().repeat(max))).await;
            let code = a.body["error"]["code"].as_str().unwrap_or("");
            assert_eq!((a.status, code), at_limit, "{schema}.{property}: {max} × {ch:?} (the document's maxLength): {}", a.text);
            let over = start(with(schema, property, ch.to_string().repeat(max + 1))).await;
            assert_eq!(
                (over.status, over.body["error"]["code"].as_str().unwrap_or("")),
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
                "{schema}.{property}: {} × {ch:?} is over the document's maxLength {max}: {}",
                max + 1,
                over.text
            );
            for status in [a.status, over.status] {
                assert!(declared.contains(&status.as_u16()), "{status} answered but not declared: {declared:?}");
            }
        }
    }
}

#[tokio::test]
async fn identity_required_refuses_guests_with_a_declared_code_and_lets_signed_in_customers_start() {
    const SECRET: &str = "identity-secret-for-tests-0123456789abcdef";
    let h = harness(&[("IDENTITY_JWT_SECRET", SECRET), ("IDENTITY_AUDIENCE", "flexdesk"), ("IDENTITY_REQUIRED", "true"), ("RATE_LIMIT_START_BURST", "1000")]).await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/v2/WebChats"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({ "conversation_sid": CONVERSATION, "identity": "customer-from-twilio" })))
        .mount(&h.twilio)
        .await;
    let doc = h.admin_get("/openapi.json").await.body;
    let said = doc["paths"]["/v1/sessions"]["post"]["responses"]["401"]["description"].as_str().unwrap_or("");
    assert!(said.contains("identity_required"), "the 401 description names the code: {said}");
    // This server verifies identity tokens: the field is offered, with its limit, and one character over is 422.
    let max = max_length(&doc, "CreateSessionRequest", "identityToken");
    let over = h.json(Method::POST, "/v1/sessions", json!({"customerName": "Ada", "identityToken": "x".repeat(max + 1)})).await;
    assert_eq!((over.status, error_code(&over)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"));

    let guest = h.json(Method::POST, "/v1/sessions", json!({"customerName": "Ada"})).await;
    assert_eq!((guest.status, error_code(&guest)), (StatusCode::UNAUTHORIZED, "identity_required"), "a guest is refused");

    let now = flexdesk_auth::infra::clock::unix_now();
    let claims = json!({"sub": "user-42", "aud": "flexdesk", "iat": now, "exp": now + 300, "name": "Ada Lovelace"});
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let signed_in = h.json(Method::POST, "/v1/sessions", json!({"customerName": "Ada", "identityToken": token})).await;
    assert_eq!(signed_in.status, StatusCode::CREATED, "a verified customer starts: {:?}", signed_in.body);
}
