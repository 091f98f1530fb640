//! `HalideError` values for JavaScript.
//!
//! The class itself is a few lines of JavaScript in the package's entry
//! points (a subclass of `Error` cannot be made from Rust without `eval`);
//! the entry registers it here once with [`register_error_class`]. Until
//! then (e.g. in the crate's own wasm tests) errors are plain `Error`s with
//! the same `name`, `code` and `message`.

use crate::core::error::{Error, ErrorCode};
use crate::core::halide_codes;
use js_sys::{Array, Function, Object, Reflect};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    static ERROR_CLASS: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Registers the `HalideError` constructor: `new HalideError(message, { code, cause })`.
#[wasm_bindgen(js_name = registerErrorClass)]
pub fn register_error_class(class: Function) {
    ERROR_CLASS.with(|c| *c.borrow_mut() = Some(class));
}

fn code_value(code: ErrorCode) -> JsValue {
    match code {
        ErrorCode::Halide(c) => JsValue::from(c),
        ErrorCode::Name(s) => JsValue::from_str(s),
    }
}

/// A `HalideError` for `e`; `context` (e.g. the pipeline's name) prefixes the
/// message; `cause` is attached as the error's `cause`.
pub fn to_js(e: &Error, context: Option<&str>, cause: Option<JsValue>) -> JsValue {
    let message = match context {
        Some(c) => format!("{c}: {e}"),
        None => e.to_string(),
    };
    let code = code_value(e.code());
    // Halide's numeric code, also where the runtime aborted instead of
    // returning it (read back from its message).
    let halide_code = match e {
        Error::Halide { code, .. } => Some(*code),
        Error::Abort(text) => halide_codes::code_for_message(text),
        _ => None,
    };
    let err = construct(&message, &code, cause);
    if let Some(c) = halide_code {
        let _ = Reflect::set(&err, &"halideCode".into(), &JsValue::from(c));
    }
    err
}

fn construct(message: &str, code: &JsValue, cause: Option<JsValue>) -> JsValue {
    let class = ERROR_CLASS.with(|c| c.borrow().clone());
    if let Some(class) = class {
        let opts = Object::new();
        let _ = Reflect::set(&opts, &"code".into(), code);
        if let Some(cause) = &cause {
            let _ = Reflect::set(&opts, &"cause".into(), cause);
        }
        let args = Array::of2(&JsValue::from_str(message), &opts);
        if let Ok(v) = Reflect::construct(&class, &args) {
            return v;
        }
    }
    let err = js_sys::Error::new(message);
    err.set_name("HalideError");
    let _ = Reflect::set(&err, &"code".into(), code);
    if let Some(cause) = cause {
        let _ = Reflect::set(&err, &"cause".into(), &cause);
    }
    err.into()
}
