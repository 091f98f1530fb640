//! Threaded pipelines (`wasm_threads`): Halide's `parallel` loops on worker
//! threads.
//!
//! Such a module imports its memory (shared) and a small POSIX threads
//! library. The executor creates the memory, instantiates the module on
//! the calling thread, lays out the shared heap (`shared_heap.js`), runs
//! the module's constructors once, and starts `threads - 1` workers before
//! the first run: `pthread_create` is called while Halide holds its queue
//! lock and cannot wait for a thread to start, so every worker must already
//! be parked. Each worker loads the executor (its own wasm, so libm and
//! the C library stay wasm-to-wasm calls there too), instantiates the same
//! compiled module on the same memory with a stack of its own (and a TLS
//! block where the module has one), and parks until `pthread_create` hands
//! it a function (`threads.js`). Halide's pool then keeps its workers, and
//! the executor keeps them with the instance, from run to run.
//!
//! A trap, an `abort()` or a fault on any thread is recorded in the pool's
//! control block; every thread stops at its next lock or wait, the run ends
//! with that error, and the instance (memory, heap, workers) is dropped and
//! made anew before the next run. Workers are Node `worker_threads`
//! (unref'd: a pipeline never keeps a process alive) or module Workers,
//! started by the package's entry point through [`register_threads`].
//!
//! Where the calling thread may not block (a page's main thread, where
//! `Atomics.wait` throws) the pool is never started: the instance exists
//! (for its metadata) and a run is refused, naming `runAsync`, which runs
//! the pipeline in a worker. A browser starts a worker only when the
//! thread that made it returns to its event loop, so there `load` waits
//! for the pool asynchronously, a synchronous run never waits for one that
//! is still starting, and a pool that failed is started again right after
//! the failed run (see [`Pool`]).
//!
//! Extern stages and trace callbacks are JavaScript functions of the
//! calling thread, which a worker cannot call: a threaded module with them
//! runs on one thread (`threads: 1`), or is refused at load with a reason.

use crate::core::error::{Error, Result};
use crate::js::call::{self, Failure};
use crate::js::convert::get;
use crate::js::guest::{self, Guest};
use crate::js::imports::{self, Imports, Threaded};
use crate::js::options::Hooks;
use js_sys::{Array, Function, Object, Reflect, WebAssembly};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(module = "/src/js/threads.js")]
extern "C" {
    /// One thread's POSIX threads imports (`threads.js`).
    #[derive(Clone)]
    pub type GuestThreads;

    #[wasm_bindgen(constructor)]
    pub fn new(memory: &WebAssembly::Memory, control: &JsValue, threads: u32) -> GuestThreads;

    #[wasm_bindgen(method, getter)]
    pub fn imports(this: &GuestThreads) -> Object;

    #[wasm_bindgen(static_method_of = GuestThreads, catch)]
    fn serve(control: &JsValue, worker: u32, run: &Function) -> std::result::Result<(), JsValue>;

    #[wasm_bindgen(js_name = newControl)]
    fn new_control(workers: u32) -> JsValue;

    fn fail(control: &JsValue, kind: u32, text: &str) -> bool;

    fn failure(control: &JsValue) -> Array;

    #[wasm_bindgen(js_name = waitReady)]
    fn wait_ready(control: &JsValue, n: u32, ms: f64) -> bool;

    #[wasm_bindgen(js_name = whenReady)]
    fn when_ready(control: &JsValue, n: u32, ms: f64) -> js_sys::Promise;

    #[wasm_bindgen(js_name = canBlock)]
    fn can_block() -> bool;

    #[wasm_bindgen(js_name = canShareMemory)]
    fn can_share_memory() -> bool;

    #[wasm_bindgen(js_name = markReady)]
    fn mark_ready(control: &JsValue);

    #[wasm_bindgen(js_name = takePrints)]
    fn take_prints(control: &JsValue) -> String;

    fn printer(control: &JsValue) -> Function;
}

#[wasm_bindgen(module = "/src/js/shared_heap.js")]
extern "C" {
    /// A threaded guest's heap in its shared memory (`shared_heap.js`).
    #[derive(Clone)]
    pub type SharedHeap;

    #[wasm_bindgen(constructor)]
    pub fn new(memory: &WebAssembly::Memory) -> SharedHeap;

    #[wasm_bindgen(method)]
    pub fn bind(this: &SharedHeap, base: u32, init: bool, max_bytes: f64);

    #[wasm_bindgen(method)]
    pub fn alloc(this: &SharedHeap, n: u32) -> u32;

    #[wasm_bindgen(method)]
    pub fn release(this: &SharedHeap, p: u32) -> i32;

    #[wasm_bindgen(method)]
    pub fn stats(this: &SharedHeap) -> Array;

    #[wasm_bindgen(method, getter)]
    pub fn malloc(this: &SharedHeap) -> JsValue;

    #[wasm_bindgen(method, getter)]
    pub fn free(this: &SharedHeap) -> JsValue;

    #[wasm_bindgen(method, setter, js_name = onInvalidFree)]
    pub fn set_on_invalid_free(this: &SharedHeap, f: &JsValue);
}

/// Failure kinds in the control block (`threads.js`).
const TRAP: u32 = 1;
const ABORT: u32 = 2;
const CALLBACK: u32 = 3;

/// Each worker's stack: Halide's deepest apps use ~70 KB.
const STACK_BYTES: u32 = 1 << 20;
/// How long a pool may take to start before the load fails.
const START_MS: f64 = 30_000.0;

/// How the package's entry point starts worker threads on this host.
#[derive(Clone)]
struct Spawner {
    /// `spawn(data)` starts a worker running `threadWorkerMain(data)` and
    /// returns it.
    spawn: Function,
    /// The host's cores: the default of `options.threads`.
    parallelism: u32,
    /// Whether a worker starts while the thread that made it blocks (Node);
    /// a browser starts it only once that thread returns to its event loop.
    starts_while_blocked: bool,
}

thread_local! {
    static SPAWNER: RefCell<Option<Spawner>> = const { RefCell::new(None) };
}

/// Registers how this host starts worker threads, how many cores it has
/// (the default of `options.threads`), and whether a worker starts while
/// the thread that made it blocks (default true; false in browsers).
#[wasm_bindgen(js_name = registerThreads)]
pub fn register_threads(spawn: Function, parallelism: u32, starts_while_blocked: Option<bool>) {
    let s = Spawner {
        spawn,
        parallelism: parallelism.max(1),
        starts_while_blocked: starts_while_blocked.unwrap_or(true),
    };
    SPAWNER.with(|sp| *sp.borrow_mut() = Some(s));
}

fn spawner() -> Option<Spawner> {
    SPAWNER.with(|s| s.borrow().clone())
}

/// The default thread count: the host's cores, or 1 where the package did
/// not say.
pub fn default_threads() -> u32 {
    spawner().map(|s| s.parallelism).unwrap_or(1)
}

/// Whether a worker started now is running before this thread returns to
/// its event loop (false in browsers, and where no spawner is registered).
fn starts_while_blocked() -> bool {
    spawner().is_some_and(|s| s.starts_while_blocked)
}

/// Fails where a threaded module's shared memory cannot be made: a page
/// that is not cross-origin isolated.
pub fn check_shared_memory() -> Result<()> {
    if can_share_memory() {
        return Ok(());
    }
    Err(Error::BadModule(
        "it is a threaded module (it imports a shared memory), and this page cannot have shared memory: it is not cross-origin isolated. Serve the page with the headers `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`, or pass a serial build too: Pipeline.load([threaded, serial]) loads the first of them this page can run".into(),
    ))
}

/// Whether this host can run `needed` (a module's imports): a threaded
/// module needs shared memory.
pub fn host_can_run(needed: &[(String, String, String)]) -> bool {
    !crate::js::imports::is_threaded(needed) || can_share_memory()
}

/// The POSIX threads functions a threaded module may import (besides
/// `memory`, `malloc`/`free` and the C library).
pub const THREAD_IMPORTS: &[&str] = &[
    "pthread_create",
    "pthread_join",
    "pthread_mutex_init",
    "pthread_mutex_destroy",
    "pthread_mutex_lock",
    "pthread_mutex_unlock",
    "pthread_cond_init",
    "pthread_cond_destroy",
    "pthread_cond_wait",
    "pthread_cond_signal",
    "pthread_cond_broadcast",
    "sched_yield",
    "sysconf",
];

/// How a failure travels in the control block: its kind and its text.
fn fault_parts(e: &Error) -> (u32, String) {
    match e {
        Error::Abort(m) => (ABORT, m.clone()),
        Error::Trap(m) => (TRAP, m.clone()),
        Error::Callback(m) => (CALLBACK, m.clone()),
        other => (TRAP, other.to_string()),
    }
}

/// The failure another thread recorded, if any, as the caller's error.
pub fn pool_failure(guest: &Guest) -> Option<Error> {
    let control = guest.pool_control.get()?;
    let f = failure(control);
    let kind = f.get(0).as_f64().unwrap_or(0.0) as u32;
    let text = f.get(1).as_string().unwrap_or_default();
    match kind {
        0 => None,
        ABORT => Some(Error::Abort(text)),
        CALLBACK => Some(Error::Callback(text)),
        _ => Some(Error::Trap(format!("on a worker thread: {text}"))),
    }
}

/// Hands what the workers printed during a run to the caller's `print`
/// (or the console), after the run: a worker cannot call the caller's
/// JavaScript.
pub fn drain_prints(guest: &Guest) {
    let Some(control) = guest.pool_control.get() else {
        return;
    };
    let text = take_prints(control);
    if text.is_empty() {
        return;
    }
    match &guest.hooks.print {
        Some(f) => {
            let _ = f.call1(&JsValue::UNDEFINED, &JsValue::from_str(&text));
        }
        None => web_sys::console::log_1(&JsValue::from_str(text.trim_end_matches('\n'))),
    }
}

/// Fails the run on a page's main thread, where a threaded pipeline's
/// calling thread could not wait for its workers.
fn main_thread_error(threads: u32) -> Failure {
    Error::bad_input(format!(
        "a threaded pipeline (threads: {threads}) cannot run on a page's main thread, where Atomics.wait is not allowed: run it with p.runAsync(args), which runs it in a worker, or load it with threads: 1"
    ))
    .into()
}

/// What a worker needs to join the instance, kept until the pool starts.
struct Start {
    module: WebAssembly::Module,
    memory: WebAssembly::Memory,
    exports: JsValue,
    heap_base: u32,
}

/// A threaded guest's workers: `threads - 1` of them, started (spawned)
/// at load where this thread may block, never on a page's main thread.
/// Dropping it ends them.
pub struct Pool {
    control: JsValue,
    threads: u32,
    /// Until the workers are spawned.
    start: Option<Start>,
    workers: Vec<JsValue>,
    /// Every worker reported ready.
    ready: Cell<bool>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        for w in &self.workers {
            if let Ok(f) = get(w, "terminate").dyn_into::<Function>() {
                let _ = f.call0(w);
            }
        }
    }
}

impl Pool {
    fn wanted(&self) -> u32 {
        self.threads.saturating_sub(1)
    }

    /// Starts the workers (without waiting for them) unless they are.
    fn spawn(&mut self, guest: &Rc<Guest>) -> std::result::Result<(), Failure> {
        if self.start.is_none() {
            return Ok(());
        }
        let Some(spawner) = spawner() else {
            return Err(Error::bad_input(
                "this host cannot start worker threads (no thread support registered); load with threads: 1",
            )
            .into());
        };
        let start = self.start.take().expect("checked above");
        let global = |name: &str| {
            get(&start.exports, name)
                .dyn_into::<WebAssembly::Global>()
                .ok()
                .and_then(|g| g.value().as_f64())
        };
        let tls_size = global("__tls_size").unwrap_or(0.0) as u32;
        let tls_align = (global("__tls_align").unwrap_or(16.0) as u32).max(16);
        let env: Array = guest
            .hooks
            .env
            .iter()
            .map(|(k, v)| JsValue::from(Array::of2(&k.into(), &v.into())))
            .collect();
        for w in 0..self.wanted() {
            let stack = guest.alloc(STACK_BYTES as u64)?;
            let tls = if tls_size > 0 {
                let block = guest.alloc((tls_size + tls_align) as u64)?;
                block.div_ceil(tls_align) * tls_align
            } else {
                0
            };
            let data = Object::new();
            let set = |k: &str, v: &JsValue| {
                let _ = Reflect::set(&data, &JsValue::from_str(k), v);
            };
            set("module", &start.module);
            set("memory", &start.memory);
            set("control", &self.control);
            set("index", &JsValue::from(w));
            set("stackTop", &JsValue::from((stack + STACK_BYTES) & !15));
            set("tlsBase", &JsValue::from(tls));
            set("threads", &JsValue::from(self.threads));
            set("heapBase", &JsValue::from(start.heap_base));
            set(
                "maxMemoryBytes",
                &JsValue::from(guest.hooks.max_memory_bytes as f64),
            );
            set("env", &env);
            let worker = spawner
                .spawn
                .call1(&JsValue::UNDEFINED, &data)
                .map_err(|e| Failure {
                    error: Error::bad_input(format!(
                        "a worker thread could not be started: {}",
                        crate::js::convert::describe(&e)
                    )),
                    cause: Some(e),
                    poisoned: false,
                })?;
            self.workers.push(worker);
        }
        Ok(())
    }

    /// The error for workers that did not all become ready.
    fn not_started(&self, guest: &Guest, waited: bool) -> Failure {
        let why = match pool_failure(guest) {
            Some(e) => e.to_string(),
            None if waited => format!("not ready after {} s", START_MS / 1000.0),
            None => "they are still starting: a browser starts them once this thread returns to its event loop (load a threaded pipeline with `await Pipeline.load(...)`, which waits for them, and let a run after a failure come in a later task)".into(),
        };
        Error::BadModule(format!("its worker threads did not start: {why}")).into()
    }

    /// Starts the workers at load: where this thread may block, spawns
    /// them, and with `block` (a synchronous load) waits for them where
    /// they start meanwhile; else [`Pool::when_ready`] waits.
    fn start_at_load(
        &mut self,
        guest: &Rc<Guest>,
        block: bool,
    ) -> std::result::Result<(), Failure> {
        if self.ready.get() || !can_block() {
            return Ok(());
        }
        self.spawn(guest)?;
        if block && starts_while_blocked() {
            if !wait_ready(&self.control, self.wanted(), START_MS) {
                return Err(self.not_started(guest, true));
            }
            self.ready.set(true);
        }
        Ok(())
    }

    /// A promise of whether the spawned workers became ready (`None` when
    /// there is nothing to wait for). Never blocks.
    pub fn when_ready(&self) -> Option<js_sys::Promise> {
        (!self.ready.get() && self.start.is_none())
            .then(|| when_ready(&self.control, self.wanted(), START_MS))
    }

    /// After [`Pool::when_ready`] resolved with `ok`.
    pub fn settle(&self, guest: &Guest, ok: bool) -> std::result::Result<(), Failure> {
        if !ok {
            return Err(self.not_started(guest, true));
        }
        self.ready.set(true);
        Ok(())
    }

    /// Before a synchronous run: every worker parked and ready, or an
    /// error that says why not (a page's main thread, or a browser's
    /// workers still starting).
    pub fn ensure_ready(&mut self, guest: &Rc<Guest>) -> std::result::Result<(), Failure> {
        if self.ready.get() {
            return Ok(());
        }
        if !can_block() {
            return Err(main_thread_error(self.threads));
        }
        // A pool that failed to start is not tried again: the instance
        // goes, and the next run makes a new one.
        let poisoned = |mut f: Failure| {
            f.poisoned = true;
            f
        };
        self.spawn(guest).map_err(poisoned)?;
        let blocking = starts_while_blocked();
        let ms = if blocking { START_MS } else { 0.0 };
        if !wait_ready(&self.control, self.wanted(), ms) {
            let f = self.not_started(guest, blocking);
            // Still starting (a browser's, not yet failed): keep it.
            return Err(if blocking || pool_failure(guest).is_some() {
                poisoned(f)
            } else {
                f
            });
        }
        self.ready.set(true);
        Ok(())
    }
}

/// Whether a pool failed in a way that the next run must start afresh,
/// and a browser should start that now: its workers start only once this
/// thread returns to its event loop.
pub fn restart_eagerly() -> bool {
    can_block() && !starts_while_blocked()
}

/// What a threaded instance needs besides the module: its memory, its
/// heap and the thread functions of the calling thread.
pub struct Setup {
    pub memory: WebAssembly::Memory,
    pub control: JsValue,
    pub heap: SharedHeap,
    pub threads: GuestThreads,
    pub count: u32,
}

/// A new shared memory for a module whose memory import allows
/// `[min, max]` pages, capped at `cap_bytes`, and a pool control block.
pub fn setup(min: u64, max: u64, cap_bytes: u64, count: u32) -> Result<Setup> {
    let cap_pages = (cap_bytes / 65536).min(max);
    if min > cap_pages {
        return Err(Error::OutOfMemory {
            requested: min * 65536,
            limit: cap_bytes,
        });
    }
    let desc = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&desc, &JsValue::from_str(k), v);
    };
    set("initial", &JsValue::from(min as f64));
    set("maximum", &JsValue::from(cap_pages as f64));
    set("shared", &JsValue::TRUE);
    let memory = WebAssembly::Memory::new(&desc).map_err(|_| Error::OutOfMemory {
        requested: min * 65536,
        limit: cap_bytes,
    })?;
    let control = new_control(count.saturating_sub(1));
    Ok(Setup {
        heap: SharedHeap::new(&memory),
        threads: GuestThreads::new(&memory, &control, count),
        memory,
        control,
        count,
    })
}

/// Once the calling thread's instance exists: runs the constructors, and
/// starts the workers where this thread may block (see
/// [`Pool::start_at_load`]; `block`: a synchronous load).
pub fn start(
    s: &Setup,
    guest: &Rc<Guest>,
    module: &WebAssembly::Module,
    exports: &JsValue,
    heap_base: u32,
    block: bool,
) -> std::result::Result<Pool, Failure> {
    let _ = guest.pool_control.set(s.control.clone());
    if let Ok(ctors) = get(exports, "__wasm_call_ctors").dyn_into::<Function>() {
        guest::with_running(guest, || ctors.call0(&JsValue::UNDEFINED)).map_err(|e| {
            Error::BadModule(format!(
                "its constructors failed: {}",
                crate::js::convert::describe(&e)
            ))
        })?;
    }
    let mut pool = Pool {
        control: s.control.clone(),
        threads: s.count,
        start: Some(Start {
            module: module.clone(),
            memory: s.memory.clone(),
            exports: exports.clone(),
            heap_base,
        }),
        workers: Vec::new(),
        ready: Cell::new(s.count <= 1),
    };
    pool.start_at_load(guest, block)?;
    Ok(pool)
}

/// One worker thread's instance of the guest.
struct WorkerThread {
    guest: Rc<Guest>,
    table: WebAssembly::Table,
    control: JsValue,
    _imports: Imports,
}

impl WorkerThread {
    fn setup(data: &JsValue) -> Result<WorkerThread> {
        let bad = |what: &str| Error::bad_input(format!("worker data: {what}"));
        let module: WebAssembly::Module =
            get(data, "module").dyn_into().map_err(|_| bad("module"))?;
        let memory: WebAssembly::Memory =
            get(data, "memory").dyn_into().map_err(|_| bad("memory"))?;
        let control = get(data, "control");
        let num = |k: &str| get(data, k).as_f64().unwrap_or(0.0);
        let env = get(data, "env")
            .dyn_into::<Array>()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        let p: Array = p.unchecked_into();
                        (
                            p.get(0).as_string().unwrap_or_default(),
                            p.get(1).as_string().unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let hooks = Rc::new(Hooks {
            print: Some(printer(&control)),
            error: None,
            env,
            max_memory_bytes: num("maxMemoryBytes") as u64,
            trace: None,
            externs: Vec::new(),
        });
        let guest = Rc::new(Guest::new(hooks));
        let _ = guest.pool_control.set(control.clone());
        let heap = SharedHeap::new(&memory);
        heap.bind(num("heapBase") as u32, false, num("maxMemoryBytes"));
        let threaded = Threaded {
            memory: memory.clone(),
            threads: GuestThreads::new(&memory, &control, num("threads") as u32),
            heap_malloc: heap.malloc(),
            heap_free: heap.free(),
        };
        let needed = imports::required(&module);
        let imports = Imports::build(&needed, &guest, Some(&threaded))?;
        heap.set_on_invalid_free(&imports.invalid_free());
        let instance = WebAssembly::Instance::new(&module, &imports.object).map_err(|e| {
            Error::Trap(format!(
                "while instantiating on a worker: {}",
                crate::js::convert::describe(&e)
            ))
        })?;
        let exports = instance.exports();
        let sp = get(&exports, "__stack_pointer")
            .dyn_into::<WebAssembly::Global>()
            .map_err(|_| {
                Error::BadModule("a threaded module must export __stack_pointer".into())
            })?;
        sp.set_value(&JsValue::from(num("stackTop")));
        let tls = num("tlsBase") as u32;
        if tls != 0 {
            let init = get(&exports, "__wasm_init_tls")
                .dyn_into::<Function>()
                .map_err(|_| {
                    Error::BadModule("a module with TLS must export __wasm_init_tls".into())
                })?;
            init.call1(&JsValue::UNDEFINED, &JsValue::from(tls))
                .map_err(|e| Error::Trap(crate::js::convert::describe(&e)))?;
        }
        let table = get(&exports, "__indirect_function_table")
            .dyn_into::<WebAssembly::Table>()
            .map_err(|_| {
                Error::BadModule("a threaded module must export __indirect_function_table".into())
            })?;
        imports.bind(&memory);
        guest.bind_shared(memory, heap)?;
        Ok(WorkerThread {
            guest,
            table,
            control,
            _imports: imports,
        })
    }

    /// Runs the thread function `f(arg)`; a failure is the pool's.
    fn run(&self, f: u32, arg: u32) {
        let r = self.table.get(f).and_then(|func| {
            guest::with_running(&self.guest, || {
                func.call1(&JsValue::UNDEFINED, &JsValue::from(arg))
            })
        });
        if let Err(thrown) = r {
            let failure = call::classify(&self.guest, thrown);
            let (kind, text) = fault_parts(&failure.error);
            fail(&self.control, kind, &text);
        }
    }
}

/// Records that a worker failed outside the executor's reach (its script
/// threw while loading): the pool fails, and nothing waits for it.
#[wasm_bindgen(js_name = threadFailed)]
pub fn thread_failed(control: JsValue, message: String) {
    fail(&control, TRAP, &message);
}

/// A worker thread's whole life (called by the package's worker script):
/// set up, report ready, serve `pthread_create` until the pool fails or
/// the worker is terminated.
#[wasm_bindgen(js_name = threadWorkerMain)]
pub fn thread_worker_main(data: JsValue) {
    let control = get(&data, "control");
    let index = get(&data, "index").as_f64().unwrap_or(0.0) as u32;
    match WorkerThread::setup(&data) {
        Ok(w) => {
            let w = Rc::new(w);
            let run = Closure::<dyn Fn(u32, u32)>::new(move |f: u32, arg: u32| w.run(f, arg));
            mark_ready(&control);
            let _ = GuestThreads::serve(&control, index, run.as_ref().unchecked_ref());
        }
        Err(e) => {
            fail(
                &control,
                TRAP,
                &format!("worker thread {index} could not start: {e}"),
            );
        }
    }
}

/// The executor's own compiled module, for the workers the package starts
/// in a browser (`threadWorkerMain` and `runAsync`'s runner): posted to
/// them, it spares each a download and a compile.
#[wasm_bindgen(js_name = executorModule)]
pub fn executor_module() -> JsValue {
    wasm_bindgen::module()
}
