//! The guest's `malloc` and `free` as plain wasm functions of the
//! executor's own module, like its libm ([`crate::libm_exports`]).
//!
//! As wasm-bindgen closures each call would cross into JavaScript and back
//! (about 34 ns in V8); as exports handed to the pipeline's import object a
//! call goes from wasm to wasm (about 2.5 ns) and straight into the
//! allocator. An export has no closure to say whose heap it serves: it acts
//! on the guest whose code is running ([`guest::with_running`]), which is
//! set around every call into a guest. Outside those calls (a module's own
//! start function, which Halide's modules do not have) `malloc` returns 0.

// `no_mangle` counts as unsafe code: the `hwe_` prefix keeps these names
// apart from every other symbol of the module.
#![allow(unsafe_code)]

use crate::js::guest;

/// `(import name, export name)` of the heap functions.
pub const HEAP_IMPORTS: &[(&str, &str)] = &[("malloc", "hwe_malloc"), ("free", "hwe_free")];

/// `malloc` for the running guest: 0 when its heap cannot grow enough.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn hwe_malloc(size: u32) -> u32 {
    guest::with_current(|g| g.malloc(size)).unwrap_or(0)
}

/// `free` for the running guest: a pointer that is not live is a fault,
/// which ends the run as a trap.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn hwe_free(ptr: u32) {
    let faulted = guest::with_current(|g| match g.free(ptr) {
        Ok(()) => false,
        Err(e) => {
            g.set_fault(e.into());
            true
        }
    });
    // Thrown with no borrow held and nothing to drop in this frame.
    if faulted == Some(true) {
        guest::throw_fault();
    }
}

/// The export implementing heap import `name`.
pub fn export_for(name: &str) -> Option<&'static str> {
    crate::libm_exports::lookup(HEAP_IMPORTS, name)
}
