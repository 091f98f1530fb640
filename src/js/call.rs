//! One run: check the caller's arguments, lay them out in the guest, call
//! `NAME_argv`, copy the outputs back, free what the run allocated.
//!
//! Everything the caller passed is checked before the guest is touched
//! ([`plan`]), so a wrong argument costs nothing and changes nothing. The
//! outputs are copied back only when the pipeline succeeded.

use crate::core::error::{Error, Result};
use crate::core::layout::{BufferHeader, BufferShape, RunLayout, BUFFER_T_SIZE, DIMENSION_T_SIZE};
use crate::core::metadata::{ArgKind, Metadata};
use crate::core::outputs;
use crate::core::scalar;
use crate::core::types::ElemKind;
use crate::js::convert::{self, describe};
use crate::js::guest::{self, Entered, Guest};
use crate::js::marshal::Marshal;
use crate::js::sys;
use js_sys::{Array, Function, Reflect, WebAssembly};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

/// One argument, checked and ready to be laid out.
pub enum Slot {
    Scalar {
        bytes: [u8; 8],
        elem: ElemKind,
    },
    /// A buffer; its data is the caller's typed array for this argument,
    /// which the [`Marshal`] holds.
    Buffer {
        shape: BufferShape,
        output: bool,
        /// The data already lives in the guest here (`allocBuffer`): no copies.
        in_guest: Option<u32>,
    },
    /// `__user_context`, which the executor passes and the caller never does.
    UserContext,
}

/// The name Halide gives the user-context argument.
pub const USER_CONTEXT: &str = "__user_context";

/// How the entry point takes its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallStyle {
    /// Ahead-of-time: `NAME_argv(void **args)`.
    Argv,
    /// Halide's JIT flavour: the arguments themselves, `__user_context`
    /// given the magic value -1 as Halide's C++ executor does.
    Direct,
}

/// Buffers allocated in the guest with `allocBuffer`, for zero-copy runs.
pub struct GuestBuffers<'a> {
    /// The guest memory's current `ArrayBuffer`.
    pub memory: JsValue,
    /// `(host, bytes)` of every live `allocBuffer` data block.
    pub regions: &'a [(u32, u32)],
}

/// Whether `[start, start + bytes)` lies inside one of the live
/// `allocBuffer` blocks `regions`, each `(host, bytes)`.
pub fn in_allocated(regions: &[(u32, u32)], start: u32, bytes: u64) -> bool {
    let (start, end) = (start as u64, start as u64 + bytes);
    regions
        .iter()
        .any(|(h, n)| start >= *h as u64 && end <= *h as u64 + *n as u64)
}

/// Checks `args` (an object keyed by argument name) against the metadata,
/// property by property: the full reader, for what the batched one in
/// [`crate::js::marshal`] leaves, and the one that words every error.
/// Only the object's own enumerable properties count (as with `{ ...args }`):
/// an argument named `constructor` or `toString` is not read from
/// `Object.prototype`, nor one from any other prototype. A property whose
/// reading throws is a `bad-argument` error with the exception as `cause`.
/// Returns the slots, by argument index the caller's data arrays, and the
/// outputs it allocated for those the caller omitted (see
/// [`crate::core::outputs`]), as `{ name: { data, shape, strides, mins } }`,
/// or `None` when it allocated none.
pub fn plan(
    meta: &Metadata,
    names_js: &[JsValue],
    args: &JsValue,
    guest: Option<GuestBuffers>,
) -> Result<(Vec<Slot>, Array, Option<js_sys::Object>), Failure> {
    if !args.is_object() || args.is_null() {
        return Err(Error::bad_input(format!(
            "run() takes an object of arguments by name, got {}",
            convert::type_name(args)
        ))
        .into());
    }
    let names = || {
        meta.arguments
            .iter()
            .filter(|a| a.name != USER_CONTEXT)
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let keys = sys::object_keys(args)
        .map_err(|e| convert::threw("run()", "the argument object's keys", e))?;
    // Which arguments the object has as own properties.
    let mut present = vec![false; meta.arguments.len()];
    for k in keys.iter() {
        let k = k.as_string().unwrap_or_default();
        match meta
            .arguments
            .iter()
            .position(|a| a.name == k && a.name != USER_CONTEXT)
        {
            Some(i) => present[i] = true,
            None => {
                return Err(Error::bad_input(format!(
                    "unknown argument '{k}'; {} takes: {}",
                    meta.name,
                    names()
                ))
                .into())
            }
        }
    }
    let mut slots = Vec::with_capacity(meta.arguments.len());
    let data = Array::new_with_length(meta.arguments.len() as u32);
    // The first input buffer's name and index into `slots` (its shape is
    // read there, only when an output was omitted); the omitted outputs,
    // by index into `slots` and `meta.arguments`.
    let mut first_input: Option<(&str, usize)> = None;
    let mut omitted: Vec<(usize, usize)> = Vec::new();
    for (i, (a, key)) in meta.arguments.iter().zip(names_js).enumerate() {
        if a.name == USER_CONTEXT {
            slots.push(Slot::UserContext);
            continue;
        }
        let v = if present[i] {
            Reflect::get(args, key).map_err(|e| convert::threw(&a.name, "the argument", e))?
        } else {
            JsValue::UNDEFINED
        };
        let elem = a.elem.ok_or_else(|| {
            Error::bad_arg(
                &a.name,
                format!("vector type {} cannot be passed from JavaScript", a.ty),
            )
        })?;
        if a.kind == ArgKind::Scalar {
            let value = if v.is_undefined() {
                a.default.ok_or_else(|| {
                    Error::bad_arg(
                        &a.name,
                        format!("missing {} scalar (it has no default)", elem.name()),
                    )
                })?
            } else {
                convert::scalar_from_js(&a.name, &v)?
            };
            scalar::check_range(&a.name, value, a.min, a.max)?;
            slots.push(Slot::Scalar {
                bytes: scalar::encode(&a.name, elem, value)?,
                elem,
            });
        } else {
            if v.is_undefined() && a.kind == ArgKind::Output {
                omitted.push((slots.len(), i));
                slots.push(Slot::UserContext); // replaced below
                continue;
            }
            if v.is_undefined() {
                return Err(Error::bad_arg(
                    &a.name,
                    format!(
                        "missing {} buffer ({} {}-dimensional)",
                        a.kind.name(),
                        elem.name(),
                        a.dimensions
                    ),
                )
                .into());
            }
            let buf = convert::buffer_from_js(a, elem, &v)?;
            let in_guest = match &guest {
                Some(g) if js_sys::Object::is(&buf.buffer, &g.memory) => {
                    if !in_allocated(g.regions, buf.byte_offset, buf.shape.span_bytes()) {
                        return Err(Error::bad_arg(
                            &a.name,
                            "data views the pipeline's own memory but not a live buffer from allocBuffer",
                        )
                        .into());
                    }
                    Some(buf.byte_offset)
                }
                _ => None,
            };
            data.set(i as u32, buf.bytes.into());
            if a.kind == ArgKind::Input && first_input.is_none() {
                first_input = Some((a.name.as_str(), slots.len()));
            }
            slots.push(Slot::Buffer {
                shape: buf.shape,
                output: a.kind == ArgKind::Output,
                in_guest,
            });
        }
    }
    if omitted.is_empty() {
        return Ok((slots, data, None));
    }
    let allocated = js_sys::Object::new();
    for (slot, i) in omitted {
        let a = &meta.arguments[i];
        let elem = a.elem.expect("checked above");
        let like = first_input.and_then(|(n, s)| match &slots[s] {
            Slot::Buffer { shape, .. } => Some((n, shape)),
            _ => None,
        });
        let o = outputs::allocated_output(&a.name, a.dimensions as usize, elem.name(), like)?;
        let buffer = new_buffer(elem, &o).map_err(|e| Failure {
            error: Error::bad_arg(
                &a.name,
                format!(
                    "the omitted output could not be allocated: {}",
                    describe(&e)
                ),
            ),
            cause: Some(e),
            poisoned: false,
        })?;
        let buf = convert::buffer_from_js(a, elem, &buffer)?;
        data.set(i as u32, buf.bytes.into());
        slots[slot] = Slot::Buffer {
            shape: buf.shape,
            output: true,
            in_guest: None,
        };
        let _ = Reflect::set(&allocated, &names_js[i], &buffer);
    }
    Ok((slots, data, Some(allocated)))
}

/// A new zeroed buffer object `{ data, shape, strides, mins }` of `elem`
/// elements, shaped as `o` says.
fn new_buffer(elem: ElemKind, o: &outputs::OutputShape) -> Result<JsValue, JsValue> {
    let len: u64 = if o.shape.contains(&0) {
        0
    } else {
        1 + o
            .shape
            .iter()
            .zip(&o.strides)
            .map(|(&e, &s)| (e as u64 - 1) * s as u64)
            .sum::<u64>()
    };
    let name = elem.array_kinds()[0].constructor_name();
    let ctor: Function = Reflect::get(&js_sys::global(), &JsValue::from_str(name))?.dyn_into()?;
    let data = Reflect::construct(&ctor, &Array::of1(&JsValue::from_f64(len as f64)))?;
    let list = |v: &[i32]| v.iter().map(|&x| JsValue::from(x)).collect::<Array>();
    let b = js_sys::Object::new();
    Reflect::set(&b, &"data".into(), &data)?;
    Reflect::set(&b, &"shape".into(), &list(&o.shape))?;
    Reflect::set(&b, &"strides".into(), &list(&o.strides))?;
    Reflect::set(&b, &"mins".into(), &list(&o.mins))?;
    Ok(b.into())
}

/// What went wrong in a call, and whether the instance can still be trusted.
pub struct Failure {
    pub error: Error,
    pub cause: Option<JsValue>,
    /// The guest was interrupted mid-run: its state must be thrown away.
    pub poisoned: bool,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure {
            error,
            cause: None,
            poisoned: false,
        }
    }
}

/// One run's arguments, checked and laid out. The pipeline keeps the last
/// one: a run whose batched read-out is bit for bit the last run's reuses
/// it (and its staged bytes, when the guest block lands where it did).
pub struct Prepared {
    slots: Vec<Slot>,
    layout: RunLayout,
    /// The guest block the stage was built for.
    built_for: Option<u32>,
    /// The argv table, scalars and headers, as written to the guest.
    stage: Vec<u8>,
    /// `[argument, guest address, bytes]` of the copies in and out.
    ins: Vec<u32>,
    outs: Vec<u32>,
}

impl Prepared {
    /// Lays out `slots`; fails when they need more than `limit` bytes can
    /// hold.
    pub fn new(slots: Vec<Slot>, limit: u64) -> Result<Prepared> {
        let shapes: Vec<_> = slots
            .iter()
            .map(|s| match s {
                Slot::Buffer {
                    shape, in_guest, ..
                } => Some((
                    shape.dims.len(),
                    in_guest.is_none().then(|| shape.span_bytes()),
                )),
                _ => None,
            })
            .collect();
        let layout = RunLayout::new(&shapes).ok_or_else(|| Error::OutOfMemory {
            requested: shapes.iter().flatten().filter_map(|(_, b)| *b).sum::<u64>(),
            limit,
        })?;
        Ok(Prepared {
            slots,
            layout,
            built_for: None,
            stage: Vec::new(),
            ins: Vec::new(),
            outs: Vec::new(),
        })
    }

    /// Builds the stage for `block`; with `direct`, also the JIT flavour's
    /// arguments as JavaScript values.
    fn build(&mut self, block: u32, direct: Option<&Array>) {
        let layout = &self.layout;
        let stage = &mut self.stage;
        stage.clear();
        stage.resize(layout.stage_len as usize, 0);
        let (ins, outs) = (&mut self.ins, &mut self.outs);
        ins.clear();
        outs.clear();
        let push_direct = |v: &dyn Fn() -> JsValue| {
            if let Some(d) = direct {
                d.push(&v());
            }
        };
        let mut put = |at: u32, bytes: &[u8]| {
            stage[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
        };
        for (i, slot) in self.slots.iter().enumerate() {
            let ptr = match slot {
                Slot::UserContext => {
                    // The AOT runtime passes it on to its handlers; null is safe.
                    push_direct(&|| JsValue::from(-1));
                    block + layout.scalars + 8 * i as u32
                }
                Slot::Scalar { bytes, elem } => {
                    let at = layout.scalars + 8 * i as u32;
                    put(at, bytes);
                    push_direct(&|| wasm_value(*elem, *bytes));
                    block + at
                }
                Slot::Buffer {
                    shape: s,
                    output,
                    in_guest,
                } => {
                    let at = layout.headers[i].expect("a buffer has a header");
                    let host = match (in_guest, layout.data[i]) {
                        (Some(p), _) => *p,
                        (None, Some(d)) => block + d,
                        (None, None) => unreachable!("a copied buffer has a data region"),
                    };
                    let header = BufferHeader {
                        device: 0,
                        device_interface: 0,
                        host,
                        flags: 0,
                        ty: s.elem.halide_type(),
                        dimensions: s.dims.len() as i32,
                        dim: block + at + BUFFER_T_SIZE,
                    };
                    put(at, &header.encode());
                    for (j, d) in s.dims.iter().enumerate() {
                        put(
                            at + BUFFER_T_SIZE + DIMENSION_T_SIZE * j as u32,
                            &d.encode(),
                        );
                    }
                    if in_guest.is_none() {
                        let bytes = s.span_bytes() as u32;
                        // Inputs always go in; an output only when it has
                        // gaps that the copy back must not overwrite with
                        // guest bytes.
                        if !*output || !s.is_dense() {
                            ins.extend_from_slice(&[i as u32, host, bytes]);
                        }
                        if *output {
                            outs.extend_from_slice(&[i as u32, host, bytes]);
                        }
                    }
                    push_direct(&|| JsValue::from(block + at));
                    block + at
                }
            };
            put(4 * i as u32, &ptr.to_le_bytes());
        }
        self.built_for = direct.is_none().then_some(block);
    }
}

/// Lays out a prepared run in one guest block, calls the entry point,
/// copies the outputs back; ends the block's use (a small one is kept for
/// the next run) and lets go of the caller's arrays, whatever happens.
pub fn execute(
    guest: &Rc<Guest>,
    marshal: &Marshal,
    entry: &Function,
    style: CallStyle,
    run: &mut Prepared,
) -> Result<(), Failure> {
    let size = run.layout.total;
    let r = match guest.run_block(size) {
        Err(e) => Err(e.into()),
        Ok(block) => {
            let r = execute_in(guest, marshal, entry, style, run, block);
            guest.end_run_block(block, size);
            r
        }
    };
    if r.is_err() {
        marshal.release();
    }
    r
}

fn execute_in(
    guest: &Rc<Guest>,
    marshal: &Marshal,
    entry: &Function,
    style: CallStyle,
    run: &mut Prepared,
    block: u32,
) -> Result<(), Failure> {
    let mem = guest.mem();
    // The JIT flavour's arguments as JavaScript values (argv needs none).
    let direct = (style == CallStyle::Direct).then(js_sys::Array::new);
    if direct.is_some() || run.built_for != Some(block) {
        run.build(block, direct.as_ref());
    }
    guest.take_captured();
    let direct: JsValue = direct.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
    let result = guest::with_running(guest, || {
        mem.stage_and_call(
            marshal,
            entry,
            &direct,
            block,
            run.layout.total,
            &run.stage,
            &run.ins,
        )
    })
    .map_err(Error::from)?;
    let code = match result {
        // A worker thread failed while this one carried on to the end.
        Entered::Returned(_) if crate::js::threads::pool_failure(guest).is_some() => {
            return Err(classify(guest, JsValue::UNDEFINED))
        }
        Entered::Returned(v) => v as i32,
        Entered::Threw(e) => return Err(classify(guest, e)),
        Entered::InputUnreadable(thrown) => {
            return Err(detached(
                "an input's data could not be read",
                "after run() read it",
                thrown,
            ))
        }
    };
    if let Some((error, cause)) = guest.take_fault() {
        // A callback failed but the guest carried on: report it anyway.
        return Err(Failure {
            error,
            cause,
            poisoned: false,
        });
    }
    if code != 0 {
        let text = guest.take_captured();
        return Err(Error::Halide {
            code,
            message: clean(&text),
        }
        .into());
    }
    mem.copy_out_all(marshal, block, run.layout.total, &run.outs)
        .map_err(Error::from)?
        .map_err(|thrown| {
            detached(
                "an output's data could not be written back",
                "during the run",
                thrown,
            )
        })
}

/// A copy between a caller's array and the guest threw (its buffer was
/// detached or transferred `when`): the caller's mistake, not the guest's,
/// so the instance is kept.
fn detached(what: &str, when: &str, thrown: JsValue) -> Failure {
    Failure {
        error: Error::bad_input(format!(
            "{what} ({}); was its buffer detached or transferred {when}?",
            describe(&thrown)
        )),
        cause: Some(thrown),
        poisoned: false,
    }
}

/// A scalar as the wasm parameter of its type takes it from JavaScript:
/// 64-bit integers as bigint, floats as numbers, the rest as i32 numbers.
fn wasm_value(elem: ElemKind, b: [u8; 8]) -> JsValue {
    match elem {
        ElemKind::I64 | ElemKind::U64 => JsValue::from(i64::from_le_bytes(b)),
        ElemKind::F32 => JsValue::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        ElemKind::F64 => JsValue::from(f64::from_le_bytes(b)),
        ElemKind::Bool | ElemKind::U8 => JsValue::from(b[0]),
        ElemKind::I8 => JsValue::from(b[0] as i8),
        ElemKind::I16 => JsValue::from(i16::from_le_bytes([b[0], b[1]])),
        ElemKind::U16 | ElemKind::F16 | ElemKind::BF16 => {
            JsValue::from(u16::from_le_bytes([b[0], b[1]]))
        }
        ElemKind::I32 | ElemKind::U32 | ElemKind::Handle => {
            JsValue::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        }
    }
}

/// Halide's message without the runtime's `Error: ` prefix and trailing
/// newline.
fn clean(text: &str) -> String {
    // What the pipeline printed before its error is not part of it.
    let t = text
        .rfind("Error")
        .map(|i| &text[i..])
        .unwrap_or(text)
        .trim();
    t.strip_prefix("Error: ").unwrap_or(t).trim().to_string()
}

/// Turns what the guest call threw into a [`Failure`].
pub fn classify(guest: &Guest, thrown: JsValue) -> Failure {
    let text = guest.take_captured();
    let aborted = guest.take_aborted();
    let (error, cause) = if let Some(f) = guest.take_fault() {
        f
    } else if aborted {
        (Error::Abort(clean(&text)), None)
    } else if let Some(e) = crate::js::threads::pool_failure(guest) {
        // Another thread failed first, and this one was stopped.
        (e, None)
    } else if thrown.is_instance_of::<WebAssembly::RuntimeError>() {
        (Error::Trap(describe(&thrown)), Some(thrown))
    } else if thrown.is_instance_of::<js_sys::RangeError>() {
        // V8 reports a guest stack overflow as a RangeError.
        (Error::Trap(describe(&thrown)), Some(thrown))
    } else {
        (
            Error::Callback(format!("a host callback threw: {}", describe(&thrown))),
            Some(thrown),
        )
    };
    Failure {
        error,
        cause,
        poisoned: true,
    }
}
