//! Extern stages (`Func.define_extern`) implemented in JavaScript.
//!
//! The pipeline imports `env.NAME` and calls it with `halide_buffer_t*`s and
//! scalars. The executor hands the callback one JavaScript value per
//! argument: a buffer object `{ data, shape, strides, mins, type }` whose
//! `data` views the guest memory directly (valid during the call only), or
//! whose `data` is `null` in a bounds query; there the callback writes the
//! region it needs into `mins` and `shape`, and the executor copies them
//! back into the guest's `halide_dimension_t`s.

use crate::core::error::{Error, GuestError};
use crate::core::layout::{BufferHeader, Dim, BUFFER_T_SIZE, DIMENSION_T_SIZE};
use crate::core::memory::GuestMemory;
use crate::core::scalar::{self, Scalar};
use crate::core::types::ElemKind;
use crate::js::convert::{describe, get_fixed, scalar_to_js, typed_view};
use crate::js::guest::Guest;

use crate::js::options::{Extern, ExternArg};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

/// A buffer handed to a callback, to be written back after a bounds query.
struct Handed {
    ptr: u32,
    header: BufferHeader,
    object: Object,
}

fn int_array(v: impl Iterator<Item = i32>) -> Array {
    v.map(JsValue::from).collect()
}

/// The buffer object for the `halide_buffer_t` at `ptr`.
fn buffer_object(guest: &Guest, ptr: u32) -> Result<Handed, Error> {
    let mem = guest.mem();
    let header = BufferHeader::decode(&mem.read_array::<40>(ptr)?).ok_or_else(|| {
        Error::Callback(format!(
            "extern argument at {ptr:#x} is not a halide_buffer_t"
        ))
    })?;
    let elem = header.ty.kind().ok_or_else(|| {
        Error::Callback(format!(
            "buffers of vector type {} cannot cross the extern boundary",
            header.ty
        ))
    })?;
    let dims = read_dims(guest, &header)?;
    let object = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&object, &JsValue::from_str(k), v);
    };
    set("type", &JsValue::from_str(elem.name()));
    set("shape", &int_array(dims.iter().map(|d| d.extent)).into());
    set("strides", &int_array(dims.iter().map(|d| d.stride)).into());
    set("mins", &int_array(dims.iter().map(|d| d.min)).into());
    let data = if header.host == 0 {
        JsValue::NULL
    } else {
        if dims.iter().any(|d| d.stride < 0 || d.extent < 0) {
            return Err(Error::Callback(
                "extern buffers with negative strides are not supported".into(),
            ));
        }
        // Checked: a guest's extents and strides can overflow even u64.
        let span: Option<u64> = if dims.iter().any(|d| d.extent == 0) {
            Some(0)
        } else {
            dims.iter().try_fold(1u64, |acc, d| {
                (d.extent as u64 - 1)
                    .checked_mul(d.stride as u64)
                    .and_then(|x| acc.checked_add(x))
            })
        };
        let bytes = span.and_then(|s| s.checked_mul(elem.size() as u64));
        let (Some(span), Some(bytes)) = (span, bytes) else {
            return Err(GuestError::OutOfBounds {
                ptr: header.host as u64,
                len: u64::MAX,
                size: mem.size(),
            }
            .into());
        };
        if header.host % elem.size() != 0 {
            return Err(Error::Callback(format!(
                "extern buffer data at {:#x} is not aligned to its {}-byte elements",
                header.host,
                elem.size()
            )));
        }
        mem.check(header.host, bytes)?;
        typed_view(elem, &mem.buffer(), header.host, span as u32)
    };
    set("data", &data);
    Ok(Handed {
        ptr,
        header,
        object,
    })
}

/// The address of dimension `i` of `h`, checked (the guest chose `h.dim`).
fn dim_address(guest: &Guest, h: &BufferHeader, i: u32) -> Result<u32, GuestError> {
    let at = h.dim as u64 + i as u64 * DIMENSION_T_SIZE as u64;
    u32::try_from(at).map_err(|_| GuestError::OutOfBounds {
        ptr: at,
        len: DIMENSION_T_SIZE as u64,
        size: guest.mem().size(),
    })
}

fn read_dims(guest: &Guest, h: &BufferHeader) -> Result<Vec<Dim>, GuestError> {
    let n = h.dimensions.clamp(0, 64) as u32;
    (0..n)
        .map(|i| {
            Ok(Dim::decode(
                &guest.mem().read_array::<16>(dim_address(guest, h, i)?)?,
            ))
        })
        .collect()
}

/// After a bounds query: the region the callback asked for, into the guest.
fn write_back(guest: &Guest, name: &str, h: &Handed) -> Result<(), Error> {
    let mut dims = read_dims(guest, &h.header)?;
    for (key, is_min) in [("mins", true), ("shape", false)] {
        let arr = get_fixed(&h.object, key);
        for (i, d) in dims.iter_mut().enumerate() {
            let v = Reflect::get_u32(&arr, i as u32)
                .ok()
                .and_then(|v| v.as_f64());
            let v = match v {
                Some(v) if v.fract() == 0.0 && v >= i32::MIN as f64 && v <= i32::MAX as f64 => {
                    v as i32
                }
                _ => {
                    return Err(Error::Callback(format!(
                        "extern '{name}' left {key}[{i}] of a bounds query that is not an integer"
                    )))
                }
            };
            if is_min {
                d.min = v;
            } else {
                d.extent = v;
            }
        }
    }
    for (i, d) in dims.iter().enumerate() {
        guest
            .mem()
            .write(dim_address(guest, &h.header, i as u32)?, &d.encode())?;
    }
    debug_assert!(h.ptr != 0 && BUFFER_T_SIZE == 40);
    Ok(())
}

fn scalar_arg(kind: ElemKind, raw: &JsValue) -> JsValue {
    let bits: i128 = if raw.is_bigint() {
        i64::try_from(raw.clone()).map(|v| v as i128).unwrap_or(0)
    } else {
        raw.as_f64().unwrap_or(0.0) as i64 as i128
    };
    match kind {
        ElemKind::F32 | ElemKind::F64 => raw.clone(),
        _ => {
            let b = (bits as u64).to_le_bytes();
            match scalar::decode(kind, b) {
                Scalar::BigInt(i) if kind == ElemKind::Handle => JsValue::from(i as u64),
                s => scalar_to_js(s),
            }
        }
    }
}

/// Calls extern `e` with the raw arguments the guest passed.
pub fn call(guest: &Guest, e: &Extern, raw: &Array) -> Result<i32, (Error, Option<JsValue>)> {
    let n = raw.length() as usize;
    if let Some(decl) = &e.args {
        if decl.len() != n {
            return Err((
                Error::Callback(format!(
                    "extern '{}' was declared with {} arguments but the pipeline passes {n}",
                    e.name,
                    decl.len()
                )),
                None,
            ));
        }
    }
    let args = Array::new();
    let mut handed = Vec::new();
    for i in 0..n {
        let v = raw.get(i as u32);
        let kind = match &e.args {
            Some(d) => d[i],
            None if v.is_bigint() => ExternArg::Scalar(ElemKind::I64),
            None => ExternArg::Buffer,
        };
        match kind {
            ExternArg::Buffer => {
                let ptr = v.as_f64().unwrap_or(0.0) as i64 as u32;
                let h = buffer_object(guest, ptr).map_err(|e| (e, None))?;
                args.push(&h.object);
                handed.push(h);
            }
            ExternArg::Scalar(k) => {
                args.push(&scalar_arg(k, &v));
            }
        }
    }
    let r = e
        .function
        .apply(&JsValue::UNDEFINED, &args)
        .map_err(|thrown| {
            (
                Error::Callback(format!("extern '{}' threw: {}", e.name, describe(&thrown))),
                Some(thrown),
            )
        })?;
    for h in handed.iter().filter(|h| h.header.host == 0) {
        write_back(guest, &e.name, h).map_err(|e| (e, None))?;
    }
    extern_result(&e.name, &r).map_err(|e| (e, None))
}

/// What an extern's return value means: `undefined` and 0 are success, a
/// non-zero integer is the pipeline's error code, anything else (`NaN`,
/// `0.5`, a string) is the callback's mistake, not a silent success.
fn extern_result(name: &str, r: &JsValue) -> Result<i32, Error> {
    if r.is_undefined() {
        return Ok(0);
    }
    match r.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= i32::MIN as f64 && n <= i32::MAX as f64 => Ok(n as i32),
        _ => Err(Error::Callback(format!(
            "extern '{name}' returned {}; an extern returns 0 (or undefined) for success or a non-zero integer error code",
            describe_value(r)
        ))),
    }
}

/// A returned value, for error messages.
fn describe_value(v: &JsValue) -> String {
    match v.as_f64() {
        Some(n) => format!("{n}"),
        None => v
            .as_string()
            .map(|s| format!("the string {s:?}"))
            .unwrap_or_else(|| crate::js::convert::type_name(v)),
    }
}
