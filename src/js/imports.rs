//! The pipeline's `env` import object, built in one place before the
//! instance exists.
//!
//! Halide's runtime expects a small C library from its host: an allocator,
//! the string and memory functions, `write` for its messages, `abort` for its
//! errors, a few stdio stubs, and libm. Each import here is either
//! - a Rust closure over the instance's [`Guest`] state (string functions,
//!   output, environment), or
//! - for `memcpy`, `memmove` and `memset`, which may run in inner loops, a
//!   plain JavaScript function from `libc.js` (a closure costs about 34 ns
//!   a call, a plain function about 4), checking its ranges itself and
//!   faulting through a Rust closure, or
//! - one of this module's own wasm exports (libm and float16 conversions, see
//!   [`crate::libm_exports`]; `malloc` and `free`, see
//!   [`crate::js::heap_exports`]), so those calls go from wasm to wasm
//!   without entering JavaScript.
//!
//! Every pointer the guest hands over is checked by [`GuestMem`]; a bad one
//! records a fault and throws, which ends the run with a `trap` error.
//! Closures are `Fn` (not `FnMut`), so a throw leaves no borrow flag set, and
//! they are owned by [`Imports`], whose drop frees them.

use crate::core::error::{Error, GuestError};
use crate::core::memory::GuestMemory;
use crate::js::convert::{describe, get};
use crate::js::guest::{Guest, TRACE_FD, TRACE_PATH};
use crate::js::options::Extern;
use crate::js::{externs, heap_exports, trace};
use crate::libm_exports;
use js_sys::{Array, Object, Reflect, WebAssembly};
use std::any::Any;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/js/libc.js")]
extern "C" {
    /// `memcpy`, `memmove` and `memset` as plain JavaScript functions.
    type GuestLibc;

    #[wasm_bindgen(constructor)]
    fn new(fault: &JsValue) -> GuestLibc;

    #[wasm_bindgen(method)]
    fn bind(this: &GuestLibc, memory: &WebAssembly::Memory);
}

/// The functions of `libc.js`.
const JS_LIBC: &[&str] = &["memcpy", "memmove", "memset", "__cxa_atexit"];

/// The import object and the closures it refers to.
pub struct Imports {
    pub object: Object,
    /// `memcpy` and friends, bound to the memory after instantiation.
    libc: Option<GuestLibc>,
    _closures: Vec<Box<dyn Any>>,
}

/// Records `e` as the run's fault and throws into the guest. Nothing with a
/// destructor may be alive in the caller's frame.
fn fault(guest: &Guest, e: impl Into<Error>) -> ! {
    guest.set_fault(e.into());
    wasm_bindgen::throw_str("halide-wasm-executor: guest fault")
}

/// Like [`fault`], keeping the JavaScript exception that caused it.
fn fault_with_cause(guest: &Guest, e: Error, cause: Option<JsValue>) -> ! {
    guest.set_fault_with_cause(e, cause);
    wasm_bindgen::throw_str("halide-wasm-executor: guest fault")
}

/// A JavaScript function taking any number of arguments, which reaches `f`
/// as one array: a `Proxy` whose `apply` trap is a Rust closure (closures
/// take at most eight arguments; `halide_trace_helper` has twelve, extern
/// stages any number).
fn variadic(f: impl Fn(Array) -> JsValue + 'static) -> (JsValue, Box<dyn Any>) {
    let trap = Closure::<dyn Fn(JsValue, JsValue, Array) -> JsValue>::new(
        move |_target: JsValue, _this: JsValue, args: Array| f(args),
    );
    let handler = Object::new();
    let _ = Reflect::set(&handler, &"apply".into(), trap.as_ref());
    let proxy = js_sys::Proxy::new(trap.as_ref(), &handler);
    (proxy.into(), Box::new(trap))
}

#[wasm_bindgen(module = "/src/js/module_imports.js")]
extern "C" {
    /// Every import as `module\0name\0kind\0`; `None` when a name holds
    /// a NUL.
    #[wasm_bindgen(js_name = moduleImports)]
    fn module_imports(module: &WebAssembly::Module) -> Option<String>;
}

/// The names of the imports a module asks for, as `(module, name, kind)`.
pub fn required(module: &WebAssembly::Module) -> Vec<(String, String, String)> {
    if let Some(list) = module_imports(module) {
        let parts: Vec<&str> = list.split('\0').collect();
        // A trailing NUL ends the last triple.
        return parts
            .chunks_exact(3)
            .map(|t| (t[0].to_string(), t[1].to_string(), t[2].to_string()))
            .collect();
    }
    WebAssembly::Module::imports(module)
        .iter()
        .map(|d| {
            let s = |k: &str| get(&d, k).as_string().unwrap_or_default();
            (s("module"), s("name"), s("kind"))
        })
        .collect()
}

/// Every `env` function the executor itself provides.
const HOST_FUNCTIONS: &[&str] = &[
    "malloc",
    "free",
    "memcpy",
    "memmove",
    "memset",
    "memcmp",
    "strlen",
    "strcmp",
    "strncmp",
    "strstr",
    "strchr",
    "getenv",
    "write",
    "abort",
    "fopen",
    "fileno",
    "fclose",
    "fwrite",
    "__cxa_atexit",
    "halide_print",
    "halide_error",
    "halide_current_thread_id",
    "halide_trace_helper",
];

/// Fails with a message that names every import the executor cannot supply,
/// or a declared extern that the module does not import.
pub fn check_supported(
    imports: &[(String, String, String)],
    externs: &[Extern],
) -> Result<(), Error> {
    for e in externs {
        if !imports.iter().any(|(m, n, _)| m == "env" && *n == e.name) {
            return Err(Error::bad_input(format!(
                "option 'externs': the module imports no function '{}'",
                e.name
            )));
        }
    }
    let mut missing = Vec::new();
    for (module, name, kind) in imports {
        let known = module == "env"
            && kind == "function"
            && (HOST_FUNCTIONS.contains(&name.as_str())
                || libm_exports::export_for(name).is_some()
                || externs.iter().any(|e| e.name == *name));
        if !known {
            missing.push(format!("{module}.{name} ({kind})"));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::BadModule(format!(
            "the module imports {} which the executor does not provide (an extern stage must be declared in options.externs)",
            missing.join(", ")
        )))
    }
}

impl Imports {
    /// Builds the import object for `needed` imports (already checked with
    /// [`check_supported`]) over `guest`.
    pub fn build(needed: &[(String, String, String)], guest: &Rc<Guest>) -> Result<Imports, Error> {
        let env = Object::new();
        let mut closures: Vec<Box<dyn Any>> = Vec::new();
        let own = wasm_bindgen::exports();
        let mut libc: Option<GuestLibc> = None;
        for (_, name, _) in needed {
            let own_export =
                libm_exports::export_for(name).or_else(|| heap_exports::export_for(name));
            let f: JsValue = if let Some(export) = own_export {
                let f = get(&own, export);
                if !f.is_function() {
                    return Err(Error::BadModule(format!(
                        "internal: the executor lacks its export {export}"
                    )));
                }
                f
            } else if let Some(i) = guest.hooks.externs.iter().position(|e| e.name == *name) {
                let g = guest.clone();
                let (f, keep) = variadic(move |args| {
                    let r = externs::call(&g, &g.hooks.externs[i], &args);
                    match r {
                        Ok(code) => JsValue::from(code),
                        Err((e, cause)) => fault_with_cause(&g, e, cause),
                    }
                });
                closures.push(keep);
                f
            } else if JS_LIBC.contains(&name.as_str()) {
                let l = libc.get_or_insert_with(|| {
                    // Called only for a range outside the memory.
                    let g = guest.clone();
                    let c = Closure::<dyn Fn(u32, u32, u32)>::new(move |d: u32, s: u32, n: u32| {
                        let m = g.mem();
                        let e = m.check(d, n as u64).and(m.check(s, n as u64)).err();
                        fault(
                            &g,
                            e.unwrap_or(GuestError::OutOfBounds {
                                ptr: d as u64,
                                len: n as u64,
                                size: m.size(),
                            }),
                        )
                    });
                    let l = GuestLibc::new(c.as_ref());
                    closures.push(Box::new(c));
                    l
                });
                get(l, name)
            } else if name == "halide_trace_helper" {
                let g = guest.clone();
                let (f, keep) = variadic(move |args| {
                    let r = trace::helper_event(&g, &args)
                        .map_err(|e| (Error::from(e), None))
                        .and_then(|ev| trace::emit(&g, &ev).map_err(|(e, c)| (e, Some(c))));
                    match r {
                        Ok(id) => JsValue::from(id),
                        Err((e, cause)) => fault_with_cause(&g, e, cause),
                    }
                });
                closures.push(keep);
                f
            } else {
                let (f, keep) = host_function(name, guest.clone());
                closures.push(keep);
                f
            };
            Reflect::set(&env, &JsValue::from_str(name), &f)
                .map_err(|_| Error::BadModule(format!("cannot set import {name}")))?;
        }
        let object = Object::new();
        let _ = Reflect::set(&object, &"env".into(), &env);
        Ok(Imports {
            object,
            libc,
            _closures: closures,
        })
    }

    /// Binds the new instance's memory to the imports that need it.
    pub fn bind(&self, memory: &WebAssembly::Memory) {
        if let Some(l) = &self.libc {
            l.bind(memory);
        }
    }
}

/// A closure as a JavaScript function, plus the owner that keeps it alive.
fn wrap<T: ?Sized + wasm_bindgen::closure::WasmClosure + 'static>(
    c: Closure<T>,
) -> (JsValue, Box<dyn Any>) {
    let f: JsValue = c.as_ref().clone();
    (f, Box::new(c))
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

fn host_function(name: &str, g: Rc<Guest>) -> (JsValue, Box<dyn Any>) {
    match name {
        "memcmp" => wrap(Closure::<dyn Fn(u32, u32, u32) -> i32>::new(
            move |a, b, n| match memcmp(&g, a, b, n) {
                Ok(r) => r,
                Err(e) => fault(&g, e),
            },
        )),
        "strlen" => wrap(Closure::<dyn Fn(u32) -> u32>::new(move |p| {
            match g.mem().strlen(p) {
                Ok(n) => n,
                Err(e) => fault(&g, e),
            }
        })),
        "strcmp" => wrap(Closure::<dyn Fn(u32, u32) -> i32>::new(
            move |a, b| match strncmp(&g, a, b, u32::MAX) {
                Ok(r) => r,
                Err(e) => fault(&g, e),
            },
        )),
        "strncmp" => wrap(Closure::<dyn Fn(u32, u32, u32) -> i32>::new(
            move |a, b, n| match strncmp(&g, a, b, n) {
                Ok(r) => r,
                Err(e) => fault(&g, e),
            },
        )),
        "strstr" => wrap(Closure::<dyn Fn(u32, u32) -> u32>::new(
            move |h, n| match strstr(&g, h, n) {
                Ok(r) => r,
                Err(e) => fault(&g, e),
            },
        )),
        "strchr" => wrap(Closure::<dyn Fn(u32, i32) -> u32>::new(
            move |s, c| match strchr(&g, s, c as u8) {
                Ok(r) => r,
                Err(e) => fault(&g, e),
            },
        )),
        "getenv" => wrap(Closure::<dyn Fn(u32) -> u32>::new(move |p| {
            match g.getenv(p) {
                Ok(r) => r,
                Err(e) => fault(&g, e),
            }
        })),
        "write" => wrap(Closure::<dyn Fn(i32, u32, u32) -> i32>::new(
            move |fd, p, n| {
                let r = write(&g, fd, p, n);
                match r {
                    Ok(n) => n,
                    Err((e, cause)) => fault_with_cause(&g, e, cause),
                }
            },
        )),
        "abort" => wrap(Closure::<dyn Fn()>::new(move || {
            g.set_aborted();
            wasm_bindgen::throw_str("halide-wasm-executor: abort()")
        })),
        "halide_print" | "halide_error" => {
            let fd = if name == "halide_error" { 2 } else { 1 };
            wrap(Closure::<dyn Fn(u32, u32)>::new(move |_uc, p| {
                let text = match g.mem().read_cstr(p) {
                    Ok(t) => t,
                    Err(e) => fault(&g, e),
                };
                print(&g, fd, &text);
            }))
        }
        // The guest has no file system. The one file it can open is the
        // trace file, whose bytes go to options.trace.
        "fopen" => wrap(Closure::<dyn Fn(u32, u32) -> u32>::new(
            move |path, _mode| {
                let r = g.mem().read_cstr(path);
                match r {
                    Ok(p) if p == TRACE_PATH => open_trace_file(&g),
                    Ok(_) => 0,
                    Err(e) => fault(&g, e),
                }
            },
        )),
        "fileno" => wrap(Closure::<dyn Fn(u32) -> i32>::new(move |f| {
            if f != 0 && f == g.trace_file.get() {
                TRACE_FD
            } else {
                -1
            }
        })),
        "fclose" => wrap(Closure::<dyn Fn(u32) -> i32>::new(|_| 0)),
        "fwrite" => wrap(Closure::<dyn Fn(u32, u32, u32, u32) -> u32>::new(
            move |p: u32, size: u32, count: u32, f: u32| {
                if f == 0 || f != g.trace_file.get() {
                    return 0;
                }
                let r = write(&g, TRACE_FD, p, size.saturating_mul(count));
                match r {
                    Ok(_) => count,
                    Err((e, cause)) => fault_with_cause(&g, e, cause),
                }
            },
        )),
        "halide_current_thread_id" => wrap(Closure::<dyn Fn() -> i32>::new(|| 0)),
        other => unreachable!("check_supported admitted unknown import {other}"),
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
