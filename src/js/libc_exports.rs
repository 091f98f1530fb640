//! The guest's C library (string functions, `getenv`, `write`, `abort`,
//! stdio stubs) and Halide's `halide_print`/`halide_error` as plain wasm
//! functions of the executor's own module, like `malloc`/`free`
//! ([`crate::js::heap_exports`]) and libm ([`crate::libm_exports`]).
//!
//! As Rust closures they cost a closure per import for every instance (made
//! at every load and restart, with their `FinalizationRegistry` entries) and
//! ~34 ns a call through JavaScript; as exports they exist once, with the
//! executor, and a call goes from wasm to wasm (the guest's bytes are still
//! read through [`GuestMem`](crate::js::guest::GuestMem)'s views, like every
//! read of its memory). An export has no closure to
//! say whose memory it reads: it acts on the guest whose code is running
//! ([`guest::current`]), set around every call into a guest. Called while
//! no guest runs (a module's own start function, which Halide's modules do
//! not have), they throw.
//!
//! Every pointer is checked by the guest's memory; a bad one records a fault
//! on the guest and throws, which ends the run with a `trap` error.

// `no_mangle` counts as unsafe code: the `hwe_` prefix keeps these names
// apart from every other symbol of the module.
#![allow(unsafe_code)]

use crate::core::error::{Error, GuestError};
use crate::core::memory::GuestMemory;
use crate::js::convert::describe;
use crate::js::guest::{self, Guest, TRACE_FD, TRACE_PATH};
use crate::js::trace;
use wasm_bindgen::JsValue;

/// What a failing import records: the error and the JavaScript exception
/// behind it, if any.
type Fault = (Error, Option<JsValue>);

fn fault(e: GuestError) -> Fault {
    (e.into(), None)
}

/// `f` on the running guest. A fault it returns is recorded on that guest
/// and thrown into the guest code, which ends the run as a trap.
///
/// The guest is held as a clone, not a borrow of the running stack: `f` may
/// call the caller's JavaScript (`options.print`, `options.trace`), which
/// may run another pipeline. The clone is dropped before the throw, because
/// a throw runs no destructors.
fn on_guest<R>(f: impl FnOnce(&Guest) -> Result<R, Fault>) -> R {
    let Some(g) = guest::current() else {
        wasm_bindgen::throw_str(
            "halide-wasm-executor: a C library import was called while no pipeline runs",
        )
    };
    match f(&g) {
        Ok(r) => r,
        Err((e, cause)) => {
            g.set_fault_with_cause(e, cause);
            drop(g);
            guest::throw_fault()
        }
    }
}

macro_rules! exports {
    ($( $import:literal => $export:ident ( $($a:ident : $t:ty),* ) -> $r:ty = |$g:ident| $body:expr ;)*) => {
        $(
            #[doc = concat!("`", $import, "` for the running guest.")]
            #[cfg_attr(target_arch = "wasm32", no_mangle)]
            pub extern "C" fn $export($($a: $t),*) -> $r {
                on_guest(|$g: &Guest| $body)
            }
        )*
        /// `(import name, export name)` for every function of this module.
        pub const LIBC_IMPORTS: &[(&str, &str)] = &[
            $(($import, stringify!($export)),)*
            ("halide_print", "hwe_halide_print"),
            ("halide_error", "hwe_halide_error"),
            ("abort", "hwe_abort"),
        ];
    };
}

exports! {
    "strlen" => hwe_strlen(p: u32) -> u32 = |g| g.mem().strlen(p).map_err(fault);
    "strcmp" => hwe_strcmp(a: u32, b: u32) -> i32 = |g| strncmp(g, a, b, u32::MAX).map_err(fault);
    "strncmp" => hwe_strncmp(a: u32, b: u32, n: u32) -> i32 = |g| strncmp(g, a, b, n).map_err(fault);
    "strstr" => hwe_strstr(h: u32, n: u32) -> u32 = |g| strstr(g, h, n).map_err(fault);
    "strchr" => hwe_strchr(s: u32, c: i32) -> u32 = |g| strchr(g, s, c as u8).map_err(fault);
    "memcmp" => hwe_memcmp(a: u32, b: u32, n: u32) -> i32 = |g| memcmp(g, a, b, n).map_err(fault);
    "getenv" => hwe_getenv(p: u32) -> u32 = |g| g.getenv(p).map_err(fault);
    "write" => hwe_write(fd: i32, p: u32, n: u32) -> i32 = |g| write(g, fd, p, n);
    // The guest has no file system. The one file it can open is the trace
    // file, whose bytes go to options.trace.
    "fopen" => hwe_fopen(path: u32, _mode: u32) -> u32 = |g| {
        let p = g.mem().read_cstr(path).map_err(fault)?;
        Ok(if p == TRACE_PATH { open_trace_file(g) } else { 0 })
    };
    "fileno" => hwe_fileno(f: u32) -> i32 =
        |g| Ok(if f != 0 && f == g.trace_file.get() { TRACE_FD } else { -1 });
    "fclose" => hwe_fclose(_f: u32) -> i32 = |_g| Ok(0);
    "fwrite" => hwe_fwrite(p: u32, size: u32, count: u32, f: u32) -> u32 = |g| {
        if f == 0 || f != g.trace_file.get() {
            return Ok(0);
        }
        write(g, TRACE_FD, p, size.saturating_mul(count)).map(|_| count)
    };
    "halide_current_thread_id" => hwe_halide_current_thread_id() -> i32 = |_g| Ok(0);
}

/// `halide_print(user_context, text)` for the running guest.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn hwe_halide_print(_uc: u32, p: u32) {
    on_guest(|g| print_cstr(g, 1, p))
}

/// `halide_error(user_context, text)` for the running guest.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn hwe_halide_error(_uc: u32, p: u32) {
    on_guest(|g| print_cstr(g, 2, p))
}

/// `abort()`: the run ends with an `abort` error carrying what the guest
/// printed.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn hwe_abort() {
    // The guest's clone is dropped at the brace, before the throw.
    if let Some(g) = guest::current() {
        g.set_aborted();
    }
    wasm_bindgen::throw_str("halide-wasm-executor: abort()")
}

/// Called by `libc.js`'s `memcpy`/`memmove`/`memset` for a range outside
/// the memory: records the out-of-bounds fault and throws.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn hwe_range_fault(d: u32, s: u32, n: u32) {
    on_guest::<()>(|g| {
        let m = g.mem();
        let e = m.check(d, n as u64).and(m.check(s, n as u64)).err();
        Err(fault(e.unwrap_or(GuestError::OutOfBounds {
            ptr: d as u64,
            len: n as u64,
            size: m.size(),
        })))
    })
}

/// The export implementing C library import `name`.
pub fn export_for(name: &str) -> Option<&'static str> {
    crate::libm_exports::lookup(LIBC_IMPORTS, name)
}

/// The export `libc.js` calls on a range fault.
pub const RANGE_FAULT: &str = "hwe_range_fault";

fn print_cstr(g: &Guest, fd: i32, p: u32) -> Result<(), Fault> {
    let text = g.mem().read_cstr(p).map_err(fault)?;
    print(g, fd, &text);
    Ok(())
}

fn print(guest: &Guest, fd: i32, text: &str) {
    // Halide's runtime prints its errors (through halide_print, on either
    // descriptor) just before it aborts: keep the text for the HalideError.
    guest.capture(text);
    match &guest.hooks.print {
        Some(f) => {
            // A throwing print callback is the caller's error; it surfaces
            // when the run ends.
            if let Err(e) = f.call1(&JsValue::UNDEFINED, &JsValue::from_str(text)) {
                guest.set_fault(Error::Callback(format!(
                    "options.print threw: {}",
                    describe(&e)
                )));
            }
        }
        // Halide's error text reaches the caller in the HalideError; the
        // console would only show it twice.
        None if text.trim_start().starts_with("Error") => {}
        None => {
            let t = text.strip_suffix('\n').unwrap_or(text);
            if fd == 2 {
                web_sys::console::error_1(&JsValue::from_str(t));
            } else {
                web_sys::console::log_1(&JsValue::from_str(t));
            }
        }
    }
}

/// `write(fd, p, n)`: stdout and stderr go to `print`, the trace file to
/// `options.trace`, anything else nowhere.
fn write(g: &Guest, fd: i32, p: u32, n: u32) -> Result<i32, (Error, Option<JsValue>)> {
    if fd == TRACE_FD && g.trace_file.get() != 0 {
        let mut bytes = vec![0u8; n as usize];
        g.mem().read(p, &mut bytes).map_err(|e| (e.into(), None))?;
        trace::write_trace_file(g, bytes).map_err(|(e, c)| (e, Some(c)))?;
    } else if fd == 1 || fd == 2 {
        let text = read_text(g, p, n).map_err(|e| (e.into(), None))?;
        print(g, fd, &text);
    }
    Ok(n as i32)
}

/// A `FILE*` for the trace file: a few guest bytes, so that it is a real,
/// unique pointer.
fn open_trace_file(g: &Guest) -> u32 {
    if g.trace_file.get() == 0 {
        g.trace_file.set(g.malloc(16));
    }
    g.trace_file.get()
}

fn read_text(g: &Guest, p: u32, n: u32) -> Result<String, GuestError> {
    let mut buf = vec![0u8; n as usize];
    g.mem().read(p, &mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn memcmp(g: &Guest, a: u32, b: u32, n: u32) -> Result<i32, GuestError> {
    let (mut x, mut y) = (vec![0u8; n as usize], vec![0u8; n as usize]);
    g.mem().read(a, &mut x)?;
    g.mem().read(b, &mut y)?;
    Ok(x.iter()
        .zip(&y)
        .find(|(p, q)| p != q)
        .map(|(p, q)| *p as i32 - *q as i32)
        .unwrap_or(0))
}

fn strncmp(g: &Guest, a: u32, b: u32, n: u32) -> Result<i32, GuestError> {
    let x = g.mem().read_cstr_bytes(a)?;
    let y = g.mem().read_cstr_bytes(b)?;
    for i in 0..n as usize {
        let (p, q) = (
            x.get(i).copied().unwrap_or(0),
            y.get(i).copied().unwrap_or(0),
        );
        if p != q || p == 0 {
            return Ok(p as i32 - q as i32);
        }
    }
    Ok(0)
}

fn strstr(g: &Guest, h: u32, n: u32) -> Result<u32, GuestError> {
    let hay = g.mem().read_cstr_bytes(h)?;
    let needle = g.mem().read_cstr_bytes(n)?;
    if needle.is_empty() {
        return Ok(h);
    }
    Ok(hay
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
        .map(|i| h + i as u32)
        .unwrap_or(0))
}

fn strchr(g: &Guest, s: u32, c: u8) -> Result<u32, GuestError> {
    let bytes = g.mem().read_cstr_bytes(s)?;
    if c == 0 {
        return Ok(s + bytes.len() as u32);
    }
    Ok(bytes
        .iter()
        .position(|&b| b == c)
        .map(|i| s + i as u32)
        .unwrap_or(0))
}
