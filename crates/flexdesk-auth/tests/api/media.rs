//! `GET /v1/media/{MediaSid}` (issue 23, defect 5): an agent's file opened through a signed link, redirected to a
//! fresh Twilio temporary URL each time, only for media of the signed conversation.

use axum::http::{header, StatusCode};
use serde_json::json;
use wiremock::matchers::{header as has_header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

const MEDIA: &str = "ME22222222222222222222222222222222";

/// Mounts the media service's record of `media` in `conversation`, with `temporary` as its fresh URL.
async fn media_record(h: &Harness, media: &str, conversation: Option<&str>, temporary: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/v1/Services/{}/Media/{media}", sid("IS"))))
        // Basic auth with the API key, as the media resource page documents.
        .and(has_header("authorization", basic(&sid("SK"), API_SECRET).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sid": media, "service_sid": sid("IS"), "channel_sid": conversation, "message_sid": "IM33333333333333333333333333333333",
            "content_type": "image/png", "filename": "a.png", "size": 3,
            "links": { "content": "https://mcs.example/Content", "content_direct_temporary": temporary },
        })))
        .mount(&h.twilio)
        .await;
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

async fn media_calls(h: &Harness) -> usize {
    h.twilio.received_requests().await.unwrap().iter().filter(|r| r.url.path().contains("/Media/")).count()
}

#[tokio::test]
async fn a_session_offers_a_signed_link_that_redirects_to_a_fresh_temporary_url() {
    let h = harness(&[]).await;
    let s = h.start_webchat_session().await;
    let query = s["mediaLinkQuery"].as_str().expect("the start offers media links");
    assert!(query.starts_with(&format!("conversation={CONVERSATION}&expires=")), "{query}");
    assert!(!query.contains(s["sessionCredential"].as_str().unwrap()), "never the session credential");
    media_record(&h, MEDIA, Some(CONVERSATION), "https://mcs.example/Content?Token=fresh").await;
    let a = h.get(&format!("/v1/media/{MEDIA}?{query}")).await;
    assert_eq!(a.status, StatusCode::FOUND, "{}", a.text);
    assert_eq!(a.headers[header::LOCATION], "https://mcs.example/Content?Token=fresh");
    assert_eq!(a.headers[header::CACHE_CONTROL], "no-store", "the redirect is asked again each time");
    assert_eq!(media_calls(&h).await, 1, "one media-service call per open");
    h.get(&format!("/v1/media/{MEDIA}?{query}")).await;
    assert_eq!(media_calls(&h).await, 2, "never cached: the temporary URL expires");
}

#[tokio::test]
async fn media_of_another_conversation_or_none_is_not_found() {
    let h = harness(&[]).await;
    let query = h.start_webchat_session().await["mediaLinkQuery"].as_str().unwrap().to_string();
    let other = "ME44444444444444444444444444444444";
    let unsent = "ME55555555555555555555555555555555";
    media_record(&h, other, Some("CH99999999999999999999999999999999"), "https://mcs.example/other").await;
    media_record(&h, unsent, None, "https://mcs.example/unsent").await;
    for me in [other, unsent, "ME66666666666666666666666666666666"] {
        let a = h.get(&format!("/v1/media/{me}?{query}")).await;
        assert_eq!((a.status, error_code(&a)), (StatusCode::NOT_FOUND, "not_found"), "{me}");
        assert!(a.headers.get(header::LOCATION).is_none());
    }
}

#[tokio::test]
async fn forged_expired_and_malformed_links_are_refused_without_asking_twilio() {
    let h = harness(&[]).await;
    let query = h.start_webchat_session().await["mediaLinkQuery"].as_str().unwrap().to_string();
    let field = |k: &str| query.split('&').find_map(|p| p.strip_prefix(&format!("{k}="))).unwrap().to_string();
    let (conversation, expires, signature) = (field("conversation"), field("expires"), field("signature"));
    let other_ch = "CH99999999999999999999999999999999";
    let expired = flexdesk_auth::chat::media_link::MediaLinkKeys::new(SESSION_SECRET.as_bytes(), None).query(CONVERSATION, 1);
    for q in [
        format!("conversation={other_ch}&expires={expires}&signature={signature}"),
        format!("conversation={conversation}&expires={}&signature={signature}", expires.parse::<u64>().unwrap() + 1),
        format!("conversation={conversation}&expires={expires}&signature=AAAA"),
        format!("conversation={conversation}&expires={expires}"),
        expired,
        String::new(),
    ] {
        let a = h.get(&format!("/v1/media/{MEDIA}?{q}")).await;
        assert_eq!((a.status, error_code(&a)), (StatusCode::FORBIDDEN, "invalid_signature"), "{q}");
    }
    let a = h.get(&format!("/v1/media/ME12?{query}")).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "not a media SID: {}", a.text);
    assert_eq!(media_calls(&h).await, 0);
}

#[tokio::test]
async fn twilio_failures_are_the_usual_errors() {
    let h = harness(&[]).await;
    let query = h.start_webchat_session().await["mediaLinkQuery"].as_str().unwrap().to_string();
    Mock::given(method("GET"))
        .and(path(format!("/v1/Services/{}/Media/{MEDIA}", sid("IS"))))
        .respond_with(ResponseTemplate::new(500))
        .mount(&h.twilio)
        .await;
    let a = h.get(&format!("/v1/media/{MEDIA}?{query}")).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{}", a.text);
}
