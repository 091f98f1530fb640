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
//! ([`guest::with_current`]), set around every call into a guest. Called while
//! no guest runs (a module's own start function, which Halide's modules do
//! not have), they throw.
//!
//! Every pointer is checked by the guest's memory; a bad one records a fault
//! on the guest and throws, which ends the run with a `trap` error.

// `no_mangle` counts as unsafe code: the `hwe_` prefix keeps these names
// apart from every other symbol of the module.
#![allow(unsafe_code)]

use crate::core::error::{Error, GuestError};
use crate::core::libc;
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
/// The guest is reached through [`guest::with_current`]: a plain reference,
/// no borrow and no `Rc` clone held while `f` runs, because `f` may call
/// the caller's JavaScript (`options.print`, `options.trace`), which may run
/// another pipeline, and an exception (a stack overflow inside `f`) may
/// unwind through it without running destructors. The throw comes after.
fn on_guest<R>(f: impl FnOnce(&Guest) -> Result<R, Fault>) -> R {
    let r = guest::with_current(|g| match f(g) {
        Ok(r) => Ok(r),
        Err((e, cause)) => {
            g.set_fault_with_cause(e, cause);
            Err(())
        }
    });
    match r {
        Some(Ok(r)) => r,
        Some(Err(())) => guest::throw_fault(),
        None => wasm_bindgen::throw_str(
            "halide-wasm-executor: a C library import was called while no pipeline runs",
        ),
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
    "strcmp" => hwe_strcmp(a: u32, b: u32) -> i32 = |g| libc::strncmp(g.mem(), a, b, u32::MAX).map_err(fault);
    "strncmp" => hwe_strncmp(a: u32, b: u32, n: u32) -> i32 = |g| libc::strncmp(g.mem(), a, b, n).map_err(fault);
    "strstr" => hwe_strstr(h: u32, n: u32) -> u32 = |g| libc::strstr(g.mem(), h, n).map_err(fault);
    "strchr" => hwe_strchr(s: u32, c: i32) -> u32 = |g| libc::strchr(g.mem(), s, c as u8).map_err(fault);
    "memcmp" => hwe_memcmp(a: u32, b: u32, n: u32) -> i32 = |g| libc::memcmp(g.mem(), a, b, n).map_err(fault);
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
        // A total past u32::MAX is no range in a wasm32 memory.
        let total = size.checked_mul(count).ok_or_else(|| {
            fault(GuestError::OutOfBounds {
                ptr: p as u64,
                len: size as u64 * count as u64,
                size: g.mem().size(),
            })
        })?;
        write(g, TRACE_FD, p, total).map(|_| count)
    };
    "halide_current_thread_id" => hwe_halide_current_thread_id() -> i32 = |_g| Ok(0);
    "atoi" => hwe_atoi(s: u32) -> i32 = |g| libc::atoi(g.mem(), s).map_err(fault);
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
    guest::with_current(|g| g.set_aborted());
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

/// A threaded guest's `free` of something that is no live block
/// (`shared_heap.js` calls it): records the fault and throws.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn hwe_invalid_free(p: u32) {
    on_guest::<()>(|_g| Err(fault(GuestError::InvalidFree { ptr: p })))
}

/// The export `shared_heap.js` calls on an invalid free.
pub const INVALID_FREE: &str = "hwe_invalid_free";

/// The export implementing C library import `name`.
pub fn export_for(name: &str) -> Option<&'static str> {
    crate::libm_exports::lookup(LIBC_IMPORTS, name)
}

/// The export `libc.js` calls on a range fault.
pub const RANGE_FAULT: &str = "hwe_range_fault";

fn print_cstr(g: &Guest, fd: i32, p: u32) -> Result<(), Fault> {
    let len = g.mem().strlen(p).map_err(fault)?;
    print_range(g, fd, p, len)
}

/// Prints the guest's text `[p, p + n)` (checked first), read and decoded in
/// pieces of at most [`libc::TEXT_CHUNK`] bytes: longer text reaches
/// `print` in several calls, and the executor never holds more of it.
fn print_range(g: &Guest, fd: i32, p: u32, n: u32) -> Result<(), Fault> {
    let mut text = libc::TextPieces::default();
    let r = libc::for_each_piece(g.mem(), p, n, libc::TEXT_CHUNK, |piece| {
        match text.push(piece) {
            t if t.is_empty() => Ok(()),
            t => print(g, fd, &t).map_err(|()| Printing::CallbackThrew),
        }
    });
    match r {
        Ok(()) => {
            let rest = text.finish();
            if !rest.is_empty() {
                let _ = print(g, fd, &rest);
            }
            Ok(())
        }
        // Recorded by `print`; the rest of the text is not printed.
        Err(Printing::CallbackThrew) => Ok(()),
        Err(Printing::Guest(e)) => Err(fault(e)),
    }
}

/// Why printing a range stopped.
enum Printing {
    Guest(GuestError),
    CallbackThrew,
}

impl From<GuestError> for Printing {
    fn from(e: GuestError) -> Printing {
        Printing::Guest(e)
    }
}

/// Prints `text`; `Err` when `options.print` threw (recorded on the guest).
fn print(guest: &Guest, fd: i32, text: &str) -> Result<(), ()> {
    // Halide's runtime prints its errors (through halide_print, on either
    // descriptor) just before it aborts: keep the text for the HalideError.
    guest.capture(text);
    match &guest.hooks.print {
        Some(f) => {
            // A throwing print callback is the caller's error; it surfaces
            // when the run ends.
            if let Err(e) = f.call1(&JsValue::UNDEFINED, &JsValue::from_str(text)) {
                guest.set_fault_with_cause(
                    Error::Callback(format!("options.print threw: {}", describe(&e))),
                    Some(e),
                );
                return Err(());
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
    Ok(())
}

/// `write(fd, p, n)`: stdout and stderr go to `print`, the trace file to
/// `options.trace`, anything else nowhere. The range is checked before
/// anything is read, and read in bounded pieces.
fn write(g: &Guest, fd: i32, p: u32, n: u32) -> Result<i32, Fault> {
    if fd == TRACE_FD && g.trace_file.get() != 0 {
        trace::write_trace_file(g, p, n)?;
    } else if fd == 1 || fd == 2 {
        print_range(g, fd, p, n)?;
    }
    // C's write returns a signed count: a length past i32::MAX is written
    // and reported as i32::MAX (a short write, which callers retry).
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

/// A `FILE*` for the trace file: a few guest bytes, so that it is a real,
/// unique pointer.
fn open_trace_file(g: &Guest) -> u32 {
    if g.trace_file.get() == 0 {
        g.trace_file.set(g.malloc(16));
    }
    g.trace_file.get()
}
