//! Measurements of the executor's own machinery, for `npm run bench`.

use crate::core::allocator::Churn;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn now() -> f64;
}

/// Mean nanoseconds of one `malloc` + `free` pair of the guest heap's
/// allocator (compiled to wasm, as it runs for a pipeline) with `live`
/// blocks of random sizes already allocated, over `pairs` pairs.
#[wasm_bindgen(js_name = benchAllocator)]
pub fn bench_allocator(live: u32, pairs: u32, seed: u32) -> f64 {
    let mut c = Churn::new(live as usize, seed as u64);
    c.run((pairs / 10) as usize); // warm up
    let t0 = now();
    c.run(pairs as usize);
    (now() - t0) * 1e6 / pairs.max(1) as f64
}

/// Guest instances alive (each `Pipeline` holds one; a trap replaces it).
/// A count that does not fall back after pipelines are disposed or
/// garbage-collected means a leaked reference to a guest.
#[wasm_bindgen(js_name = liveInstances)]
pub fn live_instances() -> u32 {
    crate::js::guest::live_guests()
}

/// Bytes of the executor's own wasm memory (not a guest's). A wasm memory
/// never shrinks: a count that jumps after a guest's call means the guest
/// made the executor allocate on its say-so (tests/node/imports-fuzz).
#[wasm_bindgen(js_name = executorMemoryBytes)]
pub fn executor_memory_bytes() -> f64 {
    (core::arch::wasm32::memory_size::<0>() as f64) * 65536.0
}
