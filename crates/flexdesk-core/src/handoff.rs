//! Turns what the web chat hands over at `startChat` into the auth server's [`Handoff`] and session request.

use serde_json::Value;

use crate::wire::{CreateSessionRequest, Handoff, TranscriptLine};

/// The reads these rules make of the web chat's JSON data, so the wasm desk applies them to the JavaScript values as
/// they are: building serde_json `Value`s there (with their B-tree maps) and converting them back cost the desk 2.3 KiB
/// gzipped, measured with scripts/build-wasm. Implemented here for `Value` (the tests, any native caller).
pub trait Data: Sized {
    /// The member `key` of an object (anything, possibly nothing, for a value that is not one).
    fn member(&self, key: &str) -> Self;
    /// The items of an array; none for anything else.
    fn items(&self) -> Vec<Self>;
    /// The text of a string.
    fn text(&self) -> Option<String>;
    /// A plain object (not an array).
    fn is_object(&self) -> bool;
    /// `self`'s members with `over`'s over them, key by key (both are objects).
    fn merged(self, over: Self) -> Self;
}

impl Data for Value {
    fn member(&self, key: &str) -> Self {
        self[key].clone()
    }
    fn items(&self) -> Vec<Self> {
        self.as_array().cloned().unwrap_or_default()
    }
    fn text(&self) -> Option<String> {
        self.as_str().map(String::from)
    }
    fn is_object(&self) -> bool {
        self.is_object()
    }
    fn merged(self, over: Self) -> Self {
        match (self, over) {
            (Value::Object(mut page), Value::Object(extra)) => {
                page.extend(extra);
                Value::Object(page)
            }
            (_, over) => over,
        }
    }
}

/// Finds the `connect_to_agent` item in the web chat's `connectMessage` (a `MessageResponse`) and reads the
/// fields the contact centre routes on. Routing hints come from `transfer_info.additional_data` (the web chat's
/// bucket for service-desk specific values): `skill`, `language`, `topic`.
pub fn handoff_from_connect_message<D: Data>(connect_message: &D, transcript: Vec<TranscriptLine>) -> Handoff {
    let item = connect_message
        .member("output")
        .member("generic")
        .items()
        .into_iter()
        .find(|i| i.member("response_type").text().as_deref() == Some("connect_to_agent"));
    let Some(item) = item else { return Handoff { transcript, ..Handoff::default() } };
    let info = item.member("transfer_info");
    let extra = info.member("additional_data");
    let text = |v: &D, key: &str| v.member(key).text().map(|s| String::from(s.trim())).filter(|s| !s.is_empty());
    // Carbon's `ConnectToHumanAgentItemTransferInfo.summary_message_to_agent` (`TextItem[]`, "an initial set of
    // message items to send to the agent"): its lines follow the message to the agent, which the agent sees with
    // the task.
    let mut to_agent: Vec<String> = text(&item, "message_to_human_agent").into_iter().collect();
    to_agent.extend(info.member("summary_message_to_agent").items().iter().filter_map(|i| text(i, "text")));
    Handoff {
        message_to_human_agent: if to_agent.is_empty() { None } else { Some(crate::media::join(&to_agent, "\n")) },
        topic: text(&extra, "topic").or_else(|| text(&item, "topic")),
        skill: text(&extra, "skill"),
        language: text(&extra, "language"),
        transcript,
        // Signed by the bot's back end (see docs/auth-server.md, "Hand-off trust").
        handoff_token: text(&extra, "handoff_token"),
    }
}

/// The body of `POST /v1/sessions`, read when the web chat calls `startChat` (not when the chat window opened:
/// the page's form may have changed since). `pre_engagement` is the page's data; the pre-chat payload
/// (`preStartChatPayload`) is merged over it, key by key. The customer's name: the merged data's `customerName`
/// or `name`, else `customer_name`, else "Customer". The merged data is returned beside the request, whose
/// `pre_engagement` the caller fills (the wasm desk sends the JavaScript object itself).
pub fn session_request<D: Data>(
    customer_name: Option<String>,
    pre_engagement: Option<D>,
    pre_chat_payload: D,
    handoff: Handoff,
) -> (CreateSessionRequest, Option<D>) {
    let pre_engagement = match (pre_engagement, pre_chat_payload.is_object()) {
        (Some(page), true) if page.is_object() => Some(page.merged(pre_chat_payload)),
        (_, true) => Some(pre_chat_payload),
        (page, false) => page,
    };
    let named = |k: &str| pre_engagement.as_ref().and_then(|p| p.member(k).text()).map(|n| String::from(n.trim())).filter(|n| !n.is_empty());
    let customer_name = named("customerName")
        .or_else(|| named("name"))
        .or(customer_name.filter(|n| !n.trim().is_empty()))
        .unwrap_or_else(|| "Customer".into());
    let request = CreateSessionRequest { customer_name, pre_engagement: None, handoff: Some(handoff), verification_token: None, identity_token: None };
    (request, pre_engagement)
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
        let t = vec![TranscriptLine { from: "user".into(), text: "hi".into() }];
        assert_eq!(handoff_from_connect_message(&json!({}), t.clone()).transcript, t);
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
        let (r, pre) = session_request(Some("Page".into()), Some(json!({"email": "a@b", "topic": "x"})), json!({"topic": "y", "name": "Dana"}), Handoff::default());
        assert_eq!(pre, Some(json!({"email": "a@b", "topic": "y", "name": "Dana"})));
        assert_eq!(r.customer_name, "Dana");
        let (r, pre) = session_request(Some("Page".into()), None, Value::Null, Handoff::default());
        assert_eq!((r.customer_name.as_str(), pre), ("Page", None));
        assert_eq!(session_request(None, None, json!({"customerName": " "}), Handoff::default()).0.customer_name, "Customer");
        // A payload that is not an object leaves the page's data as it is; an array is not an object.
        let (_, pre) = session_request(None, Some(json!({"a": 1})), json!([1]), Handoff::default());
        assert_eq!(pre, Some(json!({"a": 1})));
        let (_, pre) = session_request(None, Some(json!([1])), json!({"b": 2}), Handoff::default());
        assert_eq!(pre, Some(json!({"b": 2})));
    }
}
