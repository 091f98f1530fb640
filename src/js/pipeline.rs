//! The `Pipeline` class JavaScript sees.
//!
//! A `Pipeline` holds the compiled `WebAssembly.Module`, the entry point's
//! metadata, and one live instance of it. A run that ends in a trap, an
//! `abort()` or a throwing callback leaves the guest in an unknown state, so
//! that instance is dropped and a fresh one is made from the module before
//! the next run.

use crate::core::error::{Error, Result};
use crate::core::metadata::{self, Metadata};
use crate::core::read_cache::ReadCache;
use crate::js::call::{self, CallStyle, Failure, Prepared, USER_CONTEXT};
use crate::js::convert::{self, describe, get};
use crate::js::errors;
use crate::js::guest::{self, Guest};
use crate::js::imports::{self, Imports, Threaded};
use crate::js::load;
use crate::js::marshal::{self, Marshal};
use crate::js::options::{Hooks, Options};
use crate::js::threads;
use js_sys::{Array, Function, Object, Reflect, WebAssembly};
use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// What runs keep for the next: the batched read-out, and the last run
/// prepared from arguments the same bit for bit as `key`.
#[derive(Default)]
struct Scratch {
    read: Vec<f64>,
    key: Vec<f64>,
    last: Option<Prepared>,
}

impl Scratch {
    fn same_as_last(&self) -> bool {
        self.last.is_some()
            && self.key.len() == self.read.len()
            && self
                .key
                .iter()
                .zip(&self.read)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

/// What every instance of one pipeline shares.
struct Loaded {
    module: WebAssembly::Module,
    entry: String,
    style: CallStyle,
    meta: Metadata,
    hooks: Rc<Hooks>,
    imports: Vec<(String, String, String)>,
    /// A threaded module's shared memory `(min, max)` pages and thread
    /// count; `None` for a module that defines its own memory.
    threading: Option<(u64, u64, u32)>,
}

/// One live instance with its import closures.
struct Live {
    guest: Rc<Guest>,
    /// The entry point (an `Rc`: a run clones it, and cloning a JS value
    /// costs a trip to the externref table).
    argv: Rc<Function>,
    _imports: Imports,
    /// `allocBuffer` blocks: (guest pointer, data bytes), and the buffer
    /// objects returned for them, in the same order.
    owned: Vec<(u32, u32)>,
    owned_objects: Vec<Object>,
    /// A threaded instance's workers (dropped with it, which ends them).
    pool: Option<threads::Pool>,
}

/// A Halide pipeline loaded from a `.wasm` module, ready to run.
#[wasm_bindgen]
pub struct Pipeline {
    loaded: Rc<Loaded>,
    /// The arguments' names as JavaScript strings, made once.
    names_js: Vec<JsValue>,
    /// The batched reader and mover of a run's arguments.
    marshal: Marshal,
    /// The length of its read-out.
    read_len: usize,
    /// A run's reusable buffers; taken while running, so that a run started
    /// from a caller's getter gets its own.
    scratch: Cell<Scratch>,
    live: RefCell<Option<Live>>,
    /// `p.arguments` as JavaScript objects, made on first use (not every
    /// caller asks, and making them took ~45 of a load's ~300 crossings).
    arguments: OnceCell<Array>,
    runs: Cell<u64>,
    running: Cell<bool>,
    disposed: Cell<bool>,
    /// The outputs the last run allocated, until `takeAllocated` takes them.
    allocated: Cell<Option<Object>>,
}

/// Chooses the entry point among the module's `NAME_metadata` exports, or,
/// for a module without metadata, the export `options.entry` names.
fn choose_entry(module: &WebAssembly::Module, options: &Options) -> Result<(String, CallStyle)> {
    let names: Vec<String> = WebAssembly::Module::exports(module)
        .iter()
        .filter_map(|d| get(&d, "name").as_string())
        .collect();
    if options.arguments.is_some() {
        let Some(entry) = options.entry.clone() else {
            return Err(Error::bad_input(
                "option 'arguments' describes a module without metadata and needs option 'entry' too",
            ));
        };
        if !names.contains(&entry) {
            return Err(Error::bad_input(format!(
                "option 'entry': the module exports no function '{entry}'"
            )));
        }
        return Ok((entry, CallStyle::Direct));
    }
    let wanted = options.entry.as_deref();
    let entries: Vec<String> = names
        .iter()
        .filter_map(|n| n.strip_suffix("_metadata"))
        .filter(|e| names.iter().any(|n| *n == format!("{e}_argv")))
        .map(String::from)
        .collect();
    let entry = match wanted {
        Some(w) if entries.iter().any(|e| e == w) => Ok(w.to_string()),
        Some(w) => Err(Error::bad_input(format!(
            "option 'entry': the module has no pipeline '{w}'; it has: {}",
            if entries.is_empty() { "none".to_string() } else { entries.join(", ") }
        ))),
        None => match entries.len() {
            1 => Ok(entries[0].clone()),
            0 => Err(Error::BadModule(
                "the module exports no Halide pipeline (no NAME_metadata and NAME_argv exports; link with --export=NAME_argv --export=NAME_metadata)".into(),
            )),
            _ => Err(Error::bad_input(format!(
                "the module has several pipelines ({}); choose one with options.entry",
                entries.join(", ")
            ))),
        },
    }?;
    Ok((entry, CallStyle::Argv))
}

/// What one instance is made of before it exists: its guest state, its
/// import object, and for a threaded module its memory, heap and pool.
struct Parts {
    guest: Rc<Guest>,
    imports: Imports,
    setup: Option<threads::Setup>,
}

/// The parts of a new instance of `loaded`.
fn parts(loaded: &Loaded) -> Result<Parts, Failure> {
    let guest = Rc::new(Guest::new(loaded.hooks.clone()));
    let Some((min, max, count)) = loaded.threading else {
        let imports = Imports::build(&loaded.imports, &guest, None)?;
        return Ok(Parts {
            guest,
            imports,
            setup: None,
        });
    };
    let setup = threads::setup(min, max, loaded.hooks.max_memory_bytes, count)?;
    let threaded = Threaded {
        memory: setup.memory.clone(),
        threads: setup.threads.clone(),
        heap_malloc: setup.heap.malloc(),
        heap_free: setup.heap.free(),
    };
    let imports = Imports::build(&loaded.imports, &guest, Some(&threaded))?;
    setup.heap.set_on_invalid_free(&imports.invalid_free());
    Ok(Parts {
        guest,
        imports,
        setup: Some(setup),
    })
}

/// How many threads a threaded module runs on: `options.threads`, else the
/// host's cores, else (with extern stages or tracing, which only the
/// calling thread can call) one.
fn thread_count(options: &Options) -> Result<u32> {
    let callbacks = !options.hooks.externs.is_empty() || options.hooks.trace.is_some();
    match options.threads {
        Some(n) if n > 1 && callbacks => Err(Error::bad_input(
            "option 'threads': extern stages and trace callbacks are JavaScript of the calling thread, which worker threads cannot call; load a threaded module that uses them with threads: 1",
        )),
        Some(n) => Ok(n),
        None if callbacks => Ok(1),
        None => Ok(threads::default_threads()),
    }
}

/// Everything of loading that comes after compiling, up to the instance.
fn prepare(compiled: load::Compiled, mut options: Options) -> Result<(Loaded, Parts), Failure> {
    let module = compiled.module;
    let (entry, style) = choose_entry(&module, &options)?;
    let needed = imports::required(&module);
    imports::check_supported(&needed, &options.hooks.externs)?;
    let threading = if imports::is_threaded(&needed) {
        let Some(limits) = compiled.memory_import else {
            return Err(Error::bad_input(
                "a threaded module (it imports its memory) must be loaded from its bytes or a Response: a compiled WebAssembly.Module does not tell the size of the memory it needs",
            )
            .into());
        };
        if !limits.shared {
            return Err(Error::BadModule(
                "it imports a memory that is not shared (a threaded Halide module imports a shared one)".into(),
            )
            .into());
        }
        threads::check_shared_memory()?;
        let count = thread_count(&options)?;
        // Halide's pool sizes itself from HL_NUM_THREADS: it is `threads`.
        let env = &mut options.hooks.env;
        env.retain(|(k, _)| k != "HL_NUM_THREADS");
        env.push(("HL_NUM_THREADS".into(), count.to_string()));
        Some((limits.min, limits.max.unwrap_or(65536), count))
    } else {
        None
    };
    let hooks = Rc::new(options.hooks);
    let loaded = Loaded {
        module,
        style,
        meta: Metadata {
            version: 0,
            name: entry.clone(),
            target: String::new(),
            arguments: options.arguments.unwrap_or_default(),
        },
        entry,
        hooks,
        imports: needed,
        threading,
    };
    let p = parts(&loaded)?;
    Ok((loaded, p))
}

/// Whether this host can run a compiled candidate of a list (a threaded
/// module needs shared memory).
fn host_can_run(compiled: &load::Compiled) -> bool {
    threads::host_can_run(&imports::required(&compiled.module))
}

fn no_candidates() -> Failure {
    Error::bad_input("an empty list of modules: pass the module, or a list of builds of it").into()
}

fn instantiation_error(e: JsValue) -> Error {
    if e.is_instance_of::<WebAssembly::RuntimeError>() {
        Error::Trap(format!("while instantiating: {}", describe(&e)))
    } else {
        Error::BadModule(format!("cannot instantiate: {}", describe(&e)))
    }
}

/// Binds a new instance's memory and finds its entry point; for a
/// threaded module, also lays out its heap and starts its workers
/// (`block`: waiting for them, where they start meanwhile).
fn bind(
    loaded: &Loaded,
    parts: Parts,
    instance: WebAssembly::Instance,
    block: bool,
) -> Result<Live, Failure> {
    let Parts {
        guest,
        imports,
        setup,
    } = parts;
    let exports = instance.exports();
    let global = |name: &str| {
        get(&exports, name)
            .dyn_into::<WebAssembly::Global>()
            .ok()
            .and_then(|g| g.value().as_f64())
    };
    let memory = match &setup {
        Some(s) => s.memory.clone(),
        None => get(&exports, "memory")
            .dyn_into::<WebAssembly::Memory>()
            .map_err(|_| Error::BadModule("the module exports no memory".into()))?,
    };
    let size = memory
        .buffer()
        .unchecked_ref::<crate::js::sys::AnyBuffer>()
        .byte_length();
    let heap_base = global("__heap_base")
        .or_else(|| global("__data_end"))
        .unwrap_or(size) as u32;
    imports.bind(&memory);
    let pool = match setup {
        Some(s) => {
            s.heap
                .bind(heap_base, true, loaded.hooks.max_memory_bytes as f64);
            guest.bind_shared(memory, s.heap.clone())?;
            Some(threads::start(
                &s,
                &guest,
                &loaded.module,
                &exports,
                heap_base,
                block,
            )?)
        }
        None => {
            guest.bind(memory, heap_base)?;
            None
        }
    };
    let name = match loaded.style {
        CallStyle::Argv => format!("{}_argv", loaded.entry),
        CallStyle::Direct => loaded.entry.clone(),
    };
    let argv = get(&exports, &name)
        .dyn_into::<Function>()
        .map_err(|_| Error::BadModule(format!("{name} is not a function")))?;
    Ok(Live {
        guest,
        argv: Rc::new(argv),
        _imports: imports,
        owned: Vec::new(),
        owned_objects: Vec::new(),
        pool,
    })
}

/// Reads the entry point's metadata from a live instance.
fn read_metadata(
    loaded: &Loaded,
    instance: &WebAssembly::Instance,
    guest: &Rc<Guest>,
) -> Result<Metadata> {
    let f = get(&instance.exports(), &format!("{}_metadata", loaded.entry))
        .dyn_into::<Function>()
        .map_err(|_| Error::BadModule(format!("{}_metadata is not a function", loaded.entry)))?;
    let ptr = guest::with_running(guest, || f.call0(&JsValue::UNDEFINED))
        .map_err(|e| {
            Error::BadModule(format!(
                "{}_metadata() failed: {}",
                loaded.entry,
                describe(&e)
            ))
        })?
        .as_f64()
        .ok_or_else(|| {
            Error::BadModule(format!("{}_metadata() returned no pointer", loaded.entry))
        })?;
    // ~30 small reads of static data: one copy per page instead.
    let meta = metadata::read(&ReadCache::new(guest.mem()), ptr as u32)?;
    if let Some(a) = meta.arguments.iter().find(|a| a.elem.is_none()) {
        return Err(Error::BadModule(format!(
            "argument '{}' has type {}, which cannot be passed from JavaScript",
            a.name, a.ty
        )));
    }
    Ok(meta)
}

fn js_err(e: Error) -> JsValue {
    errors::to_js(&e, None, None)
}

impl Pipeline {
    fn finish(
        mut loaded: Loaded,
        instance: WebAssembly::Instance,
        parts: Parts,
        block: bool,
    ) -> Result<Pipeline, Failure> {
        let live = bind(&loaded, parts, instance.clone(), block)?;
        if loaded.style == CallStyle::Argv {
            loaded.meta = read_metadata(&loaded, &instance, &live.guest)?;
        }
        let names_js: Vec<JsValue> = loaded
            .meta
            .arguments
            .iter()
            .map(|a| JsValue::from_str(&a.name))
            .collect();
        let (marshal, read_len) = Marshal::for_metadata(&loaded.meta, &names_js);
        Ok(Pipeline {
            names_js,
            marshal,
            read_len,
            scratch: Cell::new(Scratch::default()),
            loaded: Rc::new(loaded),
            live: RefCell::new(Some(live)),
            arguments: OnceCell::new(),
            runs: Cell::new(0),
            running: Cell::new(false),
            disposed: Cell::new(false),
            allocated: Cell::new(None),
        })
    }

    fn load_sync_inner(bytes: &JsValue, options: &JsValue) -> Result<Pipeline, Failure> {
        let options = load::options(options)?;
        let mut list = load::candidates(bytes)?.into_iter().peekable();
        while let Some(candidate) = list.next() {
            let compiled = load::compile_sync(&candidate, &options)?;
            if list.peek().is_some() && !host_can_run(&compiled) {
                continue;
            }
            let (loaded, parts) = prepare(compiled, options)?;
            let instance = WebAssembly::Instance::new(&loaded.module, &parts.imports.object)
                .map_err(instantiation_error)?;
            return Pipeline::finish(loaded, instance, parts, true);
        }
        Err(no_candidates())
    }

    async fn load_inner(bytes: JsValue, options: JsValue) -> Result<Pipeline, Failure> {
        let options = load::options(&options)?;
        let mut list = load::candidates(&bytes)?.into_iter().peekable();
        while let Some(candidate) = list.next() {
            let compiled = load::compile(candidate, &options).await?;
            if list.peek().is_some() && !host_can_run(&compiled) {
                continue;
            }
            return Pipeline::instantiate(compiled, options).await;
        }
        Err(no_candidates())
    }

    /// The asynchronous rest of a load, from the compiled module: a
    /// threaded module's workers are waited for without blocking.
    async fn instantiate(compiled: load::Compiled, options: Options) -> Result<Pipeline, Failure> {
        let (loaded, parts) = prepare(compiled, options)?;
        let instance: WebAssembly::Instance = JsFuture::from(WebAssembly::instantiate_module(
            &loaded.module,
            &parts.imports.object,
        ))
        .await
        .map_err(instantiation_error)?
        .unchecked_into();
        let p = Pipeline::finish(loaded, instance, parts, false)?;
        let wait = p
            .live
            .borrow()
            .as_ref()
            .and_then(|l| l.pool.as_ref()?.when_ready());
        if let Some(wait) = wait {
            let ok = JsFuture::from(wait).await.ok().and_then(|v| v.as_bool());
            let live = p.live.borrow();
            if let Some(l) = live.as_ref() {
                if let Some(pool) = l.pool.as_ref() {
                    pool.settle(&l.guest, ok == Some(true))?;
                }
            }
        }
        Ok(p)
    }

    /// Makes a fresh instance when the last one had to be dropped.
    fn ensure_live(&self) -> Result<(), Failure> {
        if self.live.borrow().is_some() {
            return Ok(());
        }
        // Disposed while a caller's getter ran (reading arguments runs
        // them): a disposed pipeline makes no instance, and the run in
        // flight ends here.
        if self.disposed.get() {
            return Err(Error::Disposed.into());
        }
        let l = &self.loaded;
        let parts = parts(l)?;
        let instance = WebAssembly::Instance::new(&l.module, &parts.imports.object)
            .map_err(instantiation_error)?;
        let live = bind(l, parts, instance, true)?;
        *self.live.borrow_mut() = Some(live);
        Ok(())
    }

    /// A threaded instance's workers, ready for a synchronous run (see
    /// [`threads::Pool::ensure_ready`]); a pool that failed to start takes
    /// its instance with it.
    fn ensure_pool(&self) -> Result<(), Failure> {
        let mut live = self.live.borrow_mut();
        let Some(l) = live.as_mut() else {
            return Ok(());
        };
        let Some(pool) = l.pool.as_mut() else {
            return Ok(());
        };
        let r = pool.ensure_ready(&l.guest);
        if matches!(&r, Err(f) if f.poisoned) {
            live.take();
        }
        r
    }

    /// Fails when disposed, or when `op` is called from a callback of this
    /// pipeline's own run.
    fn check_usable(&self, op: &str) -> Result<()> {
        if self.disposed.get() {
            return Err(Error::Disposed);
        }
        if self.running.get() {
            return Err(Error::Callback(format!(
                "{op}() was called from inside a callback of the same pipeline's run"
            )));
        }
        Ok(())
    }

    fn run_inner(&self, args: &JsValue) -> Result<Option<Object>, Failure> {
        self.check_usable("run")?;
        let mut scratch = self.scratch.take();
        let r = self.run_with(args, &mut scratch);
        self.scratch.set(scratch);
        r
    }

    fn run_with(&self, args: &JsValue, scratch: &mut Scratch) -> Result<Option<Object>, Failure> {
        // Reading the caller's arguments can run their getters, which may
        // call back into this pipeline, so no borrow of `live` is held
        // across it: the guest memory (to spot allocBuffer data) and the
        // allocBuffer regions are copied out first.
        let (memory, regions): (JsValue, Vec<(u32, u32)>) = match self.live.borrow().as_ref() {
            Some(l) if !l.owned.is_empty() => (l.guest.mem().memory().into(), l.owned.clone()),
            _ => (JsValue::UNDEFINED, Vec::new()),
        };
        scratch.read.resize(self.read_len, 0.0);
        let mut allocated = None;
        let fast = self.marshal.read_into(args, &memory, &mut scratch.read);
        // Fast-read arguments the same as last time's are not checked again
        // (buffers in the guest excepted: their regions may have changed).
        if !(fast && regions.is_empty() && scratch.same_as_last()) {
            scratch.key.clear();
            scratch.last = None;
            let slots = match fast
                .then(|| marshal::decode(&self.loaded.meta, &scratch.read, &regions))
                .flatten()
            {
                Some(slots) => {
                    if regions.is_empty() {
                        scratch.key.extend_from_slice(&scratch.read);
                    }
                    slots
                }
                None => {
                    let guest = (!regions.is_empty()).then(|| call::GuestBuffers {
                        memory: memory.unchecked_ref::<WebAssembly::Memory>().buffer(),
                        regions: &regions,
                    });
                    let (slots, data, outputs) =
                        call::plan(&self.loaded.meta, &self.names_js, args, guest)
                            .inspect_err(|_| self.marshal.release())?;
                    self.marshal.set_data(&data);
                    allocated = outputs;
                    slots
                }
            };
            let prepared = Prepared::new(slots, self.loaded.hooks.max_memory_bytes)
                .inspect_err(|_| self.marshal.release())?;
            scratch.last = Some(prepared);
        }
        if let Err(e) = self.ensure_live().and_then(|_| self.ensure_pool()) {
            self.marshal.release();
            return Err(e);
        }
        let (guest, argv) = {
            let live = self.live.borrow();
            let live = live.as_ref().expect("ensure_live made an instance");
            (live.guest.clone(), live.argv.clone())
        };
        self.running.set(true);
        let r = call::execute(
            &guest,
            &self.marshal,
            &argv,
            self.loaded.style,
            scratch.last.as_mut().expect("prepared above"),
        );
        self.running.set(false);
        threads::drain_prints(&guest);
        self.runs.set(self.runs.get() + 1);
        if let Err(f) = &r {
            if f.poisoned {
                self.live.borrow_mut().take();
                // A browser starts the new pool's workers only once this
                // thread returns to its event loop: start them now, so
                // that a run in a later task finds them ready.
                if self.loaded.threading.is_some() && threads::restart_eagerly() {
                    let _ = self.ensure_live();
                }
            }
        }
        r.map(|()| allocated)
    }

    fn alloc_buffer_inner(
        &self,
        ty: &str,
        shape: &JsValue,
        strides: &JsValue,
    ) -> Result<Object, Failure> {
        self.check_usable("allocBuffer")?;
        let elem = crate::core::types::ElemKind::from_name(ty)
            .ok_or_else(|| Error::bad_input(format!("allocBuffer: unknown type '{ty}'")))?;
        let (shape_v, strides_v) = (
            convert::numbers("allocBuffer", "shape", shape)?,
            convert::numbers("allocBuffer", "strides", strides)?,
        );
        let shape_v = shape_v
            .ok_or_else(|| Error::bad_input("allocBuffer: shape must be an array of extents"))?;
        let s = crate::core::layout::BufferShape::from_parts(
            "allocBuffer",
            elem,
            shape_v.len(),
            &shape_v,
            strides_v.as_deref(),
            None,
            u64::MAX,
        )?;
        self.ensure_live()?;
        let mut live = self.live.borrow_mut();
        let live = live.as_mut().expect("ensure_live made an instance");
        let bytes = s.span_bytes();
        // The guest heap hands out 32-byte aligned blocks: aligned for
        // every element type.
        let host = live.guest.alloc(bytes.max(1))?;
        live.guest
            .mem()
            .fill(host, 0, bytes as u32)
            .map_err(Error::from)?;
        live.owned.push((host, bytes as u32));
        let o = Object::new();
        let set = |k: &str, v: &JsValue| {
            let _ = Reflect::set(&o, &JsValue::from_str(k), v);
        };
        let ints =
            |v: Vec<i32>| -> JsValue { v.into_iter().map(JsValue::from).collect::<Array>().into() };
        set("type", &JsValue::from_str(elem.name()));
        set("shape", &ints(s.dims.iter().map(|d| d.extent).collect()));
        set("strides", &ints(s.dims.iter().map(|d| d.stride).collect()));
        set("mins", &ints(s.dims.iter().map(|_| 0).collect()));
        let guest = Rc::downgrade(&live.guest);
        let span = s.span_elements() as u32;
        // The view is made again only when the memory's buffer changed (a
        // growth detaches the old one).
        let cache: RefCell<Option<(JsValue, JsValue)>> = RefCell::new(None);
        let getter = Closure::<dyn Fn() -> JsValue>::new(move || {
            let Some(g) = guest.upgrade() else {
                return JsValue::NULL;
            };
            let buffer: JsValue = g.mem().buffer().into();
            let mut c = cache.borrow_mut();
            match &*c {
                Some((b, view)) if Object::is(b, &buffer) => view.clone(),
                _ => {
                    let view = convert::typed_view(elem, &buffer, host, span);
                    *c = Some((buffer, view.clone()));
                    view
                }
            }
        });
        let desc = Object::new();
        let _ = Reflect::set(&desc, &"get".into(), &getter.into_js_value());
        let _ = Reflect::set(&desc, &"enumerable".into(), &JsValue::TRUE);
        Object::define_property(&o, &"data".into(), &desc);
        live.owned_objects.push(o.clone());
        Ok(o)
    }

    fn free_buffer_inner(&self, buffer: &JsValue) -> Result<()> {
        self.check_usable("freeBuffer")?;
        let mut live = self.live.borrow_mut();
        let Some(live) = live.as_mut() else {
            return Err(Error::bad_input("freeBuffer: the buffer is no longer live"));
        };
        // Only the very object allocBuffer returned frees its block: not a
        // copy, another pipeline's buffer, nor anything at the same offset.
        let at = live
            .owned_objects
            .iter()
            .position(|o| Object::is(o, buffer));
        let Some(i) = at else {
            return Err(Error::bad_input(
                "freeBuffer: not a live buffer from this pipeline's allocBuffer (pass the object allocBuffer returned)",
            ));
        };
        let (host, _) = live.owned.swap_remove(i);
        live.owned_objects.swap_remove(i);
        live.guest.free(host)?;
        Ok(())
    }

    fn report(&self, f: Failure) -> JsValue {
        let text = f.error.to_string();
        if let (Some(cb), Error::Abort(_) | Error::Halide { .. }) =
            (&self.loaded.hooks.error, &f.error)
        {
            let _ = cb.call1(&JsValue::UNDEFINED, &JsValue::from_str(&text));
        }
        errors::to_js(&f.error, Some(&self.loaded.meta.name), f.cause)
    }
}

#[wasm_bindgen]
impl Pipeline {
    /// Compiles and instantiates a pipeline. `bytes`: a `Uint8Array` (any
    /// `ArrayBufferView`), `ArrayBuffer`, `WebAssembly.Module`, `Blob`, a
    /// `URL` or URL string (fetched; see `load_input.js`), or a `Response`
    /// (or a promise of one) from `fetch`.
    pub async fn load(bytes: JsValue, options: JsValue) -> Result<Pipeline, JsValue> {
        Pipeline::load_inner(bytes, options)
            .await
            .map_err(|f| errors::to_js(&f.error, None, f.cause))
    }

    /// Like `load`, synchronously (Node, workers; browsers limit the size of
    /// modules compiled synchronously on the main thread).
    #[wasm_bindgen(js_name = loadSync)]
    pub fn load_sync(bytes: JsValue, options: JsValue) -> Result<Pipeline, JsValue> {
        Pipeline::load_sync_inner(&bytes, &options)
            .map_err(|f| errors::to_js(&f.error, None, f.cause))
    }

    /// The pipeline's name, from its metadata.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.loaded.meta.name.clone()
    }

    /// The Halide target the pipeline was compiled for.
    #[wasm_bindgen(getter)]
    pub fn target(&self) -> String {
        self.loaded.meta.target.clone()
    }

    /// The entry point's arguments in call order:
    /// `{ name, kind, type, dimensions, default?, min?, max? }`.
    #[wasm_bindgen(getter)]
    pub fn arguments(&self) -> Array {
        let arguments = self.arguments.get_or_init(|| {
            self.loaded
                .meta
                .arguments
                .iter()
                .filter(|a| a.name != USER_CONTEXT)
                .map(convert::argument_to_js)
                .collect()
        });
        // A copy, so that a caller's changes do not leak into later calls.
        arguments
            .iter()
            .map(|a| JsValue::from(Object::assign(&Object::new(), a.unchecked_ref())))
            .collect()
    }

    /// Runs the pipeline. `args` maps every argument name to a buffer
    /// object `{ data, shape, strides?, mins? }` or a scalar. Returns how
    /// many outputs it allocated for those `args` omits; `takeAllocated`
    /// gives them. (The package's entries make `run` return them, or one
    /// frozen empty object: `lib/run-async.mjs`. A number, not the object,
    /// crosses on the hot path: returning a `JsValue` cost ~40 ns a run.)
    pub fn run(&self, args: JsValue) -> Result<u32, JsValue> {
        match self.run_inner(&args) {
            Ok(Some(outputs)) => {
                let n = Object::keys(&outputs).length();
                self.allocated.set(Some(outputs));
                Ok(n)
            }
            Ok(None) => Ok(0),
            Err(f) => Err(self.report(f)),
        }
    }

    /// The outputs the last `run` allocated (when it returned more than 0),
    /// as `{ name: buffer }`; `undefined` once taken.
    #[wasm_bindgen(js_name = takeAllocated)]
    pub fn take_allocated(&self) -> JsValue {
        self.allocated
            .take()
            .map_or(JsValue::UNDEFINED, JsValue::from)
    }

    /// `{ memoryBytes, heapInUseBytes, liveAllocations, runs }`.
    pub fn stats(&self) -> Result<Object, JsValue> {
        if self.disposed.get() {
            return Err(js_err(Error::Disposed));
        }
        let (in_use, live_allocs, memory) = match self.live.borrow().as_ref() {
            Some(l) => {
                let (a, b) = l.guest.heap_stats();
                (a, b, l.guest.memory_bytes())
            }
            None => (0, 0, 0), // restarting after a trap
        };
        let o = Object::new();
        let set = |k: &str, v: f64| {
            let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_f64(v));
        };
        set("memoryBytes", memory as f64);
        set("heapInUseBytes", in_use as f64);
        set("liveAllocations", live_allocs as f64);
        set("runs", self.runs.get() as f64);
        Ok(o)
    }

    /// Allocates a buffer in the pipeline's own memory, for runs without
    /// copies: `{ type, shape, strides, mins, data }`. `data` is a getter
    /// that views the memory afresh on every access, so it stays right when
    /// the memory grows; a view kept in a variable is valid until the next
    /// `run` or `allocBuffer`. Free it with `freeBuffer`; a trap or abort
    /// (which restarts the instance) frees it too.
    #[wasm_bindgen(js_name = allocBuffer)]
    pub fn alloc_buffer(
        &self,
        ty: String,
        shape: JsValue,
        strides: JsValue,
    ) -> Result<Object, JsValue> {
        self.alloc_buffer_inner(&ty, &shape, &strides)
            .map_err(|f| errors::to_js(&f.error, Some(&self.loaded.meta.name), f.cause))
    }

    /// Frees a buffer from `allocBuffer`. Its `data` is unusable afterwards.
    #[wasm_bindgen(js_name = freeBuffer)]
    pub fn free_buffer(&self, buffer: JsValue) -> Result<(), JsValue> {
        self.free_buffer_inner(&buffer)
            .map_err(|e| errors::to_js(&e, Some(&self.loaded.meta.name), None))
    }

    /// Releases the instance and its memory now; every later call throws a
    /// `HalideError` with code `'disposed'`.
    pub fn dispose(&self) -> Result<(), JsValue> {
        if self.running.get() {
            return Err(js_err(Error::Callback(
                "dispose() was called from inside a callback of the pipeline's own run".into(),
            )));
        }
        self.disposed.set(true);
        self.live.borrow_mut().take();
        self.marshal.release();
        Ok(())
    }
}

/// What `runAsync`'s worker needs to load the same pipeline (the
/// package's `lib/run-async.mjs`): `{ module, memory, options, print,
/// error, callbacks }`. `memory` is a threaded module's `[min, max]`
/// pages (`loadForRunner` needs them: a compiled module does not tell);
/// `options` the serialisable load options as this pipeline resolved them
/// (its entry, the JIT flavour's arguments, env, maxMemoryBytes, its
/// thread count); `print`/`error` the caller's callbacks, which stay on
/// the calling thread; `callbacks` names the options that cannot cross
/// to a worker (extern stages, tracing), or is empty.
#[wasm_bindgen(js_name = runnerSource)]
pub fn runner_source(p: &Pipeline) -> Object {
    let l = &p.loaded;
    let o = Object::new();
    let set = |o: &Object, k: &str, v: &JsValue| {
        let _ = Reflect::set(o, &JsValue::from_str(k), v);
    };
    let options = Object::new();
    set(&options, "entry", &JsValue::from_str(&l.entry));
    if l.style == CallStyle::Direct {
        let args: Array = l
            .meta
            .arguments
            .iter()
            .map(convert::argument_to_js)
            .collect();
        set(&options, "arguments", &args);
    }
    let env = Object::new();
    for (k, v) in &l.hooks.env {
        set(&env, k, &JsValue::from_str(v));
    }
    set(&options, "env", &env);
    if l.hooks.max_memory_bytes < crate::js::guest::MAX_WASM32_BYTES {
        set(
            &options,
            "maxMemoryBytes",
            &JsValue::from(l.hooks.max_memory_bytes as f64),
        );
    }
    if let Some((min, max, count)) = l.threading {
        set(&options, "threads", &JsValue::from(count));
        let memory = Array::of2(&JsValue::from(min as f64), &JsValue::from(max as f64));
        set(&o, "memory", &memory);
    }
    set(&o, "module", &l.module);
    set(&o, "options", &options);
    let hook = |f: &Option<Function>| f.as_ref().map_or(JsValue::NULL, |f| f.clone().into());
    set(&o, "print", &hook(&l.hooks.print));
    set(&o, "error", &hook(&l.hooks.error));
    let mut callbacks = Vec::new();
    if !l.hooks.externs.is_empty() {
        callbacks.push("externs");
    }
    if l.hooks.trace.is_some() {
        callbacks.push("trace");
    }
    set(
        &o,
        "callbacks",
        &JsValue::from_str(&callbacks.join(" and ")),
    );
    o
}

/// Loads what [`runner_source`] gave, in `runAsync`'s worker: the module
/// is compiled already (and bounded by `maxMemoryBytes` when it was), and
/// a threaded module's memory limits are `memory`'s `[min, max]` pages.
#[wasm_bindgen(js_name = loadForRunner)]
pub async fn load_for_runner(
    module: JsValue,
    memory: JsValue,
    options: JsValue,
) -> Result<Pipeline, JsValue> {
    let inner = async {
        let options = load::options(&options)?;
        let module: WebAssembly::Module = module
            .dyn_into()
            .map_err(|_| Error::bad_input("loadForRunner: expected a WebAssembly.Module"))?;
        let memory_import = memory.dyn_ref::<Array>().map(|m| load::Limits {
            min: m.get(0).as_f64().unwrap_or(0.0) as u64,
            max: m.get(1).as_f64().map(|v| v as u64),
            shared: true,
        });
        let compiled = load::Compiled {
            module,
            memory_import,
        };
        Pipeline::instantiate(compiled, options).await
    };
    inner
        .await
        .map_err(|f| errors::to_js(&f.error, None, f.cause))
}

/// A promise that resolves when the pipeline's worker threads, started
/// after a failed run, are ready (`undefined` when nothing is starting):
/// `runAsync`'s worker waits for it before a run, since a browser starts
/// workers only while their thread is in its event loop.
#[wasm_bindgen(js_name = whenPoolReady)]
pub fn when_pool_ready(p: &Pipeline) -> Option<js_sys::Promise> {
    p.live.borrow().as_ref()?.pool.as_ref()?.when_ready()
}
