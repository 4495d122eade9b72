//! Small helpers for reading plain JavaScript objects handed to us by the SDK and the web chat, and the browser
//! globals the desk uses, through web-sys (timers, the console; `fetch` in [`crate::auth`]).
//!
//! Size rule for this crate: no `core::fmt` (`format!`, `{:?}`, `to_string` on numbers), no serde
//! deserializers. Text is joined with `+`, numbers cross to JavaScript as numbers, and JSON goes through the
//! browser's own `JSON` object and the converters below.

use js_sys::{Array, Object, Reflect};
use serde_json::{Map, Number, Value};
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

/// Deep enough for any real pre-engagement form or bot message; stops a cyclic object instead of overflowing.
const MAX_DEPTH: u32 = 32;

/// A plain JavaScript value as JSON data, the way `JSON.stringify` sees it (functions and `undefined` members
/// are left out, non-finite numbers are `null`).
pub fn to_json(v: &JsValue) -> Value {
    to_json_at(v, 0)
}

fn to_json_at(v: &JsValue, depth: u32) -> Value {
    if let Some(s) = v.as_string() {
        Value::String(s)
    } else if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if let Some(n) = v.as_f64() {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    } else if depth >= MAX_DEPTH || !v.is_object() {
        Value::Null
    } else if Array::is_array(v) {
        Value::Array(array(v).iter().map(|x| to_json_at(&x, depth + 1)).collect())
    } else {
        let mut map = Map::new();
        for entry in Object::entries(v.unchecked_ref()).iter() {
            let (k, x) = (Reflect::get_u32(&entry, 0).unwrap_or_default(), Reflect::get_u32(&entry, 1).unwrap_or_default());
            if let (Some(k), false) = (k.as_string(), x.is_undefined() || x.is_function()) {
                map.insert(k, to_json_at(&x, depth + 1));
            }
        }
        Value::Object(map)
    }
}

/// JSON data as a plain JavaScript value (objects, arrays, numbers: never `Map`s or `BigInt`s).
pub fn from_json(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => n.as_f64().map_or(JsValue::NULL, JsValue::from_f64),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => items.iter().map(from_json).collect::<Array>().into(),
        Value::Object(map) => {
            let o: JsValue = Object::new().into();
            for (k, x) in map {
                set(&o, k, &from_json(x));
            }
            o
        }
    }
}

/// An optional string as a value: `undefined` when absent (left out by `JSON.stringify`).
pub fn opt_str(s: &Option<String>) -> JsValue {
    s.as_deref().map_or(JsValue::UNDEFINED, JsValue::from_str)
}
