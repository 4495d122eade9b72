//! What the agent sees about the customer before the first message: the pre-engagement data and routing
//! attributes built from `POST /v1/sessions`. Pure functions, so the shape is unit-tested without Twilio.
//!
//! The keys follow Twilio's Webchat conventions (`friendlyName`, `question` — what Studio flows read as
//! `trigger.conversation.ChannelAttributes.pre_engagement_data.question`), plus the bot hand-off
//! (`message_to_human_agent`, topic, skill, language) and the bot transcript so the agent has the context.

use flexdesk_core::wire::{CreateSessionRequest, TranscriptLine};
use serde_json::{json, Map, Value};

/// Budget for the pre-engagement JSON. Twilio caps conversation attributes at 16 KB and the
/// routing attributes wrap this object, so leave headroom.
pub const MAX_PRE_ENGAGEMENT_BYTES: usize = 12 * 1024;
pub const MAX_CUSTOMER_NAME_CHARS: usize = 100;
/// `topic`, `skill` and `language` are routing keys, short by nature.
pub const MAX_ROUTING_VALUE_CHARS: usize = 200;

/// Why the request cannot be turned into a chat (answered as 422).
#[derive(Debug, Clone, PartialEq)]
pub struct EngagementError(pub String);

/// The customer name, trimmed; refused when empty or too long.
/// Length and characters are checked on the name as sent (before trimming), as /openapi.json states them,
/// so every name the spec calls valid is accepted and every other one refused.
pub fn customer_name(req: &CreateSessionRequest) -> Result<String, EngagementError> {
    let raw = &req.customer_name;
    let name = raw.trim();
    if name.is_empty() {
        return Err(EngagementError("customerName must not be empty".into()));
    }
    if raw.chars().count() > MAX_CUSTOMER_NAME_CHARS {
        return Err(EngagementError(format!("customerName must be at most {MAX_CUSTOMER_NAME_CHARS} characters")));
    }
    if raw.chars().any(char::is_control) {
        return Err(EngagementError("customerName must not contain control characters".into()));
    }
    Ok(name.to_string())
}

/// The `PreEngagementData` object. When the transcript makes it too large, the oldest lines are dropped
/// (the most recent ones matter most to the agent) and `transcript_truncated` says so.
pub fn pre_engagement_data(req: &CreateSessionRequest, name: &str) -> Result<Map<String, Value>, EngagementError> {
    let mut data = Map::new();
    // The client's form fields first, so the server's own keys below win on a clash.
    match &req.pre_engagement {
        Some(Value::Object(fields)) => data.extend(fields.clone()),
        Some(Value::Null) | None => {}
        Some(other) => {
            data.insert("preEngagement".into(), other.clone());
        }
    }
    data.insert("friendlyName".into(), json!(name));
    let mut transcript: &[TranscriptLine] = &[];
    if let Some(h) = &req.handoff {
        if let Some(m) = &h.message_to_human_agent {
            data.insert("question".into(), json!(m));
            data.insert("message_to_human_agent".into(), json!(m));
        }
        for (key, value) in [("topic", &h.topic), ("skill", &h.skill), ("language", &h.language)] {
            if let Some(v) = value {
                // These are copied once more to the top of the task attributes; unbounded, they would push
                // the routing attributes past Twilio's 16 KB cap even when the pre-engagement data fits.
                if v.chars().count() > MAX_ROUTING_VALUE_CHARS {
                    return Err(EngagementError(format!("handoff.{key} must be at most {MAX_ROUTING_VALUE_CHARS} characters")));
                }
                data.insert(key.into(), json!(v));
            }
        }
        transcript = &h.transcript;
    }
    let base_len = serde_json::to_vec(&data).map(|v| v.len()).unwrap_or(usize::MAX);
    if base_len > MAX_PRE_ENGAGEMENT_BYTES {
        return Err(EngagementError(format!(
            "preEngagement and handoff together must stay under {MAX_PRE_ENGAGEMENT_BYTES} bytes of JSON"
        )));
    }
    // Keep the longest suffix of the transcript that fits.
    let mut kept = transcript.len();
    // Room for the transcript key and the truncation flag, whether or not it ends up needed.
    let mut used = base_len + r#","transcript":[],"transcript_truncated":true"#.len();
    for line in transcript.iter().rev() {
        let size = serde_json::to_vec(line).map(|v| v.len() + 1).unwrap_or(usize::MAX);
        if used + size > MAX_PRE_ENGAGEMENT_BYTES {
            break;
        }
        used += size;
        kept -= 1;
    }
    if !transcript.is_empty() {
        data.insert("transcript".into(), json!(&transcript[kept..]));
        if kept > 0 {
            data.insert("transcript_truncated".into(), json!(true));
        }
    }
    Ok(data)
}

/// TaskRouter task attributes for the Interactions API: what Flex shows on the task and what workflows
/// filter on (`skill`, `language`, `topic` at the top level).
pub fn routing_attributes(pre_engagement: &Map<String, Value>, name: &str, conversation_sid: &str) -> Value {
    let mut attrs = json!({
        "name": name,
        "from": name,
        "customerName": name,
        "channelType": "web",
        "conversationSid": conversation_sid,
        "pre_engagement_data": pre_engagement,
    });
    for key in ["topic", "skill", "language"] {
        if let Some(v) = pre_engagement.get(key) {
            attrs[key] = v.clone();
        }
    }
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;
    use flexdesk_core::wire::Handoff;

    fn request() -> CreateSessionRequest {
        CreateSessionRequest {
            customer_name: "  Ada  ".into(),
            pre_engagement: Some(json!({"email": "ada@example.com", "friendlyName": "spoofed"})),
            handoff: Some(Handoff {
                message_to_human_agent: Some("I need a refund".into()),
                topic: Some("billing".into()),
                skill: Some("refunds".into()),
                language: Some("en".into()),
                transcript: vec![
                    TranscriptLine { from: "user".into(), text: "hi".into() },
                    TranscriptLine { from: "bot".into(), text: "hello".into() },
                ],
            }),
        }
    }

    #[test]
    fn handoff_and_form_fields_reach_the_agent() {
        let req = request();
        let name = customer_name(&req).unwrap();
        assert_eq!(name, "Ada");
        let data = pre_engagement_data(&req, &name).unwrap();
        assert_eq!(
            Value::Object(data.clone()),
            json!({
                "email": "ada@example.com", "friendlyName": "Ada", "question": "I need a refund",
                "message_to_human_agent": "I need a refund", "topic": "billing", "skill": "refunds", "language": "en",
                "transcript": [{"from": "user", "text": "hi"}, {"from": "bot", "text": "hello"}]
            })
        );
        let attrs = routing_attributes(&data, &name, "CH1");
        assert_eq!(attrs["skill"], "refunds");
        assert_eq!(attrs["pre_engagement_data"]["transcript"][1]["text"], "hello");
    }

    /// Regression: the routing attributes repeat topic/skill/language at the top level, so with long values
    /// they outgrew Twilio's 16 KB attribute cap although the pre-engagement data fit in 12 KB.
    #[test]
    fn routing_attributes_stay_under_twilios_cap() {
        for len in [MAX_ROUTING_VALUE_CHARS, 2500] {
            let mut req = request();
            req.customer_name = "\u{10348}".repeat(MAX_CUSTOMER_NAME_CHARS);
            let h = req.handoff.as_mut().unwrap();
            h.topic = Some("\u{10348}".repeat(len));
            match pre_engagement_data(&req, &customer_name(&req).unwrap()) {
                Ok(data) => {
                    let attrs = routing_attributes(&data, &customer_name(&req).unwrap(), "CH1");
                    let size = serde_json::to_vec(&attrs).unwrap().len();
                    assert!(size < 16 * 1024, "topic of {len} chars: routing attributes {size} bytes");
                }
                Err(_) => assert!(len > MAX_ROUTING_VALUE_CHARS, "a {len}-char topic must be accepted"),
            }
        }
    }

    #[test]
    fn a_long_transcript_keeps_its_most_recent_lines() {
        let mut req = request();
        let lines: Vec<TranscriptLine> =
            (0..2000).map(|i| TranscriptLine { from: "user".into(), text: format!("line {i} {}", "x".repeat(20)) }).collect();
        req.handoff.as_mut().unwrap().transcript = lines;
        let data = pre_engagement_data(&req, "Ada").unwrap();
        let size = serde_json::to_vec(&data).unwrap().len();
        assert!(size <= MAX_PRE_ENGAGEMENT_BYTES, "{size}");
        let kept = data["transcript"].as_array().unwrap();
        assert!(kept.len() > 100 && kept.len() < 2000);
        assert!(kept.last().unwrap()["text"].as_str().unwrap().starts_with("line 1999 "));
        assert_eq!(data["transcript_truncated"], true);
    }

    #[test]
    fn bad_names_and_oversized_forms_are_refused() {
        let mut req = request();
        req.customer_name = "   ".into();
        assert!(customer_name(&req).is_err());
        req.customer_name = "a".repeat(101);
        assert!(customer_name(&req).is_err());
        req.customer_name = "Ada\u{0}".into();
        assert!(customer_name(&req).is_err());
        // Checked as sent, as the OpenAPI schema states it: padding counts, a trailing newline is refused.
        req.customer_name = format!(" {} ", "a".repeat(99));
        assert!(customer_name(&req).is_err());
        req.customer_name = "Ada\n".into();
        assert!(customer_name(&req).is_err());
        req.customer_name = " Ada ".into();
        assert_eq!(customer_name(&req).unwrap(), "Ada");
        let mut long_topic = request();
        long_topic.handoff.as_mut().unwrap().topic = Some("t".repeat(MAX_ROUTING_VALUE_CHARS + 1));
        assert!(pre_engagement_data(&long_topic, "Ada").is_err());
        req.pre_engagement = Some(json!({"blob": "x".repeat(MAX_PRE_ENGAGEMENT_BYTES)}));
        assert!(pre_engagement_data(&req, "Ada").is_err());
    }
}
