//! # halide_wasm_executor
//!
//! Runs Halide pipelines compiled to WebAssembly (`wasm-32-wasmrt`) from
//! JavaScript, with the host's own `WebAssembly` API: the job Halide's C++
//! `WasmExecutor` does inside the compiler, brought to Node and the browser.
//!
//! The crate has two layers:
//! - [`core`]: pure Rust (buffer layout, allocator, metadata, scalar and type
//!   conversions), tested natively;
//! - `js` (wasm32 only): the thin wasm-bindgen layer that compiles and
//!   instantiates the pipeline's module, builds its `env` import object,
//!   and marshals buffers through the pipeline's `WebAssembly.Memory`.

pub mod core;
pub mod libm_exports;

#[cfg(target_arch = "wasm32")]
mod js;

#[cfg(target_arch = "wasm32")]
pub use js::*;
