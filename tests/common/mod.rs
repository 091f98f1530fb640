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

/// Load options for a JIT-flavour module: `entry`, and `arguments` with the
/// `__user_context` the executor passes first, then `args` as
/// `(name, kind, type, dimensions)`.
pub fn jit_options(entry: &str, args: &[(&str, &str, &str, u32)]) -> Object {
    let o = Object::new();
    set(&o, "entry", &entry.into());
    let list = js_sys::Array::new();
    list.push(&arg("__user_context", "scalar", "handle", 0));
    for (name, kind, ty, dims) in args {
        list.push(&arg(name, kind, ty, *dims));
    }
    set(&o, "arguments", &list);
    o
}
