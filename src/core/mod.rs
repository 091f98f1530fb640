//! The pure-Rust core of the executor: everything that can be decided
//! without a JavaScript engine. It has no `wasm-bindgen` in it and is tested
//! natively with `cargo test`.
//!
//! - [`types`]: Halide's element types and their JavaScript names.
//! - [`layout`]: `halide_buffer_t` / `halide_dimension_t` in a wasm32 guest.
//! - [`scalar`]: scalar argument checks and encoding.
//! - [`allocator`]: the guest heap's `malloc`/`free` bookkeeping.
//! - [`free_index`]: its free blocks, in TLSF-style size classes.
//! - [`memory`]: checked reads and writes of a guest memory.
//! - [`libc`]: the guest's C string and memory functions, in bounded chunks.
//! - [`read_cache`]: those reads through a cache of pages.
//! - [`metadata`]: the pipeline's `halide_filter_metadata_t`.
//! - [`outputs`]: the shape of an output the executor allocates.
//! - [`wasm_module`]: a module's memory section, bounded to the caller's cap.
//! - [`trace`]: Halide trace events and trace-file packets.
//! - [`halide_codes`]: Halide error codes read back from error text.
//! - [`error`]: the typed errors.

pub mod allocator;
pub mod error;
pub mod free_index;
pub mod halide_codes;
pub mod layout;
pub mod libc;
pub mod memory;
pub mod metadata;
pub mod outputs;
pub mod read_cache;
pub mod scalar;
pub mod trace;
pub mod types;
pub mod wasm_module;
