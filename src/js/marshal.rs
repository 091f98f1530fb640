//! The batched boundary of a run: one call into JavaScript reads every
//! argument, one writes and copies everything in and calls the pipeline,
//! one copies the outputs back.
//!
//! Reading a caller's argument object through `Reflect::get` costs a
//! crossing per property (about a hundred for a small pipeline, 4 µs per
//! run). `marshal.js`, the JavaScript half, reads arguments of the usual
//! shape (numbers; `{ data, shape, strides?, mins? }` with plain arrays)
//! into a `Float64Array` over this module's memory, which [`decode`] checks
//! with the same core functions as the full reader in [`call::plan`]. Any
//! other shape, and every wrong argument, goes to that full reader, which
//! also words the error. A caller's getters may therefore run twice when
//! the fast read gives up.
//!
//! The JavaScript half keeps the run's typed arrays; Rust refers to them
//! by argument index.

use crate::core::layout::BufferShape;
use crate::core::metadata::{ArgKind, Metadata};
use crate::core::scalar::{self, Scalar};
use crate::core::types::ArrayKind;
use crate::js::call::{self, Slot, USER_CONTEXT};
use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/js/marshal.js")]
extern "C" {
    /// One pipeline's reader of arguments and mover of bytes.
    pub type Marshal;

    #[wasm_bindgen(constructor)]
    fn new(names: &Array, classes: &[u8], dims: &[u32], home: &JsValue) -> Marshal;

    /// Fills the read-out at address `to` of this module's memory; the
    /// slots written, or [`BAIL`].
    #[wasm_bindgen(method)]
    fn read(this: &Marshal, args: &JsValue, memory: &JsValue, to: u32) -> u32;

    /// The caller's arrays, by argument index, read by [`call::plan`].
    #[wasm_bindgen(method, js_name = setData)]
    pub fn set_data(this: &Marshal, data: &Array);

    #[wasm_bindgen(method)]
    pub fn release(this: &Marshal);

    /// Writes the stage at `at`, copies the inputs, calls `entry`; the
    /// stage and the input triples are passed by their address in this
    /// module's memory. Returns what `entry` returned; NaN when it threw,
    /// infinity when copying an input in threw (then
    /// [`Marshal::take_thrown`] has the exception). Only through
    /// `GuestMem`, which checks every guest address first.
    #[wasm_bindgen(method)]
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        this: &Marshal,
        memory: &JsValue,
        entry: &Function,
        direct: &JsValue,
        at: u32,
        stage: u32,
        stage_len: u32,
        ins: u32,
        n_ins: u32,
    ) -> f64;

    /// Copies the outputs back and releases the arrays; the triples are
    /// passed by address. False when a copy threw (then
    /// [`Marshal::take_thrown`] has it). Only through `GuestMem`.
    #[wasm_bindgen(method, js_name = copyOut)]
    pub fn copy_out(this: &Marshal, memory: &JsValue, outs: u32, n_outs: u32) -> bool;

    /// What the last `call` or `copyOut` caught. (They catch it themselves:
    /// a wasm-bindgen `catch` wrapper costs a closure and an `arguments`
    /// object per call.)
    #[wasm_bindgen(method, js_name = takeThrown)]
    pub fn take_thrown(this: &Marshal) -> JsValue;
}

/// What [`Marshal::read`] returns when Rust must read the arguments.
const BAIL: u32 = u32::MAX;

/// How the JavaScript half treats an argument (`marshal.js` numbers them
/// the same).
#[derive(Clone, Copy)]
#[repr(u8)]
enum ArgClass {
    UserContext = 0,
    Scalar = 1,
    Buffer = 2,
}

/// Slots one argument takes in the read-out.
fn width(class: ArgClass, dims: u32) -> usize {
    match class {
        ArgClass::UserContext => 0,
        ArgClass::Scalar => 2,
        ArgClass::Buffer => 6 + 3 * dims as usize,
    }
}

fn class_of(a: &crate::core::metadata::Argument) -> ArgClass {
    if a.name == USER_CONTEXT {
        ArgClass::UserContext
    } else if a.kind == ArgKind::Scalar {
        ArgClass::Scalar
    } else {
        ArgClass::Buffer
    }
}

impl Marshal {
    /// The reader for `meta`'s arguments (named by `names`, the same
    /// strings as JavaScript values), and the read-out's length.
    pub fn for_metadata(meta: &Metadata, names: &[JsValue]) -> (Marshal, usize) {
        let names: Array = names.iter().collect();
        let classes: Vec<u8> = meta.arguments.iter().map(|a| class_of(a) as u8).collect();
        let dims: Vec<u32> = meta.arguments.iter().map(|a| a.dimensions).collect();
        let len = meta
            .arguments
            .iter()
            .map(|a| width(class_of(a), a.dimensions))
            .sum();
        let home = wasm_bindgen::memory();
        (Marshal::new(&names, &classes, &dims, &home), len)
    }

    /// Reads `args` into `out` (sized by [`Marshal::for_metadata`]); false
    /// when the full reader must do it. `memory` is the guest's, to spot
    /// `allocBuffer` data, or `undefined`.
    pub fn read_into(&self, args: &JsValue, memory: &JsValue, out: &mut [f64]) -> bool {
        // The JavaScript half writes `out` through its address.
        self.read(args, memory, out.as_mut_ptr() as u32) != BAIL
    }
}

/// Checks the read-out `f` against `meta` and makes the run's slots; `None`
/// when anything is off (the full reader then finds and words it).
/// `regions` are the live `allocBuffer` blocks, `(host, bytes)`.
pub fn decode(meta: &Metadata, f: &[f64], regions: &[(u32, u32)]) -> Option<Vec<Slot>> {
    let mut slots = Vec::with_capacity(meta.arguments.len());
    let mut k = 0;
    for a in &meta.arguments {
        let class = class_of(a);
        let elem = a.elem?;
        match class {
            ArgClass::UserContext => {
                slots.push(Slot::UserContext);
                continue;
            }
            ArgClass::Scalar => {
                let value = match f[k] {
                    0.0 => a.default?,
                    1.0 => Scalar::Number(f[k + 1]),
                    _ => Scalar::Bool(f[k + 1] != 0.0),
                };
                scalar::check_range(&a.name, value, a.min, a.max).ok()?;
                slots.push(Slot::Scalar {
                    bytes: scalar::encode(&a.name, elem, value).ok()?,
                    elem,
                });
            }
            ArgClass::Buffer => {
                let d = a.dimensions as usize;
                let kind = *ArrayKind::ALL.get(f[k] as usize)?;
                if !elem.array_kinds().contains(&kind) {
                    return None;
                }
                let base = k + 6;
                let shape = &f[base..base + d];
                let strides = (f[k + 4] != 0.0).then(|| &f[base + d..base + 2 * d]);
                let mins = (f[k + 5] != 0.0).then(|| &f[base + 2 * d..base + 3 * d]);
                let shape = BufferShape::from_parts(
                    &a.name,
                    elem,
                    d,
                    shape,
                    strides,
                    mins,
                    f[k + 1] as u64,
                )
                .ok()?;
                let in_guest = if f[k + 3] != 0.0 {
                    let start = f[k + 2] as u32;
                    if !call::in_allocated(regions, start, shape.span_bytes()) {
                        return None;
                    }
                    Some(start)
                } else {
                    None
                };
                slots.push(Slot::Buffer {
                    shape,
                    output: a.kind == ArgKind::Output,
                    in_guest,
                });
            }
        }
        k += width(class, a.dimensions);
    }
    Some(slots)
}
