//! JavaScript values to and from the core's types: scalars, buffer objects
//! and argument descriptors.

use crate::core::error::{Error, Result};
use crate::core::layout::BufferShape;
use crate::core::metadata::Argument;
use crate::core::scalar::Scalar;
use crate::core::types::{ArrayKind, ElemKind};
use crate::js::call::Failure;
use crate::js::sys;
use js_sys::{Array, ArrayBuffer, BigInt, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

/// `obj[key]`, `undefined` when reading it throws. For look-ups at load
/// time and in callbacks; a run's hot path uses [`get_fixed`] and the
/// pipeline's prepared argument names.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

thread_local! {
    static KEYS: std::cell::RefCell<Vec<(usize, JsValue)>> = const { std::cell::RefCell::new(Vec::new()) };
    static TO_STRING_TAG: JsValue = js_sys::Symbol::to_string_tag().into();
}

/// `obj[key]` for the few fixed property names read on every run, each
/// made into a JavaScript string once (found by the name's address: no
/// hashing).
pub fn get_fixed(obj: &JsValue, key: &'static str) -> JsValue {
    try_get_fixed(obj, key).unwrap_or(JsValue::UNDEFINED)
}

/// [`get_fixed`], with what reading it threw.
pub fn try_get_fixed(obj: &JsValue, key: &'static str) -> std::result::Result<JsValue, JsValue> {
    let k = KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        let at = key.as_ptr() as usize;
        if let Some((_, v)) = keys.iter().find(|(p, _)| *p == at) {
            return v.clone();
        }
        let v = JsValue::from_str(key);
        keys.push((at, v.clone()));
        v
    });
    Reflect::get(obj, &k)
}

fn set(obj: &Object, key: &str, v: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), v);
}

/// A JS value as a scalar argument: boolean, number or bigint.
pub fn scalar_from_js(arg: &str, v: &JsValue) -> Result<Scalar> {
    if let Some(b) = v.as_bool() {
        return Ok(Scalar::Bool(b));
    }
    if let Some(n) = v.as_f64() {
        return Ok(Scalar::Number(n));
    }
    if v.is_bigint() {
        let b: &BigInt = v.unchecked_ref();
        let s = b.to_string(10).map(String::from).unwrap_or_default();
        return s
            .parse::<i128>()
            .ok()
            .filter(|i| *i >= i64::MIN as i128 && *i <= u64::MAX as i128)
            .map(Scalar::BigInt)
            .ok_or_else(|| Error::bad_arg(arg, format!("bigint {s} does not fit in 64 bits")));
    }
    Err(Error::bad_arg(
        arg,
        format!("expected a number, bigint or boolean, got {}", type_name(v)),
    ))
}

pub fn scalar_to_js(s: Scalar) -> JsValue {
    match s {
        Scalar::Bool(b) => JsValue::from_bool(b),
        Scalar::Number(n) => JsValue::from_f64(n),
        Scalar::BigInt(i) if i < 0 => JsValue::from(i as i64),
        Scalar::BigInt(i) => JsValue::from(i as u64),
    }
}

/// A short description of a thrown JavaScript value.
pub fn describe(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// What a value is, for error messages.
pub fn type_name(v: &JsValue) -> String {
    if v.is_undefined() {
        return "undefined".into();
    }
    if v.is_null() {
        return "null".into();
    }
    if let Some(tag) = typed_array_name(v) {
        return tag;
    }
    if Array::is_array(v) {
        return "an array".into();
    }
    v.js_typeof()
        .as_string()
        .unwrap_or_else(|| "a value".into())
}

/// The constructor name of a typed array (`Uint8Array`, ...), else `None`.
pub fn typed_array_name(v: &JsValue) -> Option<String> {
    if !ArrayBuffer::is_view(v) {
        return None;
    }
    TO_STRING_TAG
        .with(|tag| Reflect::get(v, tag))
        .ok()
        .and_then(|t| t.as_string())
}

/// A `bad-argument` error for `arg`: reading `what` threw `e` (its `cause`).
pub fn threw(arg: &str, what: &str, e: JsValue) -> Failure {
    Failure {
        error: Error::bad_arg(arg, format!("reading {what} threw: {}", describe(&e))),
        cause: Some(e),
        poisoned: false,
    }
}

/// `obj[key]` for argument `arg`'s buffer object; a throw is `threw`.
fn field(arg: &str, obj: &JsValue, key: &'static str) -> Result<JsValue, Failure> {
    try_get_fixed(obj, key).map_err(|e| threw(arg, key, e))
}

/// Reads an array of numbers (`shape`, `strides`, `mins`).
pub fn numbers(arg: &str, what: &str, v: &JsValue) -> Result<Option<Vec<f64>>, Failure> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    if !Array::is_array(v) && !ArrayBuffer::is_view(v) {
        return Err(Error::bad_arg(
            arg,
            format!("{what} must be an array of numbers, got {}", type_name(v)),
        )
        .into());
    }
    let len = field(arg, v, "length")?.as_f64().unwrap_or(0.0);
    if !(0.0..=64.0).contains(&len) {
        return Err(Error::bad_arg(arg, format!("{what} has {len} entries")).into());
    }
    let len = len as u32;
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let x = Reflect::get_u32(v, i).map_err(|e| threw(arg, &format!("{what}[{i}]"), e))?;
        out.push(x.as_f64().ok_or_else(|| {
            Error::bad_arg(
                arg,
                format!("{what}[{i}] must be a number, got {}", type_name(&x)),
            )
        })?);
    }
    Ok(Some(out))
}

/// A caller's buffer, checked against the argument: its shape, and a byte
/// view of exactly the span of its data that the buffer reaches.
pub struct JsBuffer {
    pub shape: BufferShape,
    pub bytes: Uint8Array,
    /// The `ArrayBuffer` behind `data`, and where `data` starts in it.
    pub buffer: JsValue,
    pub byte_offset: u32,
}

pub fn buffer_from_js(a: &Argument, elem: ElemKind, v: &JsValue) -> Result<JsBuffer, Failure> {
    let arg = a.name.as_str();
    if !v.is_object() || ArrayBuffer::is_view(v) {
        return Err(Error::bad_arg(
            arg,
            format!(
                "expected a buffer object {{ data, shape, strides?, mins? }}, got {}",
                type_name(v)
            ),
        )
        .into());
    }
    let data = field(arg, v, "data")?;
    let accepted = elem.array_kinds();
    let names = || {
        accepted
            .iter()
            .map(|k| k.constructor_name())
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let kind = typed_array_name(&data).and_then(|n| ArrayKind::from_constructor_name(&n));
    if !kind.is_some_and(|k| accepted.contains(&k)) {
        return Err(Error::bad_arg(
            arg,
            format!(
                "data must be a {} for a {} buffer, got {}",
                names(),
                elem.name(),
                type_name(&data)
            ),
        )
        .into());
    }
    let shape = numbers(arg, "shape", &field(arg, v, "shape")?)?
        .ok_or_else(|| Error::bad_arg(arg, "the buffer object has no shape"))?;
    let strides = numbers(arg, "strides", &field(arg, v, "strides")?)?;
    let mins = numbers(arg, "mins", &field(arg, v, "mins")?)?;
    // The typed array's own facts, not properties a caller could shadow.
    let view: &js_sys::Uint8Array = data.unchecked_ref();
    let len = get_fixed(&data, "length").as_f64().unwrap_or(0.0) as u64;
    let shape = BufferShape::from_parts(
        arg,
        elem,
        a.dimensions as usize,
        &shape,
        strides.as_deref(),
        mins.as_deref(),
        len,
    )?;
    let offset = view.byte_offset();
    let buffer: JsValue = view.buffer().into();
    // An empty buffer reads nothing: no view is made (its ArrayBuffer may
    // even be detached, which a view constructor would throw on).
    let bytes = match shape.span_bytes() {
        0 => Uint8Array::new_with_length(0),
        n => sys::FallibleUint8Array::new(&buffer, offset, n as u32)
            .map_err(|e| threw(arg, "data (its ArrayBuffer is detached?)", e))?
            .unchecked_into(),
    };
    Ok(JsBuffer {
        shape,
        bytes,
        buffer,
        byte_offset: offset,
    })
}

/// `p.arguments[i]`: `{ name, kind, type, dimensions, default?, min?, max? }`.
pub fn argument_to_js(a: &Argument) -> JsValue {
    let o = Object::new();
    set(&o, "name", &JsValue::from_str(&a.name));
    set(&o, "kind", &JsValue::from_str(a.kind.name()));
    let ty = a
        .elem
        .map(|e| e.name().to_string())
        .unwrap_or_else(|| a.ty.to_string());
    set(&o, "type", &JsValue::from_str(&ty));
    set(&o, "dimensions", &JsValue::from(a.dimensions));
    for (key, v) in [("default", a.default), ("min", a.min), ("max", a.max)] {
        if let Some(v) = v {
            set(&o, key, &scalar_to_js(v));
        }
    }
    o.into()
}

/// A typed array of `elem`'s kind over `len` elements of `buffer` at
/// `byte_offset` (which the caller has checked and aligned).
pub fn typed_view(elem: ElemKind, buffer: &JsValue, byte_offset: u32, len: u32) -> JsValue {
    use js_sys::*;
    match elem.array_kinds()[0] {
        ArrayKind::Int8 => {
            Int8Array::new_with_byte_offset_and_length(buffer, byte_offset, len).into()
        }
        ArrayKind::Uint8 | ArrayKind::Uint8Clamped => {
            Uint8Array::new_with_byte_offset_and_length(buffer, byte_offset, len).into()
        }
        ArrayKind::Int16 => {
            Int16Array::new_with_byte_offset_and_length(buffer, byte_offset, len).into()
        }
        ArrayKind::Uint16 | ArrayKind::Float16 => {
            Uint16Array::new_with_byte_offset_and_length(buffer, byte_offset, len).into()
        }
        ArrayKind::Int32 => {
            Int32Array::new_with_byte_offset_and_length(buffer, byte_offset, len).into()
        }
        ArrayKind::Uint32 => {
            Uint32Array::new_with_byte_offset_and_length(buffer, byte_offset, len).into()
        }
        ArrayKind::Float32 => {
            Float32Array::new_with_byte_offset_and_length(buffer, byte_offset, len).into()
        }
        ArrayKind::Float64 => {
            Float64Array::new_with_byte_offset_and_length(buffer, byte_offset, len).into()
        }
        ArrayKind::BigInt64 => {
            BigInt64Array::new_with_byte_offset_and_length(buffer, byte_offset, len).into()
        }
        ArrayKind::BigUint64 => {
            BigUint64Array::new_with_byte_offset_and_length(buffer, byte_offset, len).into()
        }
    }
}
