//! Turns what the web chat hands over at `startChat` into the auth server's [`Handoff`] and session request.

use serde_json::Value;

use crate::wire::{CreateSessionRequest, Handoff, TranscriptLine};

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
    // Carbon's `ConnectToHumanAgentItemTransferInfo.summary_message_to_agent` (`TextItem[]`, "an initial set of
    // message items to send to the agent"): its lines follow the message to the agent, which the agent sees with
    // the task.
    let mut to_agent: Vec<String> = text(&item["message_to_human_agent"]).into_iter().collect();
    if let Some(summary) = item["transfer_info"]["summary_message_to_agent"].as_array() {
        to_agent.extend(summary.iter().filter_map(|i| text(&i["text"])));
    }
    Handoff {
        message_to_human_agent: if to_agent.is_empty() { None } else { Some(crate::media::join(&to_agent, "\n")) },
        topic: text(&extra["topic"]).or_else(|| text(&item["topic"])),
        skill: text(&extra["skill"]),
        language: text(&extra["language"]),
        transcript,
        // Signed by the bot's back end (see docs/auth-server.md, "Hand-off trust").
        handoff_token: text(&extra["handoff_token"]),
    }
}

/// The body of `POST /v1/sessions`, read when the web chat calls `startChat` (not when the chat window opened:
/// the page's form may have changed since). `pre_engagement` is the page's data; the pre-chat payload
/// (`preStartChatPayload`) is merged over it, key by key. The customer's name: the merged data's `customerName`
/// or `name`, else `customer_name`, else "Customer".
pub fn session_request(
    customer_name: Option<String>,
    pre_engagement: Option<Value>,
    pre_chat_payload: Value,
    handoff: Handoff,
) -> CreateSessionRequest {
    let pre_engagement = match (pre_engagement, pre_chat_payload) {
        (Some(Value::Object(mut page)), Value::Object(extra)) => {
            page.extend(extra);
            Some(Value::Object(page))
        }
        (_, extra @ Value::Object(_)) => Some(extra),
        (page, _) => page,
    };
    let named = |k: &str| pre_engagement.as_ref().and_then(|p| p[k].as_str()).map(str::trim).filter(|n| !n.is_empty()).map(String::from);
    let customer_name = named("customerName")
        .or_else(|| named("name"))
        .or(customer_name.filter(|n| !n.trim().is_empty()))
        .unwrap_or_else(|| "Customer".into());
    CreateSessionRequest { customer_name, pre_engagement, handoff: Some(handoff), verification_token: None, identity_token: None }
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
    fn summary_message_to_agent_reaches_the_agent() {
        let msg = json!({"output": {"generic": [{"response_type": "connect_to_agent", "message_to_human_agent": "Refund",
            "transfer_info": {"summary_message_to_agent": [{"response_type": "text", "text": "Order 42"}, {"response_type": "text", "text": " late "}]}}]}});
        let h = handoff_from_connect_message(&msg, vec![]);
        assert_eq!(h.message_to_human_agent.as_deref(), Some("Refund\nOrder 42\nlate"));
        let only = json!({"output": {"generic": [{"response_type": "connect_to_agent", "transfer_info": {"summary_message_to_agent": [{"text": "S"}]}}]}});
        assert_eq!(handoff_from_connect_message(&only, vec![]).message_to_human_agent.as_deref(), Some("S"));
    }

    #[test]
    fn session_request_merges_the_pre_chat_payload_over_the_page_data_and_names_the_customer() {
        let r = session_request(Some("Page".into()), Some(json!({"email": "a@b", "topic": "x"})), json!({"topic": "y", "name": "Dana"}), Handoff::default());
        assert_eq!(r.pre_engagement, Some(json!({"email": "a@b", "topic": "y", "name": "Dana"})));
        assert_eq!(r.customer_name, "Dana");
        let r = session_request(Some("Page".into()), None, Value::Null, Handoff::default());
        assert_eq!((r.customer_name.as_str(), r.pre_engagement), ("Page", None));
        assert_eq!(session_request(None, None, json!({"customerName": " "}), Handoff::default()).customer_name, "Customer");
    }
}
