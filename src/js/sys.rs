//! JavaScript bindings that js-sys lacks or declares without `catch`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A `WebAssembly.Memory`, seen through the methods that may throw.
    pub type FallibleMemory;

    /// `Memory.prototype.grow`, which throws a `RangeError` past the maximum.
    #[wasm_bindgen(method, catch)]
    pub fn grow(this: &FallibleMemory, pages: u32) -> Result<u32, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    /// `Object.keys`: own enumerable string keys. Throws for a `Proxy`
    /// whose traps throw.
    #[wasm_bindgen(js_namespace = Object, js_name = keys, catch)]
    pub fn object_keys(o: &JsValue) -> Result<js_sys::Array, JsValue>;

    /// `Uint8Array`, for its constructor that may throw.
    #[wasm_bindgen(js_name = Uint8Array)]
    pub type FallibleUint8Array;

    /// `new Uint8Array(buffer, byteOffset, length)`: throws for a detached
    /// or foreign `buffer` and for a range outside it.
    #[wasm_bindgen(constructor, js_class = "Uint8Array", catch)]
    pub fn new(
        buffer: &JsValue,
        byte_offset: u32,
        length: u32,
    ) -> Result<FallibleUint8Array, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    /// An `ArrayBuffer` or `SharedArrayBuffer`, for its length as a number:
    /// js-sys reads it as a `u32`, which a 4 GiB wasm memory overflows.
    pub type AnyBuffer;

    #[wasm_bindgen(method, getter, js_name = byteLength)]
    pub fn byte_length(this: &AnyBuffer) -> f64;
}
