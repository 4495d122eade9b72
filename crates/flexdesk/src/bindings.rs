//! The JavaScript objects the desk talks to, as wasm-bindgen `extern` types. They are structural: any object
//! with these methods works, so the real `@twilio/conversations` Client and the emulator's stand-in both fit.
//! Every call is `catch`: a throwing callback or SDK method is logged, never unwinds through the desk.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `@twilio/conversations` `Client`.
    #[derive(Clone)]
    pub type ConversationsClient;
    #[wasm_bindgen(method, catch)]
    pub fn on(this: &ConversationsClient, event: &str, listener: &Function) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = getConversationBySid)]
    pub fn get_conversation_by_sid(this: &ConversationsClient, sid: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = updateToken)]
    pub fn update_token(this: &ConversationsClient, token: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub fn shutdown(this: &ConversationsClient) -> Result<Promise, JsValue>;

    /// `Conversation`.
    #[derive(Clone)]
    pub type Conversation;
    #[wasm_bindgen(method, catch)]
    pub fn on(this: &Conversation, event: &str, listener: &Function) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = sendMessage)]
    pub fn send_message(this: &Conversation, body: &str, attributes: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = prepareMessage)]
    pub fn prepare_message(this: &Conversation) -> Result<MessageBuilder, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub fn typing(this: &Conversation) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = advanceLastReadMessageIndex)]
    pub fn advance_last_read_message_index(this: &Conversation, index: f64) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = getMessages)]
    pub fn get_messages(this: &Conversation, page_size: u32) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = getParticipants)]
    pub fn get_participants(this: &Conversation) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, getter)]
    pub fn state(this: &Conversation) -> JsValue;

    /// `MessageBuilder` / `UnsentMessage`, for media.
    #[derive(Clone)]
    pub type MessageBuilder;
    #[wasm_bindgen(method, catch, js_name = setAttributes)]
    pub fn set_attributes(this: &MessageBuilder, attributes: &JsValue) -> Result<MessageBuilder, JsValue>;
    #[wasm_bindgen(method, catch, js_name = addMedia)]
    pub fn add_media(this: &MessageBuilder, media: &JsValue) -> Result<MessageBuilder, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub fn build(this: &MessageBuilder) -> Result<UnsentMessage, JsValue>;
    #[derive(Clone)]
    pub type UnsentMessage;
    #[wasm_bindgen(method, catch)]
    pub fn send(this: &UnsentMessage) -> Result<Promise, JsValue>;

    /// `Paginator<T>`.
    #[derive(Clone)]
    pub type Paginator;
    #[wasm_bindgen(method, getter)]
    pub fn items(this: &Paginator) -> js_sys::Array;
    #[wasm_bindgen(method, getter, js_name = hasPrevPage)]
    pub fn has_prev_page(this: &Paginator) -> bool;
    #[wasm_bindgen(method, catch, js_name = prevPage)]
    pub fn prev_page(this: &Paginator) -> Result<Promise, JsValue>;

    /// Carbon AI Chat's `ServiceDeskCallback`.
    #[derive(Clone)]
    pub type ServiceDeskCallback;
    #[wasm_bindgen(method, catch, js_name = updateCapabilities)]
    pub fn update_capabilities(this: &ServiceDeskCallback, capabilities: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = updateAgentAvailability)]
    pub fn update_agent_availability(this: &ServiceDeskCallback, availability: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = agentJoined)]
    pub fn agent_joined(this: &ServiceDeskCallback, profile: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = agentReadMessages)]
    pub fn agent_read_messages(this: &ServiceDeskCallback) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = agentTyping)]
    pub fn agent_typing(this: &ServiceDeskCallback, is_typing: bool) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = sendMessageToUser)]
    pub fn send_message_to_user(this: &ServiceDeskCallback, message: &JsValue, agent_id: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = beginTransferToAnotherAgent)]
    pub fn begin_transfer_to_another_agent(this: &ServiceDeskCallback, profile: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = agentLeftChat)]
    pub fn agent_left_chat(this: &ServiceDeskCallback) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = agentEndedChat)]
    pub fn agent_ended_chat(this: &ServiceDeskCallback) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = setErrorStatus)]
    pub fn set_error_status(this: &ServiceDeskCallback, info: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = setFileUploadStatus)]
    pub fn set_file_upload_status(this: &ServiceDeskCallback, id: &str, is_error: bool, message: Option<String>) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = updatePersistedState)]
    pub fn update_persisted_state(this: &ServiceDeskCallback, state: &JsValue, merge: bool) -> Result<(), JsValue>;
}
