//! Turns what the web chat hands over at `startChat` into the auth server's [`Handoff`], and agent text into
//! something the web chat shows as text.

use serde_json::Value;

use crate::wire::{Handoff, TranscriptLine};

/// Finds the `connect_to_agent` item in the web chat's `connectMessage` (a `MessageResponse`) and reads the
/// fields the contact centre routes on. Routing hints come from `transfer_info.additional_data` (the web chat's
/// bucket for service-desk specific values): `skill`, `language`, `topic`.
pub fn handoff_from_connect_message(connect_message: &Value, transcript: Vec<TranscriptLine>) -> Handoff {
    // Plain indexing, not `pointer("/output/generic")`: a JSON pointer parser costs the wasm desk kilobytes.
    let item = connect_message["output"]["generic"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["response_type"] == "connect_to_agent"))
        .unwrap_or(&Value::Null);
    let extra = &item["transfer_info"]["additional_data"];
    let text = |v: &Value| v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
    Handoff {
        message_to_human_agent: text(&item["message_to_human_agent"]),
        topic: text(&extra["topic"]).or_else(|| text(&item["topic"])),
        skill: text(&extra["skill"]),
        language: text(&extra["language"]),
        transcript,
        // Signed by the bot's back end (see docs/auth-server.md, "Hand-off trust").
        handoff_token: text(&extra["handoff_token"]),
    }
}

/// Agent text is untrusted: escape it so the web chat shows `<img onerror=…>` as those characters rather than
/// handing markup to its renderer.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_connect_to_agent_item_and_routing_hints() {
        let msg = json!({"output": {"generic": [
            {"response_type": "text", "text": "hold on"},
            {"response_type": "connect_to_agent", "message_to_human_agent": " Wants a refund ",
             "transfer_info": {"additional_data": {"skill": "billing", "language": "fr", "topic": "refund"}}}
        ]}});
        let t = vec![TranscriptLine { from: "user".into(), text: "hi".into() }];
        let h = handoff_from_connect_message(&msg, t.clone());
        assert_eq!(h.message_to_human_agent.as_deref(), Some("Wants a refund"));
        assert_eq!((h.skill.as_deref(), h.language.as_deref(), h.topic.as_deref()), (Some("billing"), Some("fr"), Some("refund")));
        assert_eq!(h.transcript, t);
    }

    #[test]
    fn tolerates_a_message_without_the_item() {
        let h = handoff_from_connect_message(&json!({"output": 3}), vec![]);
        assert_eq!(h, Handoff::default());
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape_html("<img src=x onerror=alert(1)> & \"'"), "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;&#39;");
        assert_eq!(escape_html("plain ✓"), "plain ✓");
    }
}
