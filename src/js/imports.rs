//! The pipeline's `env` import object, built in one place before the
//! instance exists.
//!
//! Halide's runtime expects a small C library from its host: an allocator,
//! the string and memory functions, `write` for its messages, `abort` for its
//! errors, a few stdio stubs, and libm. Each import here is either
//! - one of this module's own wasm exports, acting on the guest whose code
//!   is running: libm and float16 conversions ([`crate::libm_exports`]),
//!   `malloc` and `free` ([`crate::js::heap_exports`]), the string
//!   functions, `getenv`, `write`, `abort`, the stdio stubs and Halide's
//!   print hooks ([`crate::js::libc_exports`]). Those calls go from wasm to
//!   wasm (the C library then reads the guest's bytes through
//!   [`GuestMem`](crate::js::guest::GuestMem)), and a load makes no closure
//!   for them;
//! - for `memcpy`, `memmove` and `memset`, which may run in inner loops, a
//!   plain JavaScript function from `libc.js` (a JavaScript call costs about
//!   4 ns, less than a call into Rust through JavaScript), checking its ranges
//!   itself and faulting through an export; or
//! - for the caller's extern stages and Halide's trace hook, a Rust closure
//!   over the instance's [`Guest`], owned by [`Imports`], whose drop frees it.
//!   Closures are `Fn` (not `FnMut`), so a throw leaves no borrow flag set.
//!
//! Every pointer the guest hands over is checked by [`GuestMem`]; a bad one
//! records a fault and throws, which ends the run with a `trap` error.

use crate::core::error::Error;
use crate::js::convert::get;
use crate::js::guest::{self, Guest};
use crate::js::options::Extern;
use crate::js::threads::{GuestThreads, THREAD_IMPORTS};
use crate::js::{externs, heap_exports, libc_exports, trace};
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

/// What a threaded module's instance imports besides the usual: the
/// shared memory, the shared heap's `malloc`/`free` (`shared_heap.js`),
/// and this thread's POSIX threads functions (`threads.js`).
pub struct Threaded {
    pub memory: WebAssembly::Memory,
    pub threads: GuestThreads,
    pub heap_malloc: JsValue,
    pub heap_free: JsValue,
}

/// Whether a module's imports make it a threaded one: it imports its
/// memory.
pub fn is_threaded(imports: &[(String, String, String)]) -> bool {
    imports
        .iter()
        .any(|(m, n, k)| m == "env" && n == "memory" && k == "memory")
}

/// Records `e` (and the JavaScript exception behind it) as the run's fault
/// and throws into the guest. For closures, which borrow their guest.
fn fault_with_cause(guest: &Guest, e: Error, cause: Option<JsValue>) -> ! {
    guest.set_fault_with_cause(e, cause);
    guest::throw_fault()
}

/// The executor's own wasm export `export`, which must be a function.
fn own_function(own: &JsValue, export: &str) -> Result<JsValue, Error> {
    let f = get(own, export);
    if f.is_function() {
        Ok(f)
    } else {
        Err(Error::BadModule(format!(
            "internal: the executor lacks its export {export}"
        )))
    }
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

/// Halide's trace hook, a closure over the caller's `options.trace`.
const TRACE_HELPER: &str = "halide_trace_helper";

/// Whether the executor itself provides `env` function `name`, from the
/// same tables [`Imports::build`] takes it from.
fn host_provides(name: &str) -> bool {
    libm_exports::export_for(name).is_some()
        || heap_exports::export_for(name).is_some()
        || libc_exports::export_for(name).is_some()
        || JS_LIBC.contains(&name)
        || name == TRACE_HELPER
}

/// Fails with a message that names every import the executor cannot supply,
/// or a declared extern that the module does not import. A threaded
/// module also gets its memory and POSIX threads.
pub fn check_supported(
    imports: &[(String, String, String)],
    externs: &[Extern],
) -> Result<(), Error> {
    let threaded = is_threaded(imports);
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
            && ((kind == "function"
                && (host_provides(name)
                    || externs.iter().any(|e| e.name == *name)
                    || (threaded && THREAD_IMPORTS.contains(&name.as_str()))))
                || (threaded && kind == "memory" && name == "memory"));
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
    pub fn build(
        needed: &[(String, String, String)],
        guest: &Rc<Guest>,
        threaded: Option<&Threaded>,
    ) -> Result<Imports, Error> {
        let env = Object::new();
        let mut closures: Vec<Box<dyn Any>> = Vec::new();
        let own = wasm_bindgen::exports();
        let mut libc: Option<GuestLibc> = None;
        for (_, name, _) in needed {
            let own_export = libm_exports::export_for(name)
                .or_else(|| heap_exports::export_for(name).filter(|_| threaded.is_none()));
            let f: JsValue = if let Some(t) = threaded.filter(|_| name == "memory") {
                t.memory.clone().into()
            } else if let Some(t) = threaded.filter(|_| name == "malloc") {
                t.heap_malloc.clone()
            } else if let Some(t) = threaded.filter(|_| name == "free") {
                t.heap_free.clone()
            } else if let Some(t) = threaded.filter(|_| THREAD_IMPORTS.contains(&name.as_str())) {
                get(&t.threads.imports(), name)
            } else if let Some(export) = own_export {
                own_function(&own, export)?
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
                // Its fault function is called only for a range outside the
                // memory.
                if libc.is_none() {
                    libc = Some(GuestLibc::new(&own_function(
                        &own,
                        libc_exports::RANGE_FAULT,
                    )?));
                }
                get(libc.as_ref().expect("made above"), name)
            } else if name == TRACE_HELPER {
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
            } else if let Some(export) = libc_exports::export_for(name) {
                own_function(&own, export)?
            } else {
                unreachable!("check_supported admitted unknown import {name}")
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

    /// The export a shared heap calls on an invalid `free`.
    pub fn invalid_free(&self) -> JsValue {
        get(&wasm_bindgen::exports(), libc_exports::INVALID_FREE)
    }

    /// Binds the new instance's memory to the imports that need it.
    pub fn bind(&self, memory: &WebAssembly::Memory) {
        if let Some(l) = &self.libc {
            l.bind(memory);
        }
    }
}
