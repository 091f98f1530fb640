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
