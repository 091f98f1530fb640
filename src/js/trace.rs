//! Halide trace events to `options.trace`.
//!
//! Both flavours end here: the JIT flavour's `halide_trace_helper` import
//! (twelve arguments, decoded as Halide's C++ executor decodes them), and
//! the ahead-of-time runtime's trace file, which the executor receives
//! through `getenv("HL_TRACE_FILE")`, `fopen`, `fileno` and `write` and
//! parses as `halide_trace_packet_t`s. Without a `trace` option the events
//! are dropped.

use crate::core::error::{Error, GuestError};
use crate::core::libc;
use crate::core::memory::GuestMemory;
use crate::core::scalar;
use crate::core::trace::{self, TraceEvent};
use crate::core::types::HalideType;
use crate::js::convert::{describe, scalar_to_js};
use crate::js::guest::Guest;

use js_sys::{Array, Int32Array, Object, Reflect};
use wasm_bindgen::JsValue;

fn value_to_js(ty: HalideType, bytes: &[u8]) -> JsValue {
    let Some(kind) = HalideType { lanes: 1, ..ty }.kind() else {
        return JsValue::UNDEFINED;
    };
    let size = (ty.bits as usize).div_ceil(8).max(1);
    let lane = |i: usize| {
        let mut b = [0u8; 8];
        let src = &bytes[i * size..(i + 1) * size];
        b[..src.len()].copy_from_slice(src);
        scalar_to_js(scalar::decode(kind, b))
    };
    match ty.lanes {
        0 => JsValue::UNDEFINED,
        1 if bytes.len() >= size => lane(0),
        n if bytes.len() >= n as usize * size => {
            (0..n as usize).map(lane).collect::<Array>().into()
        }
        _ => JsValue::UNDEFINED,
    }
}

/// `{ event, func, id, parentId, valueIndex, type, coordinates, value, traceTag }`.
pub fn event_to_js(e: &TraceEvent) -> JsValue {
    let o = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    };
    set("event", &JsValue::from_str(trace::event_name(e.event)));
    set("func", &JsValue::from_str(&e.func));
    set("id", &JsValue::from(e.id));
    set("parentId", &JsValue::from(e.parent_id));
    set("valueIndex", &JsValue::from(e.value_index));
    let ty = match (HalideType { lanes: 1, ..e.ty }).kind() {
        Some(k) if e.ty.lanes > 1 => format!("{}x{}", k.name(), e.ty.lanes),
        Some(k) => k.name().to_string(),
        None => e.ty.to_string(),
    };
    set("type", &JsValue::from_str(&ty));
    set("coordinates", &Int32Array::from(&e.coordinates[..]).into());
    set("value", &value_to_js(e.ty, &e.value));
    set("traceTag", &JsValue::from_str(&e.trace_tag));
    o.into()
}

/// Hands one event to `options.trace`; returns the id it gave (0 without a
/// trace option or for a non-number).
pub fn emit(guest: &Guest, e: &TraceEvent) -> Result<i32, (Error, JsValue)> {
    let Some(f) = &guest.hooks.trace else {
        return Ok(0);
    };
    match f.call1(&JsValue::UNDEFINED, &event_to_js(e)) {
        Ok(v) => Ok(v.as_f64().map(|n| n as i32).unwrap_or(0)),
        Err(thrown) => Err((
            Error::Callback(format!("options.trace threw: {}", describe(&thrown))),
            thrown,
        )),
    }
}

/// The runtime wrote `[p, p + n)` to its trace file: parse whole packets,
/// keep a partial one for the next write, emit the events. The bytes are
/// read in pieces, and a packet that claims more than
/// [`trace::MAX_PACKET`] bytes is refused: what the host keeps is bounded
/// whatever the guest writes.
pub fn write_trace_file(guest: &Guest, p: u32, n: u32) -> Result<(), (Error, Option<JsValue>)> {
    libc::for_each_piece(guest.mem(), p, n, libc::TEXT_CHUNK, |piece| {
        // Taken out and put back, never borrowed across a call.
        let mut pending = guest.trace_pending.take();
        pending.extend_from_slice(piece);
        let events = match trace::parse_packets(&pending) {
            Ok((events, used)) => {
                pending.drain(..used);
                guest.trace_pending.set(pending);
                events
            }
            Err(m) => return Err(Fault::from(GuestError::BadTracePacket(m))),
        };
        for e in &events {
            emit(guest, e).map_err(|(e, c)| Fault(e, Some(c)))?;
        }
        Ok(())
    })
    .map_err(|Fault(e, c)| (e, c))
}

/// An error while streaming trace bytes (a guest fault, or a throwing
/// `options.trace`).
struct Fault(Error, Option<JsValue>);

impl From<GuestError> for Fault {
    fn from(e: GuestError) -> Fault {
        Fault(e.into(), None)
    }
}

/// The JIT flavour's `halide_trace_helper(user_context, func, value,
/// coordinates, type_code, type_bits, type_lanes, event, parent_id,
/// value_index, dimensions, trace_tag)`.
pub fn helper_event(guest: &Guest, args: &Array) -> Result<TraceEvent, GuestError> {
    let int = |i: u32| args.get(i).as_f64().unwrap_or(0.0) as i64;
    let ptr = |i: u32| int(i) as u32;
    let mem = guest.mem();
    let code = crate::core::types::TypeCode::from_u8(int(4) as u8)
        .unwrap_or(crate::core::types::TypeCode::Int);
    let ty = HalideType {
        code,
        bits: int(5) as u8,
        lanes: int(6) as u16,
    };
    let dims = int(10).clamp(0, 1024) as usize;
    let mut coords = vec![0u8; 4 * dims];
    mem.read(ptr(3), &mut coords)?;
    let value_len = ty.lanes as usize * (ty.bits as usize).div_ceil(8);
    if value_len > trace::MAX_PACKET {
        return Err(GuestError::BadTracePacket(format!(
            "a traced value of {value_len} bytes"
        )));
    }
    let mut value = vec![0u8; value_len];
    mem.read(ptr(2), &mut value)?;
    let tag = match ptr(11) {
        0 => String::new(),
        p => mem.read_cstr(p)?,
    };
    Ok(TraceEvent {
        id: 0,
        event: int(7) as i32,
        func: mem.read_cstr(ptr(1))?,
        parent_id: int(8) as i32,
        value_index: int(9) as i32,
        ty,
        coordinates: coords
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        value,
        trace_tag: tag,
    })
}
