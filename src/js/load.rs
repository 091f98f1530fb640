//! From what a caller hands `Pipeline.load` to a compiled module whose
//! memory is bounded by `maxMemoryBytes`.
//!
//! Every read of the caller's values goes through `load_input.js`, behind a
//! `catch` import: a throwing getter, a Proxy or a detached buffer becomes a
//! `bad-argument` error with the exception as `cause`, and never unwinds
//! through Rust (which would skip destructors, and inside `load`'s task
//! escape the promise).
//!
//! The memory bound: see [`crate::core::wasm_module`]. The module's memory
//! section is rewritten before compiling when the caller's cap is below
//! the module's own maximum. A compiled `WebAssembly.Module` cannot be
//! rewritten (nor can its maximum be read), so with a cap it is refused.

use crate::core::error::Error;
pub use crate::core::wasm_module::Limits;
use crate::core::wasm_module::{self, BoundError};
use crate::js::call::Failure;
use crate::js::convert::describe;
use crate::js::guest::MAX_WASM32_BYTES;
use crate::js::options::Options;
use js_sys::{Promise, Uint8Array, WebAssembly};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/js/load_input.js")]
extern "C" {
    #[wasm_bindgen(js_name = readOptions, catch)]
    fn read_options(options: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = sourceKind, catch)]
    fn source_kind(x: &JsValue) -> Result<String, JsValue>;

    #[wasm_bindgen(js_name = listOf, catch)]
    fn list_of(x: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = bytesOf, catch)]
    fn bytes_of(x: &JsValue) -> Result<Uint8Array, JsValue>;

    #[wasm_bindgen(js_name = responseBytes, catch)]
    fn response_bytes(r: &JsValue) -> Result<Promise, JsValue>;

    fn splice(bytes: &Uint8Array, start: u32, end: u32, section: &[u8]) -> Uint8Array;

    #[wasm_bindgen(js_name = cloneResponse, catch)]
    fn clone_response(r: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = urlOf, catch)]
    fn url_of(x: &JsValue) -> Result<String, JsValue>;

    #[wasm_bindgen(js_name = fetchSource, catch)]
    fn fetch_source(url: &str) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_name = blobBytes, catch)]
    fn blob_bytes(b: &JsValue) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_name = responseProblem, catch)]
    fn response_problem(r: &JsValue) -> Result<String, JsValue>;

    #[wasm_bindgen(js_name = isWasmResponse, catch)]
    fn is_wasm_response(r: &JsValue) -> Result<bool, JsValue>;
}

/// A compiled module, and the limits of the memory it imports (a threaded
/// module's), read from its bytes; `None` when it imports none, or when
/// there were no bytes to read (a compiled `WebAssembly.Module`).
pub struct Compiled {
    pub module: WebAssembly::Module,
    pub memory_import: Option<Limits>,
}

/// The limits of the memory `bytes` import, if any.
fn memory_import(bytes: &Uint8Array) -> Option<Limits> {
    let len = bytes.length() as usize;
    wasm_module::memory_import(len, |at, n| {
        let end = at.saturating_add(n).min(len);
        if at >= end {
            return Vec::new();
        }
        bytes.subarray(at as u32, end as u32).to_vec()
    })
    .ok()
    .flatten()
}

/// A `bad-argument` error for a caller's value that threw when read.
fn unreadable(what: &str, thrown: JsValue) -> Failure {
    Failure {
        error: Error::bad_input(format!("{what} could not be read: {}", describe(&thrown))),
        cause: Some(thrown),
        poisoned: false,
    }
}

/// Reads `options` once (see `readOptions`) and checks it.
pub fn options(options: &JsValue) -> Result<Options, Failure> {
    let snapshot = read_options(options).map_err(|e| unreadable("the options", e))?;
    Ok(Options::parse(&snapshot)?)
}

/// The modules a caller handed `load`, in order of preference: the items
/// of a list (`[threaded, serial]`: the first the host can run is loaded),
/// or the one module.
pub fn candidates(x: &JsValue) -> Result<Vec<JsValue>, Failure> {
    let list = list_of(x).map_err(|e| unreadable("the list of modules", e))?;
    Ok(match list.dyn_into::<js_sys::Array>() {
        Ok(items) => items.to_vec(),
        Err(_) => vec![x.clone()],
    })
}

/// What a caller handed as the module.
enum Source {
    Module(WebAssembly::Module),
    Bytes(Uint8Array),
    Response(JsValue),
    Promise(Promise),
    /// A URL (a `URL`, or a string resolved as [`url_of`] says), absolute.
    Url(String),
    Blob(JsValue),
}

fn source(x: &JsValue) -> Result<Source, Failure> {
    let kind = source_kind(x).map_err(|e| unreadable("the module", e))?;
    match kind.as_str() {
        "module" => Ok(Source::Module(x.clone().unchecked_into())),
        "bytes" => Ok(Source::Bytes(
            bytes_of(x).map_err(|e| unreadable("the module's bytes", e))?,
        )),
        "response" => Ok(Source::Response(x.clone())),
        "promise" => Ok(Source::Promise(Promise::resolve(x))),
        "url" => Ok(Source::Url(
            url_of(x).map_err(|e| unreadable("the module's URL", e))?,
        )),
        "blob" => Ok(Source::Blob(x.clone())),
        _ => Err(Error::bad_input(format!(
            "expected the module as a URL (or URL string), Blob, Uint8Array (or any ArrayBufferView), ArrayBuffer, WebAssembly.Module or Response, got {}",
            crate::js::convert::type_name(x)
        ))
        .into()),
    }
}

fn compile_error(e: JsValue) -> Failure {
    Error::BadModule(format!("not a valid WebAssembly module: {}", describe(&e))).into()
}

/// Whether the caller set a cap below what a wasm32 memory can reach.
fn capped(options: &Options) -> bool {
    options.hooks.max_memory_bytes < MAX_WASM32_BYTES
}

fn module_refused() -> Failure {
    Error::bad_input(
        "option 'maxMemoryBytes' needs the module's bytes: a compiled WebAssembly.Module's memory maximum can be neither read nor lowered; pass the .wasm bytes (or a Response) instead",
    )
    .into()
}

/// `bytes` with the memory's maximum lowered to the caller's cap, or as
/// they are when no change is needed. Bytes this reader does not
/// understand are left to the engine's compiler, which words the error.
fn bounded(bytes: Uint8Array, options: &Options) -> Result<Uint8Array, Failure> {
    let cap = options.hooks.max_memory_bytes;
    let len = bytes.length() as usize;
    let read = |at: usize, n: usize| {
        let end = at.saturating_add(n).min(len);
        if at >= end {
            return Vec::new();
        }
        bytes.subarray(at as u32, end as u32).to_vec()
    };
    let section = match wasm_module::find_memory_section(len, read) {
        Ok(Some(s)) => s,
        Ok(None) | Err(BoundError::Malformed(_)) => return Ok(bytes),
        Err(e) => return Err(bound_error(e)),
    };
    match wasm_module::bounded_max(section.limits, cap) {
        Ok(None) => Ok(bytes),
        Ok(Some(max)) => Ok(splice(
            &bytes,
            section.start as u32,
            section.end as u32,
            &wasm_module::memory_section(section.limits, max),
        )),
        Err(e) => Err(bound_error(e)),
    }
}

fn bound_error(e: BoundError) -> Failure {
    match e {
        BoundError::TooLarge {
            min_bytes,
            cap_bytes,
        } => Error::OutOfMemory {
            requested: min_bytes,
            limit: cap_bytes,
        }
        .into(),
        BoundError::Unsupported(m) | BoundError::Malformed(m) => {
            Error::BadModule(format!("its memory cannot be bounded: {m}")).into()
        }
    }
}

/// The module, compiled synchronously (`loadSync`).
pub fn compile_sync(x: &JsValue, options: &Options) -> Result<Compiled, Failure> {
    match source(x)? {
        Source::Module(_) if capped(options) => Err(module_refused()),
        Source::Module(module) => Ok(Compiled {
            module,
            memory_import: None,
        }),
        Source::Bytes(b) => {
            let b = bounded(b, options)?;
            Ok(Compiled {
                module: WebAssembly::Module::new(&b).map_err(compile_error)?,
                memory_import: memory_import(&b),
            })
        }
        Source::Response(_) | Source::Promise(_) | Source::Url(_) | Source::Blob(_) => Err(Error::bad_input(
            "loadSync takes the module's bytes or a WebAssembly.Module; use load() for a URL, Blob, Response or promise",
        )
        .into()),
    }
}

/// The module, compiled asynchronously (`load`): a `Response` is compiled
/// while it streams unless its memory must be bounded (a copy of its body
/// is kept, to be read only if the module imports its memory).
pub async fn compile(x: JsValue, options: &Options) -> Result<Compiled, Failure> {
    let mut src = source(&x)?;
    if let Source::Promise(p) = src {
        let v = JsFuture::from(p).await.map_err(|e| Failure {
            error: Error::bad_input(format!("the module's promise rejected: {}", describe(&e))),
            cause: Some(e),
            poisoned: false,
        })?;
        src = source(&v)?;
    }
    if let Source::Url(url) = src {
        let fetched = |e: JsValue| Failure {
            error: Error::bad_input(format!("the module could not be loaded: {}", describe(&e))),
            cause: Some(e),
            poisoned: false,
        };
        let p = fetch_source(&url).map_err(fetched)?;
        let v = JsFuture::from(p).await.map_err(fetched)?;
        src = source(&v)?;
    }
    if let Source::Response(r) = &src {
        let problem = response_problem(r).map_err(|e| unreadable("the Response", e))?;
        if !problem.is_empty() {
            return Err(
                Error::bad_input(format!("the module could not be loaded: {problem}")).into(),
            );
        }
    }
    let bytes = match src {
        Source::Module(_) if capped(options) => return Err(module_refused()),
        Source::Module(module) => {
            return Ok(Compiled {
                module,
                memory_import: None,
            })
        }
        Source::Response(r)
            if !capped(options)
                && is_wasm_response(&r).map_err(|e| unreadable("the Response", e))? =>
        {
            let copy = clone_response(&r).map_err(|e| unreadable("the Response", e))?;
            let p = Promise::resolve(&r);
            let module: WebAssembly::Module = JsFuture::from(WebAssembly::compile_streaming(&p))
                .await
                .map_err(compile_error)?
                .unchecked_into();
            let imports_memory = WebAssembly::Module::imports(&module).iter().any(|d| {
                crate::js::convert::get(&d, "kind").as_string().as_deref() == Some("memory")
            });
            let memory_import = if imports_memory {
                let p = response_bytes(&copy).map_err(|e| unreadable("the Response", e))?;
                let bytes: Uint8Array = JsFuture::from(p)
                    .await
                    .map_err(|e| unreadable("the Response's body", e))?
                    .unchecked_into();
                memory_import(&bytes)
            } else {
                None
            };
            return Ok(Compiled {
                module,
                memory_import,
            });
        }
        Source::Response(r) => {
            let p = response_bytes(&r).map_err(|e| unreadable("the Response", e))?;
            JsFuture::from(p)
                .await
                .map_err(|e| unreadable("the Response's body", e))?
                .unchecked_into::<Uint8Array>()
        }
        Source::Bytes(b) => b,
        Source::Blob(b) => {
            let p = blob_bytes(&b).map_err(|e| unreadable("the Blob", e))?;
            JsFuture::from(p)
                .await
                .map_err(|e| unreadable("the Blob's bytes", e))?
                .unchecked_into::<Uint8Array>()
        }
        Source::Promise(_) => {
            return Err(Error::bad_input("the module's promise resolved to another promise").into())
        }
        Source::Url(_) => {
            return Err(Error::bad_input("the module's URL led to another URL").into())
        }
    };
    let bytes = bounded(bytes, options)?;
    Ok(Compiled {
        module: JsFuture::from(WebAssembly::compile(&bytes))
            .await
            .map_err(compile_error)?
            .unchecked_into(),
        memory_import: memory_import(&bytes),
    })
}
