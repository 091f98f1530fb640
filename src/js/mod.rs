//! The wasm-bindgen layer: everything that talks to JavaScript.
//!
//! - [`guest`]: the one type that reads and writes the pipeline's memory, and
//!   the state of one guest instance (heap, captured output, faults).
//! - [`imports`]: the `env` import object, built from this module's own wasm
//!   exports (libm; `malloc`/`free` from [`heap_exports`]; the C library and
//!   Halide's print hooks from [`libc_exports`]), `libc.js`, and Rust
//!   closures for the caller's callbacks (extern stages, tracing).
//! - [`convert`]: JavaScript values to and from the core's types.
//! - [`call`]: checking one run's arguments, laying them out, calling the
//!   entry point.
//! - [`marshal`]: the batched crossings of a run, with its JavaScript half
//!   `marshal.js`.
//! - [`pipeline`]: the exported `Pipeline` class.
//! - [`threads`]: threaded pipelines (`wasm_threads`) on worker threads,
//!   with `threads.js` and `shared_heap.js`.
//! - [`errors`]: `HalideError` values.
//! - [`load`]: what `Pipeline.load` is handed, read safely, to a module
//!   whose memory is bounded by `maxMemoryBytes`.
//! - [`options`]: `Pipeline.load` options.

mod call;
mod convert;
mod diagnostics;
mod errors;
mod externs;
mod guest;
mod heap_exports;
mod imports;
mod libc_exports;
mod load;
mod marshal;
mod options;
mod pipeline;
mod sys;
mod threads;
mod trace;

pub use diagnostics::{bench_allocator, live_instances};
pub use errors::register_error_class;
pub use pipeline::{load_for_runner, runner_source, when_pool_ready, Pipeline};
pub use threads::{executor_module, register_threads, thread_failed, thread_worker_main};

use wasm_bindgen::prelude::*;

/// Installs a panic hook that reports Rust panics on the console.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}
