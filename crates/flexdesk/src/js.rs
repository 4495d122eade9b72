//! Small helpers for reading plain JavaScript objects handed to us by the SDK and the web chat.

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

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
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
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
    get_str(e, "message").or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

/// HTTP-ish status carried by an SDK error, if any.
pub fn error_status(e: &JsValue) -> Option<u64> {
    get_u64(e, "status").or_else(|| get_u64(e, "code").filter(|c| (100..600).contains(c)))
}

pub fn warn(what: &str, e: &JsValue) {
    web_sys::console::warn_2(&JsValue::from_str(&format!("flexdesk: {what}")), e);
}

/// `v` as an array; anything else (undefined, an object) is an empty one rather than a thrown TypeError.
pub fn array(v: &JsValue) -> js_sys::Array {
    if js_sys::Array::is_array(v) {
        v.clone().unchecked_into()
    } else {
        js_sys::Array::new()
    }
}
