//! `POST /v1/sessions/{id}/rating` (issue 28): the ended chat's rating reaches its TaskRouter task under the keys Flex
//! Insights reads, once, within the window after the end, while the task exists; 409 otherwise.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

const TASK: &str = "WT11111111111111111111111111111111";

async fn rate(h: &Harness, id: &str, credential: &str, score: u8, comment: Option<&str>) -> Answer {
    let mut body = json!({ "sessionCredential": credential, "score": score });
    if let Some(c) = comment {
        body["comment"] = json!(c);
    }
    h.json(Method::POST, &format!("/v1/sessions/{id}/rating"), body).await
}

/// Twilio's side of a rating: the chat's newest task (`ListTask` newest first, `FetchTask` with `attributes`) and its
/// update (`UpdateTask`), answering `update_status`.
async fn mount_task(h: &Harness, update_status: u16) {
    let tasks = format!("/v1/Workspaces/{}/Tasks", sid("WS"));
    Mock::given(method("GET"))
        .and(path(tasks.clone()))
        .and(query_param("Ordering", "DateCreated:desc"))
        .and(query_param("EvaluateTaskAttributes", format!("conversationSid == \"{CONVERSATION}\"")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "tasks": [{ "sid": TASK, "attributes": null }], "meta": { "page": 0, "key": "tasks" } })))
        .with_priority(1)
        .mount(&h.twilio)
        .await;
    let attributes = json!({ "conversationSid": CONVERSATION, "name": "Ada", "conversations": { "hang_up_by": "Agent" } }).to_string();
    Mock::given(method("GET"))
        .and(path(format!("{tasks}/{TASK}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": TASK, "assignment_status": "completed", "attributes": attributes })))
        .mount(&h.twilio)
        .await;
    let answer = if update_status == 200 { ResponseTemplate::new(200).set_body_json(json!({ "sid": TASK })) } else { ResponseTemplate::new(update_status).set_body_json(json!({ "code": 20404, "message": "not found", "status": update_status })) };
    Mock::given(method("POST")).and(path(format!("{tasks}/{TASK}"))).respond_with(answer).mount(&h.twilio).await;
}

/// The `Attributes` of every `UpdateTask` Twilio received.
async fn updates(h: &Harness) -> Vec<Value> {
    let p = format!("/v1/Workspaces/{}/Tasks/{TASK}", sid("WS"));
    h.twilio
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == p)
        .map(|r| {
            let form: Vec<(String, String)> = form_urlencoded::parse(&r.body).into_owned().collect();
            serde_json::from_str(&form.iter().find(|(k, _)| k == "Attributes").expect("Attributes").1).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn a_rating_after_the_end_reaches_the_task_for_flex_insights_once() {
    let h = harness(&[]).await;
    let (id, cred) = ended_session(&h).await;
    mount_task(&h, 200).await;
    let a = rate(&h, &id, &cred, 4, Some("  Quick and kind.  ")).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    let written = updates(&h).await;
    assert_eq!(
        written,
        vec![json!({
            "conversationSid": CONVERSATION,
            "name": "Ada",
            "conversations": { "hang_up_by": "Agent", "conversation_measure_1": 4, "conversation_attribute_1": "Quick and kind." }
        })],
        "the score and comment under Flex Insights' custom keys, every other attribute kept"
    );
    // Accepted once: the second is refused without another write.
    let again = rate(&h, &id, &cred, 5, None).await;
    assert_eq!((again.status, error_code(&again)), (StatusCode::CONFLICT, "already_rated"));
    assert_eq!(updates(&h).await.len(), 1);
}

#[tokio::test]
async fn another_slot_and_only_the_sessions_own_credential() {
    let h = harness(&[("RATING_INSIGHTS_SLOT", "3")]).await;
    let (id, cred) = ended_session(&h).await;
    mount_task(&h, 200).await;
    let (_, other_cred) = ids(&h.start_webchat_session().await);
    let a = rate(&h, &id, &other_cred, 4, None).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::UNAUTHORIZED, "invalid_credential"));
    for bad in [json!({ "sessionCredential": cred, "score": 0 }), json!({ "sessionCredential": cred, "score": 6 }), json!({ "sessionCredential": cred, "score": 3, "comment": "x".repeat(501) })] {
        let a = h.json(Method::POST, &format!("/v1/sessions/{id}/rating"), bad).await;
        assert_eq!((a.status, error_code(&a)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"));
    }
    assert_eq!(rate(&h, &id, &cred, 2, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(updates(&h).await[0]["conversations"], json!({ "hang_up_by": "Agent", "conversation_measure_3": 2 }));
}

#[tokio::test]
async fn a_chat_still_open_or_ended_too_long_ago_is_409_and_nothing_is_written() {
    let h = harness(&[]).await;
    mount_task(&h, 200).await;
    let (id, cred) = ids(&h.start_webchat_session().await);
    conversation_state(&h.twilio, "active").await;
    let a = rate(&h, &id, &cred, 4, None).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::CONFLICT, "chat_not_ended"));

    // The agent closed it an hour ago (Twilio's date_updated): past RATING_WINDOW_SECONDS (900).
    let h = harness(&[]).await;
    mount_task(&h, 200).await;
    let (id, cred) = ids(&h.start_webchat_session().await);
    let an_hour_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(3600);
    Mock::given(method("GET"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": CONVERSATION, "state": "closed", "date_updated": an_hour_ago.to_string() })))
        .mount(&h.twilio)
        .await;
    let a = rate(&h, &id, &cred, 4, None).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::CONFLICT, "rating_closed"), "{}", a.text);
    assert!(updates(&h).await.is_empty());

    // RATING_WINDOW_SECONDS=0: ratings refused.
    let h = harness(&[("RATING_WINDOW_SECONDS", "0")]).await;
    let (id, cred) = ended_session(&h).await;
    mount_task(&h, 200).await;
    let a = rate(&h, &id, &cred, 4, None).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::CONFLICT, "rating_closed"));
    assert!(updates(&h).await.is_empty());
}

#[tokio::test]
async fn a_task_twilio_deleted_is_409_and_a_twilio_failure_leaves_the_rating_unused() {
    // The task is gone (TaskRouter deletes it five minutes after it ended): 409, and the rating can be sent again.
    let h = harness(&[]).await;
    let (id, cred) = ended_session(&h).await;
    mount_task(&h, 404).await;
    let a = rate(&h, &id, &cred, 4, None).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::CONFLICT, "rating_closed"), "{}", a.text);

    // Twilio failing (5xx) is not the customer's "no": 502, and the next try is not `already_rated`.
    let h = harness(&[]).await;
    let (id, cred) = ended_session(&h).await;
    mount_task(&h, 500).await;
    let a = rate(&h, &id, &cred, 4, None).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{}", a.text);
    let a = rate(&h, &id, &cred, 4, None).await;
    assert_ne!(error_code(&a), "already_rated");

    // No task at all (never routed): 409.
    let h = harness(&[]).await;
    let (id, cred) = ended_session(&h).await;
    let a = rate(&h, &id, &cred, 4, None).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::CONFLICT, "rating_closed"));

    // Without a workspace, ratings cannot find the task: 503.
    let h = harness(&[("TWILIO_WORKSPACE_SID", ""), ("TWILIO_QUEUE_SID", "")]).await;
    let (id, cred) = ended_session(&h).await;
    let a = rate(&h, &id, &cred, 4, None).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::SERVICE_UNAVAILABLE, "rating_not_configured"));
}
