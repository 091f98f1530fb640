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

/// The largest trace packet the host accepts. Halide's packets hold a
/// header, coordinates, a value, a function name and a tag: a few hundred
/// bytes. A packet that claims more is malformed, and a packet that never
/// completes can make the host keep at most this much.
pub const MAX_PACKET: usize = 256 * 1024;

/// Parses the trace packets in `bytes`. Returns the events and the number of
/// bytes consumed (a trailing partial packet is left for the next write),
/// or what is wrong with a malformed packet: one whose size is below its
/// header or above [`MAX_PACKET`], whose type is unknown, or whose body is
/// too short for its coordinates and value.
pub fn parse_packets(bytes: &[u8]) -> Result<(Vec<TraceEvent>, usize), String> {
    let mut out = Vec::new();
    let mut at = 0;
    while bytes.len() - at >= HEADER {
        let p = &bytes[at..];
        let w = |i: usize| [p[i], p[i + 1], p[i + 2], p[i + 3]];
        let size = u32::from_le_bytes(w(0)) as usize;
        if size < HEADER {
            return Err(format!(
                "a packet claims {size} bytes, less than its {HEADER}-byte header"
            ));
        }
        if size > MAX_PACKET {
            return Err(format!(
                "a packet claims {size} bytes; the host accepts at most {MAX_PACKET}"
            ));
        }
        if size > p.len() {
            break;
        }
        let Some(ty) = HalideType::decode(w(8)) else {
            return Err(format!("a packet has an unknown type {:?}", w(8)));
        };
        let dims = i32::from_le_bytes(w(24));
        let body = &p[HEADER..size];
        // Both at most MAX_PACKET-sized once checked against the body.
        let value_len = ty.lanes as usize * (ty.bits as usize).div_ceil(8);
        let coord_len = usize::try_from(dims)
            .ok()
            .filter(|d| *d <= body.len() / 4)
            .map(|d| 4 * d);
        let Some(coord_len) = coord_len.filter(|c| c + value_len <= body.len()) else {
            return Err(format!(
                "a packet of {size} bytes is too short for {dims} coordinates and a {}-byte value",
                value_len
            ));
        };
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
    Ok((out, at))
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
        let (events, used) = parse_packets(&bytes).unwrap();
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

    #[test]
    fn malformed_packets_are_refused_not_kept() {
        let mut p = packet(1, 1, &[3], 1.0, "f");
        p[..4].copy_from_slice(&(MAX_PACKET as u32 + 4).to_le_bytes());
        assert!(parse_packets(&p).unwrap_err().contains("at most"));
        p[..4].copy_from_slice(&8u32.to_le_bytes());
        assert!(parse_packets(&p).unwrap_err().contains("less than"));
        let mut p = packet(1, 1, &[3], 1.0, "f");
        p[24..28].copy_from_slice(&i32::MAX.to_le_bytes());
        assert!(parse_packets(&p).unwrap_err().contains("too short"));
        p[24..28].copy_from_slice(&(-1i32).to_le_bytes());
        assert!(parse_packets(&p).unwrap_err().contains("too short"));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any bytes parse to events, a wait for more, or an error; never a
        /// panic, and a wait only for a packet of at most MAX_PACKET bytes.
        #[test]
        fn any_bytes_parse_or_fail(bytes in proptest::collection::vec(any::<u8>(), 0..400), big in any::<bool>()) {
            let mut bytes = bytes;
            if big && bytes.len() >= 4 {
                bytes[..4].copy_from_slice(&u32::MAX.to_le_bytes());
            }
            if let Ok((_, used)) = parse_packets(&bytes) {
                prop_assert!(used <= bytes.len());
                if bytes.len() - used >= HEADER {
                    let size = u32::from_le_bytes(bytes[used..used + 4].try_into().unwrap()) as usize;
                    prop_assert!(size <= MAX_PACKET);
                }
            }
        }
    }
}
