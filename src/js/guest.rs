//! One guest instance: its memory and the host state its imports share.
//!
//! [`GuestMem`] is the only code that touches the pipeline's
//! `WebAssembly.Memory`. Every access takes a fresh view of the memory's
//! buffer (a `memory.grow` detaches old views), after checking the offset and
//! length against the memory's current size. Bulk data moves with one
//! `TypedArray.prototype.set` between the caller's array and the guest,
//! never element by element through Rust. A run's writes go in one batch
//! through the JavaScript half of [`Marshal`], each address checked here
//! first. The one other code that touches the memory is the guest's own
//! `memcpy`/`memmove`/`memset` (`libc.js`, see [`crate::js::imports`]),
//! which moves bytes inside it after checking its ranges.
//!
//! [`Guest`] is everything one instance needs at run time: the memory (bound
//! after instantiation), the heap, the text it printed, and the fault an
//! import raised. The executor's own exports find it on the stack of
//! running guests ([`with_current`]); the callback closures (extern stages,
//! tracing) hold it in an `Rc`. Each instance (and each worker thread of a
//! threaded one) has its own. A JavaScript exception (the guest's
//! `abort()`, a trap, a throwing callback, a stack overflow inside an
//! import) unwinds through Rust frames without running their destructors,
//! so the guest's state is in `Cell`s whose values are taken out and put
//! back (never a `RefCell` borrow that could stay set), and no `Rc` of it
//! lives in a frame that such an exception can cross.

use crate::core::allocator::{AllocError, HeapAllocator};
use crate::core::error::{Error, GuestError, Result};
use crate::core::memory::{check_within, GuestMemory};
use crate::js::marshal::Marshal;
use crate::js::options::Hooks;
use crate::js::sys::{AnyBuffer, FallibleMemory};
use crate::js::threads::SharedHeap;
use js_sys::{ArrayBuffer, Uint8Array, WebAssembly};
use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

pub const PAGE: u64 = 65536;
/// A wasm32 memory holds at most 65536 pages.
pub const MAX_WASM32_BYTES: u64 = 65536 * PAGE;
/// The environment variable Halide's runtime reads for its trace file.
pub const TRACE_ENV: &str = "HL_TRACE_FILE";
/// The trace file's name as the guest sees it; no file system is involved.
pub const TRACE_PATH: &str = "/halide-wasm-executor/trace";
/// The descriptor `fileno` gives for that file.
pub const TRACE_FD: i32 = 3;
/// Most text kept from one run's prints, for error messages.
const MAX_CAPTURED: usize = 16 * 1024;

/// Checked access to a guest's `WebAssembly.Memory`.
pub struct GuestMem {
    memory: WebAssembly::Memory,
    max_bytes: u64,
    /// A size the memory has reached: it never shrinks, so a range inside
    /// this one needs no look at the memory (two JavaScript calls).
    known_size: Cell<u64>,
}

impl GuestMem {
    pub fn new(memory: WebAssembly::Memory, max_bytes: u64) -> GuestMem {
        GuestMem {
            memory,
            max_bytes,
            known_size: Cell::new(0),
        }
    }

    pub fn memory(&self) -> &WebAssembly::Memory {
        &self.memory
    }

    /// The memory's current buffer (a fresh object after every growth).
    pub fn buffer(&self) -> ArrayBuffer {
        self.memory.buffer().unchecked_into()
    }

    /// A fresh view of `[ptr, ptr + len)`.
    pub fn view(&self, ptr: u32, len: u32) -> Result<Uint8Array, GuestError> {
        self.check(ptr, len as u64)?;
        Ok(Uint8Array::new_with_byte_offset_and_length(
            &self.buffer(),
            ptr,
            len,
        ))
    }

    /// Grows the memory by at least `bytes`, in whole pages, within the
    /// caller's limit. Returns false when it may not or cannot grow.
    pub fn grow(&self, bytes: u64) -> bool {
        let pages = bytes.div_ceil(PAGE);
        let current = self.size();
        if current + pages * PAGE > self.max_bytes {
            return false;
        }
        self.memory
            .unchecked_ref::<FallibleMemory>()
            .grow(pages as u32)
            .is_ok()
    }

    /// `memset` inside the guest.
    pub fn fill(&self, ptr: u32, value: u8, len: u32) -> Result<(), GuestError> {
        self.view(ptr, len)?.fill(value, 0, len);
        Ok(())
    }

    /// Fails unless every `[address, address + bytes)` of the
    /// `[argument, address, bytes]` triples lies in `[block, block + len)`,
    /// itself inside the memory.
    fn check_batch(&self, block: u32, len: u32, ops: &[u32]) -> Result<(), GuestError> {
        self.check(block, len as u64)?;
        let end = block as u64 + len as u64;
        for op in ops.chunks_exact(3) {
            let (ptr, bytes) = (op[1] as u64, op[2] as u64);
            if ptr < block as u64 || ptr + bytes > end {
                return Err(GuestError::OutOfBounds {
                    ptr,
                    len: bytes,
                    size: self.size(),
                });
            }
        }
        Ok(())
    }

    /// One run's way in, in one crossing: writes `stage` at `block`, copies
    /// the caller's inputs (`ins`: `[argument, address, bytes]` triples
    /// inside the run's block of `len` bytes) and calls `entry`: with the
    /// argv table at `block`, or with the arguments in `direct` when that
    /// is an array (Halide's JIT flavour).
    #[allow(clippy::too_many_arguments)]
    pub fn stage_and_call(
        &self,
        marshal: &Marshal,
        entry: &js_sys::Function,
        direct: &JsValue,
        block: u32,
        len: u32,
        stage: &[u8],
        ins: &[u32],
    ) -> Result<Entered, GuestError> {
        if stage.len() as u64 > len as u64 {
            return Err(GuestError::OutOfBounds {
                ptr: block as u64,
                len: stage.len() as u64,
                size: self.size(),
            });
        }
        self.check_batch(block, len, ins)?;
        let r = marshal.call(
            &self.memory,
            entry,
            direct,
            block,
            stage.as_ptr() as u32,
            stage.len() as u32,
            ins.as_ptr() as u32,
            (ins.len() / 3) as u32,
        );
        // The entry point returns integers: NaN and infinity are the
        // JavaScript half's signals that something threw.
        Ok(if r.is_nan() {
            Entered::Threw(marshal.take_thrown())
        } else if r == f64::INFINITY {
            Entered::InputUnreadable(marshal.take_thrown())
        } else {
            Entered::Returned(r)
        })
    }

    /// Copies a run's outputs (`outs`: `[argument, address, bytes]` triples
    /// inside its block) back to the caller's arrays, in one crossing.
    /// The inner error is what a copy threw (a caller's array was
    /// detached during the run).
    pub fn copy_out_all(
        &self,
        marshal: &Marshal,
        block: u32,
        len: u32,
        outs: &[u32],
    ) -> Result<std::result::Result<(), JsValue>, GuestError> {
        self.check_batch(block, len, outs)?;
        Ok(
            if marshal.copy_out(&self.memory, outs.as_ptr() as u32, (outs.len() / 3) as u32) {
                Ok(())
            } else {
                Err(marshal.take_thrown())
            },
        )
    }

    /// `strlen`: the distance to the first NUL at or after `ptr`.
    pub fn strlen(&self, ptr: u32) -> Result<u32, GuestError> {
        let size = self.size();
        if ptr as u64 >= size {
            return Err(GuestError::Unterminated { ptr });
        }
        let v = self.view(ptr, (size - ptr as u64) as u32)?;
        match v.index_of(0, 0) {
            n if n >= 0 => Ok(n as u32),
            _ => Err(GuestError::Unterminated { ptr }),
        }
    }
}

impl GuestMemory for GuestMem {
    fn size(&self) -> u64 {
        // As a number: a memory of 65536 pages has 2^32 bytes.
        let size = self.buffer().unchecked_ref::<AnyBuffer>().byte_length() as u64;
        self.known_size.set(size);
        size
    }

    fn check(&self, ptr: u32, len: u64) -> Result<(), GuestError> {
        if ptr as u64 + len <= self.known_size.get() {
            return Ok(());
        }
        check_within(ptr, len, self.size())
    }

    fn read(&self, ptr: u32, out: &mut [u8]) -> Result<(), GuestError> {
        self.view(ptr, out.len() as u32)?.copy_to(out);
        Ok(())
    }

    fn write(&self, ptr: u32, bytes: &[u8]) -> Result<(), GuestError> {
        self.view(ptr, bytes.len() as u32)?.copy_from(bytes);
        Ok(())
    }
}

/// How a run's way in ([`GuestMem::stage_and_call`]) ended.
pub enum Entered {
    /// The entry point returned this.
    Returned(f64),
    /// The entry point, or a host callback under it, threw this.
    Threw(JsValue),
    /// Copying a caller's input in threw this (its array was detached
    /// after the run read it); no guest code ran.
    InputUnreadable(JsValue),
}

thread_local! {
    /// The guests whose code is running on this thread, innermost last: a
    /// run's callback may run another pipeline, whose guest then runs on
    /// top. The heap exports ([`crate::js::heap_exports`]) act on the top.
    static RUNNING: RefCell<Vec<Rc<Guest>>> = const { RefCell::new(Vec::new()) };
}

/// Calls `f`, which runs `guest`'s code, with `guest` as the running one.
/// `f` must not unwind (it calls the guest through a `catch` import), or
/// the guest would stay on the stack.
pub fn with_running<R>(guest: &Rc<Guest>, f: impl FnOnce() -> R) -> R {
    RUNNING.with_borrow_mut(|s| s.push(guest.clone()));
    let r = f();
    RUNNING.with_borrow_mut(|s| s.pop());
    r
}

/// Throws into the guest's code after an import recorded its fault on the
/// guest ([`Guest::set_fault`]): the run then ends as a trap carrying that
/// fault. Nothing with a destructor may be alive in the caller's frame (a
/// throw runs none).
pub fn throw_fault() -> ! {
    wasm_bindgen::throw_str("halide-wasm-executor: guest fault")
}

/// `f` on the running guest; `None` when no guest code is running.
///
/// No borrow of the stack is held while `f` runs, and no `Rc` is cloned
/// for it: `f` may run the caller's JavaScript (which may run another
/// pipeline, pushing onto the stack), and a JavaScript exception may
/// unwind through `f` without running destructors (a guest that recursed
/// until the stack overflows inside an import), which would leave a borrow
/// flag set for every pipeline of the thread, or a clone that keeps the
/// guest alive forever. So `f` gets a plain reference.
#[allow(unsafe_code)]
pub fn with_current<R>(f: impl FnOnce(&Guest) -> R) -> Option<R> {
    let top: Option<*const Guest> = RUNNING.with_borrow(|s| s.last().map(Rc::as_ptr));
    // SAFETY: the `Rc` on the stack keeps the guest alive until
    // `with_running` pops it, which happens only after the guest's code,
    // and so this import call within it, has returned or unwound; a nested
    // run pushes and pops above it, and a pipeline cannot be disposed or
    // dropped from inside its own run.
    top.map(|g| f(unsafe { &*g }))
}

/// The host-side state of one guest instance.
pub struct Guest {
    mem: OnceCell<GuestMem>,
    /// Taken out while in use and put back (never borrowed across a call:
    /// see the module doc), boxed so that moving it is cheap.
    heap: Cell<Option<Box<HeapAllocator>>>,
    /// A threaded guest's heap, in its shared memory, for every thread
    /// (`shared_heap.js`); then `heap` is unused.
    shared_heap: OnceCell<SharedHeap>,
    /// A threaded guest's pool control block: where a failure on another
    /// thread is recorded.
    pub pool_control: OnceCell<JsValue>,
    pub hooks: Rc<Hooks>,
    /// Text the guest wrote to stderr (or `halide_error`) during this run.
    captured: Cell<String>,
    /// The error an import raised before throwing into the guest, and the
    /// JavaScript exception behind it, if any.
    fault: Cell<Option<(Error, Option<JsValue>)>>,
    /// The guest called `abort()`.
    aborted: Cell<bool>,
    /// `getenv` results, allocated in the guest once per name.
    env_strings: Cell<Vec<(String, u32)>>,
    /// The `FILE*` the runtime opened for its trace file (0: none).
    pub trace_file: Cell<u32>,
    /// Trace bytes written but not yet parsed (a packet split by writes).
    pub trace_pending: Cell<Vec<u8>>,
    /// The last run's layout block, `(address, size)`, kept for the next
    /// run (see [`Guest::run_block`]).
    kept_run_block: Cell<Option<(u32, u32)>>,
}

/// Run blocks up to this size are kept from one run to the next: a small
/// pipeline run many times then skips a `malloc` and a `free` per run
/// (~25 ns of its ~500).
const KEEP_RUN_BLOCK: u32 = 4096;

thread_local! {
    /// Guest instances alive in this thread: a leaked reference (an import
    /// closure, or an `Rc` alive across a throw) shows here.
    static LIVE_GUESTS: Cell<u32> = const { Cell::new(0) };
}

/// The number of guest instances alive (see `liveInstances`).
pub fn live_guests() -> u32 {
    LIVE_GUESTS.with(|c| c.get())
}

impl Drop for Guest {
    fn drop(&mut self) {
        LIVE_GUESTS.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

impl Guest {
    pub fn new(hooks: Rc<Hooks>) -> Guest {
        LIVE_GUESTS.with(|c| c.set(c.get() + 1));
        Guest {
            mem: OnceCell::new(),
            heap: Cell::new(None),
            shared_heap: OnceCell::new(),
            pool_control: OnceCell::new(),
            hooks,
            captured: Cell::new(String::new()),
            fault: Cell::new(None),
            aborted: Cell::new(false),
            env_strings: Cell::new(Vec::new()),
            trace_file: Cell::new(0),
            trace_pending: Cell::new(Vec::new()),
            kept_run_block: Cell::new(None),
        }
    }

    /// Binds the instance's memory once it exists; the heap starts at
    /// `heap_base`.
    pub fn bind(&self, memory: WebAssembly::Memory, heap_base: u32) -> Result<()> {
        let max = self.hooks.max_memory_bytes;
        let mem = GuestMem::new(memory, max);
        let size = mem.size();
        if size > max {
            return Err(Error::OutOfMemory {
                requested: size,
                limit: max,
            });
        }
        let end = size.min(u32::MAX as u64) as u32;
        self.heap
            .set(Some(Box::new(HeapAllocator::new(heap_base.min(end), end))));
        self.mem
            .set(mem)
            .map_err(|_| Error::BadModule("memory bound twice".into()))
    }

    /// Binds a threaded instance's shared memory, whose heap is `heap`
    /// (already placed in it).
    pub fn bind_shared(&self, memory: WebAssembly::Memory, heap: SharedHeap) -> Result<()> {
        let mem = GuestMem::new(memory, self.hooks.max_memory_bytes);
        let _ = self.shared_heap.set(heap);
        self.mem
            .set(mem)
            .map_err(|_| Error::BadModule("memory bound twice".into()))
    }

    /// Whether the heap is a threaded guest's shared one.
    pub fn is_shared(&self) -> bool {
        self.shared_heap.get().is_some()
    }

    /// The guest memory; only after [`bind`](Self::bind).
    pub fn mem(&self) -> &GuestMem {
        self.mem
            .get()
            .expect("guest memory is bound at instantiation")
    }

    /// `malloc`: 0 when the heap cannot grow enough (within the limit).
    pub fn malloc(&self, size: u32) -> u32 {
        if let Some(h) = self.shared_heap.get() {
            return h.alloc(size);
        }
        // Taken out and put back: an exception that unwinds through here
        // loses the heap (later mallocs of this broken instance return 0)
        // instead of leaving a borrow set.
        let Some(mut h) = self.heap.take() else {
            return 0;
        };
        let p = loop {
            match h.alloc(size) {
                Ok(p) => break p,
                Err(AllocError::TooLarge) => break 0,
                Err(AllocError::NeedsGrowth { bytes }) => {
                    let mem = self.mem();
                    if !mem.grow(bytes) {
                        break 0;
                    }
                    h.extend_to(mem.size());
                }
            }
        };
        self.heap.set(Some(h));
        p
    }

    /// `f` on the heap, taken out and put back; `None` without one.
    fn with_heap<R>(&self, f: impl FnOnce(&mut HeapAllocator) -> R) -> Option<R> {
        let mut h = self.heap.take()?;
        let r = f(&mut h);
        self.heap.set(Some(h));
        Some(r)
    }

    /// Allocates for the host's own use; an error names the size and limit.
    pub fn alloc(&self, size: u64) -> Result<u32> {
        let fail = || Error::OutOfMemory {
            requested: size,
            limit: self.hooks.max_memory_bytes,
        };
        let size = u32::try_from(size).map_err(|_| fail())?;
        match self.malloc(size) {
            0 => Err(fail()),
            p => Ok(p),
        }
    }

    /// A guest block of `size` bytes for a run's layout: the block the last
    /// run kept, when it has that size (a run with the last run's arguments
    /// then also reuses its layout, built for that address), or a new one.
    pub fn run_block(&self, size: u32) -> Result<u32> {
        if let Some((block, kept)) = self.kept_run_block.take() {
            // (Only a guest's own heap keeps one: see end_run_block.)
            // Still live: a broken guest may have freed it during the run.
            let live = self.with_heap(|h| h.size_of(block)).flatten();
            match live {
                Some(_) if kept == size => return Ok(block),
                Some(_) => {
                    let _ = self.free(block);
                }
                None => {}
            }
        }
        self.alloc(u64::from(size))
    }

    /// Ends a run's use of `block` (from [`run_block`](Self::run_block)):
    /// a small one is kept for the next run, a larger one freed.
    pub fn end_run_block(&self, block: u32, size: u32) {
        match self.kept_run_block.get() {
            // A shared heap cannot say whether a kept block is still live.
            None if size <= KEEP_RUN_BLOCK && !self.is_shared() => {
                self.kept_run_block.set(Some((block, size)))
            }
            _ => {
                let _ = self.free(block);
            }
        }
    }

    /// `free`: a pointer that is not live is a guest fault.
    pub fn free(&self, ptr: u32) -> Result<(), GuestError> {
        if ptr == 0 {
            return Ok(());
        }
        if let Some(h) = self.shared_heap.get() {
            return match h.release(ptr) {
                0 => Ok(()),
                _ => Err(GuestError::InvalidFree { ptr }),
            };
        }
        let ok = self.with_heap(|h| h.free(ptr)).unwrap_or(false);
        if ok {
            Ok(())
        } else {
            Err(GuestError::InvalidFree { ptr })
        }
    }

    /// `(heap bytes in use, live allocations)`, not counting a run block
    /// kept for the next run (it is freed first).
    pub fn heap_stats(&self) -> (u64, usize) {
        if let Some((block, _)) = self.kept_run_block.take() {
            let _ = self.free(block);
        }
        if let Some(h) = self.shared_heap.get() {
            let s = h.stats();
            let at = |i: u32| s.get(i).as_f64().unwrap_or(0.0);
            return (at(0) as u64, at(1) as usize);
        }
        self.with_heap(|h| (h.in_use_bytes(), h.live_allocations()))
            .unwrap_or((0, 0))
    }

    pub fn memory_bytes(&self) -> u64 {
        self.mem.get().map(|m| m.size()).unwrap_or(0)
    }

    /// `getenv`: the value from the caller's `env` option only, as a string
    /// in guest memory that lives as long as the instance.
    pub fn getenv(&self, name_ptr: u32) -> Result<u32, GuestError> {
        let name = self.mem().read_cstr(name_ptr)?;
        let value = self
            .hooks
            .env
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str());
        // The runtime's trace file is the executor's own channel to
        // options.trace (or to nowhere), unless the caller names one.
        let value = match value {
            None if name == TRACE_ENV => Some(TRACE_PATH),
            v => v,
        };
        let Some(value) = value else {
            return Ok(0);
        };
        let known = self.env_strings.take();
        let found = known.iter().find(|(k, _)| *k == name).map(|(_, p)| *p);
        self.env_strings.set(known);
        if let Some(p) = found {
            return Ok(p);
        }
        let mut bytes = value.as_bytes().to_vec();
        bytes.push(0);
        let p = self.malloc(bytes.len() as u32);
        if p == 0 {
            return Ok(0);
        }
        self.mem().write(p, &bytes)?;
        let mut known = self.env_strings.take();
        known.push((name, p));
        self.env_strings.set(known);
        Ok(p)
    }

    /// Keeps error text for the HalideError of this run.
    pub fn capture(&self, text: &str) {
        let mut c = self.captured.take();
        if c.len() < MAX_CAPTURED {
            let room = MAX_CAPTURED - c.len();
            let mut end = text.len().min(room);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            c.push_str(&text[..end]);
        }
        self.captured.set(c);
    }

    pub fn take_captured(&self) -> String {
        self.captured.take()
    }

    pub fn set_fault(&self, e: Error) {
        self.set_fault_with_cause(e, None);
    }

    /// Records the first fault of a run (later ones are its consequences).
    pub fn set_fault_with_cause(&self, e: Error, cause: Option<JsValue>) {
        let f = self.fault.take();
        self.fault.set(f.or(Some((e, cause))));
    }

    pub fn take_fault(&self) -> Option<(Error, Option<JsValue>)> {
        self.fault.take()
    }

    pub fn set_aborted(&self) {
        self.aborted.set(true);
    }

    pub fn take_aborted(&self) -> bool {
        self.aborted.replace(false)
    }
}
