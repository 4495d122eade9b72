//! The JavaScript objects the desk talks to: the `@twilio/conversations` Client, Conversation, message builder
//! and paginator, and Carbon AI Chat's `ServiceDeskCallback`. They are called by method name through one
//! dispatcher rather than one wasm-bindgen import per method: structural (any object with these methods works,
//! so the real SDK and the emulator's stand-in both fit), and a few hundred bytes of glue instead of one JS
//! function per method. Every call is caught: a throwing callback or SDK method is an `Err`, never an unwind.

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::js::get;

/// The web chat's `ServiceDeskCallback`.
pub type ServiceDeskCallback = JsValue;

/// `target[method](...args)`; a missing method is an `Err` like a throwing one.
pub fn call(target: &JsValue, method: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    let f = get(target, method);
    let Some(f) = f.dyn_ref::<Function>() else {
        return Err(js_sys::Error::new(&(String::from(method) + " is not a function")).into());
    };
    Reflect::apply(f, target, &args.iter().copied().collect::<Array>())
}

/// A promise-returning method that may also throw synchronously, as one promise.
pub fn call_promise(target: &JsValue, method: &str, args: &[&JsValue]) -> Promise {
    match call(target, method, args) {
        Ok(v) => Promise::resolve(&v),
        Err(e) => Promise::reject(&e),
    }
}
