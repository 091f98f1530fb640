//! Helpers shared by the wasm tests that describe hand-written modules.
#![cfg(target_arch = "wasm32")]
#![allow(dead_code)]

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

/// `o[k] = v`.
pub fn set(o: &Object, k: &str, v: &JsValue) {
    Reflect::set(o, &JsValue::from_str(k), v).unwrap();
}

/// One entry of `options.arguments`: `{ name, kind, type, dimensions }`.
pub fn arg(name: &str, kind: &str, ty: &str, dims: u32) -> JsValue {
    let o = Object::new();
    set(&o, "name", &name.into());
    set(&o, "kind", &kind.into());
    set(&o, "type", &ty.into());
    set(&o, "dimensions", &dims.into());
    o.into()
}
