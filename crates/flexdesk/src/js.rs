//! Small helpers for reading plain JavaScript objects handed to us by the SDK and the web chat, and the browser
//! globals the desk uses, through web-sys (timers, the console; the auth server's HTTP API is gloo-net's, in
//! [`crate::auth`]).
//!
//! Size rule for this crate: no `core::fmt` (`format!`, `{:?}`, `to_string` on numbers), no serde
//! deserializers. Text is joined with `+`, numbers cross to JavaScript as numbers, and JSON goes through the
//! browser's own `JSON` object; the core's hand-off rules read JavaScript values through [`Js`].

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// `String(v)`: how JavaScript itself prints a value.
    #[wasm_bindgen(js_name = String)]
    pub fn js_string(v: &JsValue) -> String;
}

pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() || obj.is_function() {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

pub fn get_str(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

pub fn get_u64(obj: &JsValue, key: &str) -> Option<u64> {
    get(obj, key).as_f64().filter(|n| *n >= 0.0 && n.fract() == 0.0).map(|n| n as u64)
}

/// Builds `{k: v, ...}` from string pairs.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        set(&o, k, v);
    }
    o.into()
}

pub fn set(o: &JsValue, key: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(key), v);
}

/// A JSON-ish attributes value: the SDK gives objects, some versions strings.
pub fn attributes(obj: &JsValue) -> JsValue {
    let a = get(obj, "attributes");
    match a.as_string() {
        Some(s) => js_sys::JSON::parse(&s).unwrap_or(JsValue::NULL),
        None => a,
    }
}

pub fn error_message(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    get_str(e, "message").unwrap_or_else(|| js_string(e))
}

/// HTTP-ish status carried by an SDK error, if any.
pub fn error_status(e: &JsValue) -> Option<u64> {
    get_u64(e, "status").or_else(|| get_u64(e, "code").filter(|c| (100..600).contains(c)))
}

pub fn warn(what: &str, e: &JsValue) {
    web_sys::console::warn_3(&JsValue::from_str("flexdesk:"), &JsValue::from_str(what), e);
}

/// `setTimeout(f, ms, arg)`: `f` is called with `arg`.
pub fn set_timeout(f: &js_sys::Function, ms: f64, arg: i32) {
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_1(f, ms as i32, &JsValue::from(arg));
    }
}

/// `v` as an array; anything else (undefined, an object) is an empty one rather than a thrown TypeError.
pub fn array(v: &JsValue) -> Array {
    if Array::is_array(v) {
        v.clone().unchecked_into()
    } else {
        Array::new()
    }
}

/// A JavaScript value read by the core's hand-off rules ([`flexdesk_core::handoff::Data`]): the web chat's connect
/// message, the page's pre-engagement data and the pre-chat payload are never converted into serde_json values.
pub struct Js(pub JsValue);

impl flexdesk_core::handoff::Data for Js {
    fn member(&self, key: &str) -> Self {
        Js(get(&self.0, key))
    }
    fn items(&self) -> Vec<Self> {
        array(&self.0).iter().map(Js).collect()
    }
    fn text(&self) -> Option<String> {
        self.0.as_string()
    }
    fn is_object(&self) -> bool {
        self.0.is_object() && !Array::is_array(&self.0)
    }
    fn merged(self, over: Self) -> Self {
        let o = Object::new();
        Object::assign(&o, self.0.unchecked_ref());
        Object::assign(&o, over.0.unchecked_ref());
        Js(o.into())
    }
}

/// `v` as JSON data, a copy taken now (the page may change its object later): `JSON.parse(JSON.stringify(v))`, so
/// functions and `undefined` members are left out and non-finite numbers are `null`. `None`, said in the console,
/// when `JSON.stringify` throws (a cyclic object, a `BigInt`).
pub fn json_copy(v: &JsValue, what: &str) -> Option<JsValue> {
    let copy = js_sys::JSON::stringify(v).ok().and_then(|s| js_sys::JSON::parse(&String::from(s)).ok());
    if copy.is_none() {
        warn(&(String::from(what) + " is not JSON data (cyclic, or a BigInt): it is left out"), v);
    }
    copy
}

/// An optional string as a value: `undefined` when absent (left out by `JSON.stringify`).
pub fn opt_str(s: &Option<String>) -> JsValue {
    s.as_deref().map_or(JsValue::UNDEFINED, JsValue::from_str)
}
