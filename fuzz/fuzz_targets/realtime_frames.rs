//! What reaches the emulator from outside: realtime frames and Twilio REST bodies.
//!
//! The emulator has no public function that parses a whole realtime frame (`realtime::run` parses inline and
//! `Session::handle` is private), so this fuzzes the public pieces a frame goes through: the `init`/
//! `updateToken` access token (`token::verify`), the `getMessages` request (`realtime::messages_page`), and
//! the REST side's form bodies and paging (`rest_support::Form`, `rest_support::page`).
//! Properties: no panic; a token verifies only if it is a real one for the configured keys; a page holds at
//! most 100 messages in ascending index order.
#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue};
use flexdesk_emulator::config::Config;
use flexdesk_emulator::realtime::messages_page;
use flexdesk_emulator::rest_support::{page, Form};
use flexdesk_emulator::state::{Conversation, ConversationRecord, Message};
use flexdesk_emulator::token::verify;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    frame: &'a [u8],
    token: &'a str,
    message_count: u8,
    form_body: &'a [u8],
    content_type: &'a str,
    page_size: Option<&'a str>,
    page_no: Option<&'a str>,
}

fn config() -> Config {
    Config::for_tests()
}

fuzz_target!(|input: Input<'_>| {
    let config = config();
    // An `init` frame's token, or the raw frame itself if it is JSON with a token in it.
    let _ = verify(&config, input.token);
    let frame: Option<Value> = serde_json::from_slice(input.frame).ok();
    if let Some(t) = frame.as_ref().and_then(|f| f["token"].as_str()) {
        if let Ok(v) = verify(&config, t) {
            assert!(!v.identity.is_empty());
        }
    }

    // getMessages over a conversation with some messages.
    let conv = Conversation {
        messages: (0..u64::from(input.message_count))
            .map(|i| Message {
                sid: format!("IM{i}"),
                index: i,
                author: "a".into(),
                body: Some("x".into()),
                attributes: "{}".into(),
                media: Vec::new(),
                participant_sid: None,
                date_created: 0,
            })
            .collect(),
        record: ConversationRecord {
            sid: "CH1".into(),
            service_sid: config.service_sid.clone(),
            unique_name: None,
            friendly_name: None,
            attributes: "{}".into(),
            state: flexdesk_emulator::state::ConversationState::Active,
            date_created: 0,
            date_updated: 0,
        },
        participants: Vec::new(),
        seq: 0,
        typing: HashMap::new(),
        integration: None,
    };
    let req = frame.unwrap_or(Value::Null);
    let page_json = messages_page(&conv, &req);
    let idx: Vec<u64> = page_json["messages"].as_array().unwrap().iter().map(|m| m["index"].as_u64().unwrap()).collect();
    assert!(idx.len() <= 100 && idx.windows(2).all(|w| w[0] < w[1]), "{idx:?}");

    // REST: a form body and a list page.
    let mut headers = HeaderMap::new();
    if let Ok(ct) = HeaderValue::from_str(input.content_type) {
        headers.insert("content-type", ct);
    }
    if let Ok(form) = Form::parse(&headers, &Bytes::copy_from_slice(input.form_body)) {
        let _ = form.json("Attributes");
        let _ = form.require("Body");
    }
    let mut query = HashMap::new();
    if let Some(s) = input.page_size {
        query.insert("PageSize".to_string(), s.to_string());
    }
    if let Some(p) = input.page_no {
        query.insert("Page".to_string(), p.to_string());
    }
    let items: Vec<Value> = (0..u64::from(input.message_count)).map(Value::from).collect();
    if let Ok(v) = page("http://127.0.0.1:1", "/v1/x", "items", items, &query) {
        assert!(v["items"].as_array().unwrap().len() <= 1000);
    }
});
