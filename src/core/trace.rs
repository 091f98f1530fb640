//! Halide's trace events (`trace_stores`, `trace_loads`, `trace_realizations`,
//! `trace_calls`), decoded from either of the two ways a wasm pipeline
//! reports them:
//! - the JIT flavour calls the host's `halide_trace_helper` with the event's
//!   fields as twelve arguments ([`TraceEvent`] is built from those), and
//! - the ahead-of-time runtime writes binary `halide_trace_packet_t`s to the
//!   file named by `HL_TRACE_FILE` ([`parse_packets`] reads them):
//!
//! ```text
//! halide_trace_packet_t (28-byte header, then payload; size is a multiple of 4)
//!   0 u32 size   4 i32 id   8 halide_type_t   12 i32 event
//!  16 i32 parent_id   20 i32 value_index   24 i32 dimensions
//!  28 i32 coordinates[dimensions], value (lanes * bytes), func\0, trace_tag\0
//! ```

use crate::core::types::HalideType;

/// `halide_trace_event_code_t`, as the names JavaScript sees.
pub const EVENT_NAMES: [&str; 11] = [
    "load",
    "store",
    "begin_realization",
    "end_realization",
    "produce",
    "end_produce",
    "consume",
    "end_consume",
    "begin_pipeline",
    "end_pipeline",
    "tag",
];

pub fn event_name(code: i32) -> &'static str {
    usize::try_from(code)
        .ok()
        .and_then(|c| EVENT_NAMES.get(c))
        .copied()
        .unwrap_or("unknown")
}

/// One decoded trace event.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEvent {
    pub id: i32,
    pub event: i32,
    pub func: String,
    pub parent_id: i32,
    pub value_index: i32,
    pub ty: HalideType,
    pub coordinates: Vec<i32>,
    /// The value's bytes (lanes * element bytes), little-endian.
    pub value: Vec<u8>,
    pub trace_tag: String,
}

const HEADER: usize = 28;

fn cstr(b: &[u8]) -> Option<(String, usize)> {
    let n = b.iter().position(|&c| c == 0)?;
    Some((String::from_utf8_lossy(&b[..n]).into_owned(), n + 1))
}

/// Parses the trace packets in `bytes`. Returns the events and the number of
/// bytes consumed (a trailing partial packet is left for the next write).
pub fn parse_packets(bytes: &[u8]) -> (Vec<TraceEvent>, usize) {
    let mut out = Vec::new();
    let mut at = 0;
    while bytes.len() - at >= HEADER {
        let p = &bytes[at..];
        let w = |i: usize| [p[i], p[i + 1], p[i + 2], p[i + 3]];
        let size = u32::from_le_bytes(w(0)) as usize;
        if size < HEADER || size > p.len() {
            break;
        }
        let Some(ty) = HalideType::decode(w(8)) else {
            break;
        };
        let dims = i32::from_le_bytes(w(24)).max(0) as usize;
        let body = &p[HEADER..size];
        let value_len = ty.lanes as usize * (ty.bits as usize).div_ceil(8);
        let coord_len = 4 * dims;
        if body.len() < coord_len + value_len {
            break;
        }
        let coordinates = body[..coord_len]
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let value = body[coord_len..coord_len + value_len].to_vec();
        let rest = &body[coord_len + value_len..];
        let (func, n) = cstr(rest).unwrap_or_default();
        let (trace_tag, _) = cstr(rest.get(n..).unwrap_or(&[])).unwrap_or_default();
        out.push(TraceEvent {
            id: i32::from_le_bytes(w(4)),
            event: i32::from_le_bytes(w(12)),
            func,
            parent_id: i32::from_le_bytes(w(16)),
            value_index: i32::from_le_bytes(w(20)),
            ty,
            coordinates,
            value,
            trace_tag,
        });
        at += size;
    }
    (out, at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::ElemKind;

    fn packet(id: i32, event: i32, coords: &[i32], value: f32, func: &str) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&id.to_le_bytes());
        b.extend_from_slice(&ElemKind::F32.halide_type().encode());
        b.extend_from_slice(&event.to_le_bytes());
        b.extend_from_slice(&7i32.to_le_bytes());
        b.extend_from_slice(&0i32.to_le_bytes());
        b.extend_from_slice(&(coords.len() as i32).to_le_bytes());
        for c in coords {
            b.extend_from_slice(&c.to_le_bytes());
        }
        b.extend_from_slice(&value.to_le_bytes());
        b.extend_from_slice(func.as_bytes());
        b.push(0);
        b.push(0);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        let n = b.len() as u32;
        b[..4].copy_from_slice(&n.to_le_bytes());
        b
    }

    #[test]
    fn parses_packets_and_keeps_a_partial_tail() {
        let mut bytes = packet(1, 1, &[3, 4], 2.5, "f");
        bytes.extend(packet(2, 0, &[5], -1.0, "input"));
        let whole = bytes.len();
        bytes.extend(&packet(3, 1, &[1], 0.0, "g")[..10]);
        let (events, used) = parse_packets(&bytes);
        assert_eq!(used, whole);
        assert_eq!(events.len(), 2);
        assert_eq!(event_name(events[0].event), "store");
        assert_eq!(events[0].coordinates, vec![3, 4]);
        assert_eq!(events[0].value, 2.5f32.to_le_bytes().to_vec());
        assert_eq!(events[0].func, "f");
        assert_eq!(events[0].parent_id, 7);
        assert_eq!(events[1].func, "input");
        assert_eq!(event_name(events[1].event), "load");
        assert_eq!(event_name(42), "unknown");
    }
}
