//! One run: check the caller's arguments, lay them out in the guest, call
//! `NAME_argv`, copy the outputs back, free what the run allocated.
//!
//! Everything the caller passed is checked before the guest is touched
//! ([`plan`]), so a wrong argument costs nothing and changes nothing. The
//! outputs are copied back only when the pipeline succeeded.

use crate::core::error::{Error, Result};
use crate::core::layout::{BlockLayout, BufferHeader, BUFFER_T_SIZE};
use crate::core::memory::GuestMemory;
use crate::core::metadata::{ArgKind, Metadata};
use crate::core::scalar;
use crate::core::types::ElemKind;
use crate::js::convert::{self, describe, JsBuffer};
use crate::js::guest::Guest;
use js_sys::{Function, Object, Reflect, WebAssembly};
use wasm_bindgen::{JsCast, JsValue};

/// One argument, checked and ready to be laid out.
pub enum Slot {
    Scalar {
        bytes: [u8; 8],
        elem: ElemKind,
    },
    Buffer {
        buf: JsBuffer,
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

/// Checks `args` (an object keyed by argument name) against the metadata.
pub fn plan(
    meta: &Metadata,
    names_js: &[JsValue],
    args: &JsValue,
    guest: Option<GuestBuffers>,
) -> Result<Vec<Slot>> {
    if !args.is_object() || args.is_null() {
        return Err(Error::bad_input(format!(
            "run() takes an object of arguments by name, got {}",
            convert::type_name(args)
        )));
    }
    let names = || {
        meta.arguments
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Every key must name an argument. Count the known ones present; only
    // when the counts differ is the unknown key looked for, to name it.
    let keys = Object::keys(args.unchecked_ref::<Object>());
    let present = names_js
        .iter()
        .zip(&meta.arguments)
        .filter(|(k, a)| a.name != USER_CONTEXT && Reflect::has(args, k).unwrap_or(false))
        .count();
    if keys.length() as usize != present {
        for k in keys.iter() {
            let k = k.as_string().unwrap_or_default();
            if k == USER_CONTEXT || !meta.arguments.iter().any(|a| a.name == k) {
                return Err(Error::bad_input(format!(
                    "unknown argument '{k}'; {} takes: {}",
                    meta.name,
                    names()
                )));
            }
        }
    }
    let mut slots = Vec::with_capacity(meta.arguments.len());
    for (a, key) in meta.arguments.iter().zip(names_js) {
        if a.name == USER_CONTEXT {
            slots.push(Slot::UserContext);
            continue;
        }
        let v = Reflect::get(args, key).unwrap_or(JsValue::UNDEFINED);
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
            if v.is_undefined() {
                return Err(Error::bad_arg(
                    &a.name,
                    format!(
                        "missing {} buffer ({} {}-dimensional)",
                        a.kind.name(),
                        elem.name(),
                        a.dimensions
                    ),
                ));
            }
            let buf = convert::buffer_from_js(a, elem, &v)?;
            let in_guest = match &guest {
                Some(g) if js_sys::Object::is(&buf.buffer, &g.memory) => {
                    let (start, end) = (
                        buf.byte_offset as u64,
                        buf.byte_offset as u64 + buf.shape.span_bytes(),
                    );
                    if !g
                        .regions
                        .iter()
                        .any(|(h, n)| start >= *h as u64 && end <= *h as u64 + *n as u64)
                    {
                        return Err(Error::bad_arg(
                            &a.name,
                            "data views the pipeline's own memory but not a live buffer from allocBuffer",
                        ));
                    }
                    Some(buf.byte_offset)
                }
                _ => None,
            };
            slots.push(Slot::Buffer {
                buf,
                output: a.kind == ArgKind::Output,
                in_guest,
            });
        }
    }
    Ok(slots)
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

/// Lays out `slots`, calls `argv_fn`, copies outputs back; frees every block
/// it allocated, whatever happens.
pub fn execute(
    guest: &Guest,
    entry: &Function,
    style: CallStyle,
    slots: &[Slot],
) -> Result<(), Failure> {
    let mut blocks = Vec::with_capacity(slots.len() + 1);
    let r = execute_in(guest, entry, style, slots, &mut blocks);
    for b in blocks {
        let _ = guest.free(b);
    }
    r
}

fn execute_in(
    guest: &Guest,
    entry: &Function,
    style: CallStyle,
    slots: &[Slot],
    blocks: &mut Vec<u32>,
) -> Result<(), Failure> {
    let n = slots.len() as u32;
    let argv = guest.alloc(12 * n as u64 + 8)?;
    blocks.push(argv);
    let values = argv + 4 * n;
    let mem = guest.mem();
    let mut table = Vec::with_capacity(12 * n as usize);
    let mut scalar_bytes = vec![0u8; 8 * n as usize];
    // The JIT flavour's arguments as JavaScript values (argv needs none).
    let direct = (style == CallStyle::Direct).then(js_sys::Array::new);
    let push_direct = |v: JsValue| {
        if let Some(d) = &direct {
            d.push(&v);
        }
    };
    let mut buffers = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        let ptr = match slot {
            Slot::UserContext => {
                // The AOT runtime passes it on to its handlers; null is safe.
                let at = values + 8 * i as u32;
                push_direct(JsValue::from(-1));
                at
            }
            Slot::Scalar { bytes, elem } => {
                let at = values + 8 * i as u32;
                scalar_bytes[8 * i..8 * i + 8].copy_from_slice(bytes);
                push_direct(wasm_value(*elem, *bytes));
                at
            }
            Slot::Buffer {
                buf,
                output,
                in_guest,
            } => {
                let s = &buf.shape;
                let data_bytes = if in_guest.is_some() {
                    0
                } else {
                    s.span_bytes()
                };
                let layout = BlockLayout::new(s.dims.len(), data_bytes).ok_or_else(|| {
                    Error::OutOfMemory {
                        requested: s.span_bytes(),
                        limit: mem.max_bytes(),
                    }
                })?;
                let block = guest.alloc(layout.total as u64)?;
                blocks.push(block);
                let header = BufferHeader {
                    device: 0,
                    device_interface: 0,
                    host: in_guest.unwrap_or(block + layout.data_offset),
                    flags: 0,
                    ty: s.elem.halide_type(),
                    dimensions: s.dims.len() as i32,
                    dim: block + layout.dims_offset,
                };
                let mut bytes = Vec::with_capacity(layout.data_offset as usize);
                bytes.extend_from_slice(&header.encode());
                for d in &s.dims {
                    bytes.extend_from_slice(&d.encode());
                }
                debug_assert_eq!(layout.dims_offset, BUFFER_T_SIZE);
                mem.write(block, &bytes).map_err(Error::from)?;
                // Inputs always go in; an output only when it has gaps that
                // the copy back must not overwrite with guest bytes.
                if in_guest.is_none() && (!*output || !s.is_dense()) {
                    mem.copy_in(header.host, &buf.bytes).map_err(Error::from)?;
                }
                if *output && in_guest.is_none() {
                    buffers.push((header.host, &buf.bytes));
                }
                push_direct(JsValue::from(block));
                block
            }
        };
        table.extend_from_slice(&ptr.to_le_bytes());
    }
    // The pointer table and the scalars it points at, in one copy.
    table.extend_from_slice(&scalar_bytes);
    mem.write(argv, &table).map_err(Error::from)?;

    guest.take_captured();
    let result = match style {
        CallStyle::Argv => entry.call1(&JsValue::UNDEFINED, &JsValue::from(argv)),
        CallStyle::Direct => entry.apply(&JsValue::UNDEFINED, &direct.unwrap_or_default()),
    };
    let code = match result {
        Ok(v) => v.as_f64().unwrap_or(0.0) as i32,
        Err(e) => return Err(classify(guest, e)),
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
    for (host, dst) in buffers {
        mem.copy_out(host, dst).map_err(Error::from)?;
    }
    Ok(())
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
fn classify(guest: &Guest, thrown: JsValue) -> Failure {
    let text = guest.take_captured();
    let (error, cause) = if let Some(f) = guest.take_fault() {
        f
    } else if guest.take_aborted() {
        (Error::Abort(clean(&text)), None)
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
