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
        let span: u64 = if dims.iter().any(|d| d.extent == 0) {
            0
        } else {
            1 + dims
                .iter()
                .map(|d| (d.extent as u64 - 1) * d.stride as u64)
                .sum::<u64>()
        };
        if header.host % elem.size() != 0 {
            return Err(Error::Callback(format!(
                "extern buffer data at {:#x} is not aligned to its {}-byte elements",
                header.host,
                elem.size()
            )));
        }
        mem.check(header.host, span * elem.size() as u64)?;
        typed_view(elem, &mem.buffer(), header.host, span as u32)
    };
    set("data", &data);
    Ok(Handed {
        ptr,
        header,
        object,
    })
}

fn read_dims(guest: &Guest, h: &BufferHeader) -> Result<Vec<Dim>, GuestError> {
    let n = h.dimensions.clamp(0, 64) as u32;
    (0..n)
        .map(|i| {
            Ok(Dim::decode(
                &guest.mem().read_array::<16>(h.dim + i * DIMENSION_T_SIZE)?,
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
            .write(h.header.dim + i as u32 * DIMENSION_T_SIZE, &d.encode())?;
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
    Ok(if r.is_undefined() {
        0
    } else {
        r.as_f64().unwrap_or(-1.0) as i32
    })
}
