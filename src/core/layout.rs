//! `halide_buffer_t` and `halide_dimension_t` as they sit in a wasm32 guest,
//! and the checks that a caller's buffer description is consistent.
//!
//! wasm32 layout (Halide 21):
//! ```text
//! halide_buffer_t (40 bytes)          halide_dimension_t (16 bytes)
//!   0  u64  device                      0  i32 min
//!   8  u32  device_interface*           4  i32 extent
//!  12  u32  host*                       8  i32 stride (in elements)
//!  16  u64  flags                      12  u32 flags
//!  24  u32  halide_type_t
//!  28  i32  dimensions
//!  32  u32  dim*
//!  36  u32  padding
//! ```
//! The executor puts a run's argument table, scalars, every buffer's header
//! and dimensions, and the 32-aligned data it copies in one guest
//! allocation, laid out by [`RunLayout`].

use crate::core::error::{Error, Result};
use crate::core::types::{ElemKind, HalideType};

pub const BUFFER_T_SIZE: u32 = 40;
pub const DIMENSION_T_SIZE: u32 = 16;
/// Alignment of buffer data in the guest.
pub const DATA_ALIGN: u32 = 32;

/// One `halide_dimension_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Dim {
    pub min: i32,
    pub extent: i32,
    pub stride: i32,
    pub flags: u32,
}

impl Dim {
    pub fn encode(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0..4].copy_from_slice(&self.min.to_le_bytes());
        b[4..8].copy_from_slice(&self.extent.to_le_bytes());
        b[8..12].copy_from_slice(&self.stride.to_le_bytes());
        b[12..16].copy_from_slice(&self.flags.to_le_bytes());
        b
    }

    pub fn decode(b: &[u8; 16]) -> Dim {
        let w = |i: usize| [b[i], b[i + 1], b[i + 2], b[i + 3]];
        Dim {
            min: i32::from_le_bytes(w(0)),
            extent: i32::from_le_bytes(w(4)),
            stride: i32::from_le_bytes(w(8)),
            flags: u32::from_le_bytes(w(12)),
        }
    }
}

/// One `halide_buffer_t` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferHeader {
    pub device: u64,
    pub device_interface: u32,
    pub host: u32,
    pub flags: u64,
    pub ty: HalideType,
    pub dimensions: i32,
    pub dim: u32,
}

impl BufferHeader {
    pub fn encode(&self) -> [u8; 40] {
        let mut b = [0u8; 40];
        b[0..8].copy_from_slice(&self.device.to_le_bytes());
        b[8..12].copy_from_slice(&self.device_interface.to_le_bytes());
        b[12..16].copy_from_slice(&self.host.to_le_bytes());
        b[16..24].copy_from_slice(&self.flags.to_le_bytes());
        b[24..28].copy_from_slice(&self.ty.encode());
        b[28..32].copy_from_slice(&self.dimensions.to_le_bytes());
        b[32..36].copy_from_slice(&self.dim.to_le_bytes());
        b
    }

    /// Decodes a header; `None` when the type code is not one Halide defines.
    pub fn decode(b: &[u8; 40]) -> Option<BufferHeader> {
        let w = |i: usize| [b[i], b[i + 1], b[i + 2], b[i + 3]];
        let d = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        Some(BufferHeader {
            device: d(0),
            device_interface: u32::from_le_bytes(w(8)),
            host: u32::from_le_bytes(w(12)),
            flags: d(16),
            ty: HalideType::decode(w(24))?,
            dimensions: i32::from_le_bytes(w(28)),
            dim: u32::from_le_bytes(w(32)),
        })
    }
}

/// Where one run puts everything in the guest, in a single allocation:
/// the `void *args[]` table, the scalar values it points at, every buffer's
/// `halide_buffer_t` and dimensions (together the *stage*, written in one
/// copy), then each copied buffer's data, 32-byte aligned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunLayout {
    /// Offset of scalar `i`'s 8-byte slot.
    pub scalars: u32,
    /// Per argument: offset of its `halide_buffer_t` (buffers only).
    pub headers: Vec<Option<u32>>,
    /// Per argument: offset of its data (buffers copied through the guest).
    pub data: Vec<Option<u32>>,
    /// Bytes of the table, scalars and headers.
    pub stage_len: u32,
    /// Bytes of the whole block.
    pub total: u32,
}

impl RunLayout {
    /// `args[i]` is `None` for a scalar, else `(dimensions, data bytes)`
    /// of a buffer, with `None` bytes when its data is not copied (it
    /// already lives in the guest). `None` when it exceeds 4 GiB.
    pub fn new(args: &[Option<(usize, Option<u64>)>]) -> Option<RunLayout> {
        let n = args.len() as u64;
        let scalars = (4 * n).next_multiple_of(8);
        let mut at = scalars + 8 * n;
        let mut headers = Vec::with_capacity(args.len());
        for a in args {
            headers.push(match a {
                Some((dims, _)) => {
                    let h = at;
                    at += BUFFER_T_SIZE as u64 + DIMENSION_T_SIZE as u64 * *dims as u64;
                    Some(u32::try_from(h).ok()?)
                }
                None => None,
            });
        }
        let stage_len = at;
        at = at.next_multiple_of(DATA_ALIGN as u64);
        let mut data = Vec::with_capacity(args.len());
        for a in args {
            data.push(match a {
                Some((_, Some(bytes))) => {
                    let d = at;
                    at = (at + bytes).next_multiple_of(DATA_ALIGN as u64);
                    Some(u32::try_from(d).ok()?)
                }
                _ => None,
            });
        }
        Some(RunLayout {
            scalars: scalars as u32,
            headers,
            data,
            stage_len: u32::try_from(stage_len).ok()?,
            total: u32::try_from(at.max(1)).ok()?,
        })
    }
}

/// A buffer as the caller describes it, checked: element type, and per
/// dimension (x first) min, extent and stride in elements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferShape {
    pub elem: ElemKind,
    pub dims: Vec<Dim>,
}

impl BufferShape {
    /// Checks a caller's `{shape, strides?, mins?}` for argument `arg` of
    /// `dimensions` dimensions, whose data holds `data_len` elements.
    /// Strides default to dense x-first, mins to zero.
    pub fn from_parts(
        arg: &str,
        elem: ElemKind,
        dimensions: usize,
        shape: &[f64],
        strides: Option<&[f64]>,
        mins: Option<&[f64]>,
        data_len: u64,
    ) -> Result<BufferShape> {
        if shape.len() != dimensions {
            return Err(Error::bad_arg(
                arg,
                format!(
                    "expected a {dimensions}-dimensional buffer, got shape of length {}",
                    shape.len()
                ),
            ));
        }
        for (what, v) in [("strides", strides), ("mins", mins)] {
            if let Some(v) = v {
                if v.len() != dimensions {
                    return Err(Error::bad_arg(
                        arg,
                        format!(
                            "{what} has {} entries; the buffer has {dimensions} dimensions",
                            v.len()
                        ),
                    ));
                }
            }
        }
        let as_i32 = |what: &str, i: usize, v: f64, lo: f64| -> Result<i32> {
            if v.fract() != 0.0 || !(lo..=i32::MAX as f64).contains(&v) {
                return Err(Error::bad_arg(
                    arg,
                    format!(
                        "{what}[{i}] = {v} is not an integer in [{lo}, {}]",
                        i32::MAX
                    ),
                ));
            }
            Ok(v as i32)
        };
        let mut dims = Vec::with_capacity(dimensions);
        let mut dense_stride: i64 = 1;
        for i in 0..dimensions {
            let extent = as_i32("shape", i, shape[i], 0.0)?;
            let stride = match strides {
                Some(s) => as_i32("strides", i, s[i], 0.0)?,
                None => i32::try_from(dense_stride).map_err(|_| {
                    Error::bad_arg(arg, "the buffer has more than 2^31 elements".to_string())
                })?,
            };
            let min = match mins {
                Some(m) => as_i32("mins", i, m[i], i32::MIN as f64)?,
                None => 0,
            };
            dense_stride = dense_stride.saturating_mul(extent as i64);
            dims.push(Dim {
                min,
                extent,
                stride,
                flags: 0,
            });
        }
        let b = BufferShape { elem, dims };
        let span = b.span_elements();
        if span > data_len {
            return Err(Error::bad_arg(
                arg,
                format!(
                    "shape {:?} with strides {:?} reaches {span} elements, but data has only {data_len}",
                    b.dims.iter().map(|d| d.extent).collect::<Vec<_>>(),
                    b.dims.iter().map(|d| d.stride).collect::<Vec<_>>()
                ),
            ));
        }
        if span.saturating_mul(elem.size() as u64) > u32::MAX as u64 {
            return Err(Error::bad_arg(
                arg,
                "the buffer is larger than 4 GiB".to_string(),
            ));
        }
        Ok(b)
    }

    /// Elements from the first to one past the last one the buffer reaches
    /// (strides are non-negative); 0 for an empty buffer.
    pub fn span_elements(&self) -> u64 {
        if self.dims.iter().any(|d| d.extent == 0) {
            return 0;
        }
        1 + self
            .dims
            .iter()
            .map(|d| (d.extent as u64 - 1) * d.stride as u64)
            .sum::<u64>()
    }

    pub fn span_bytes(&self) -> u64 {
        self.span_elements() * self.elem.size() as u64
    }

    /// Number of elements the buffer holds.
    pub fn elements(&self) -> u64 {
        self.dims.iter().map(|d| d.extent as u64).product()
    }

    /// True when every byte of the span is an element: copying the span in
    /// or out overwrites nothing that is not part of the buffer.
    pub fn is_dense(&self) -> bool {
        self.elements() == self.span_elements()
    }

    pub fn shape(&self) -> Vec<i32> {
        self.dims.iter().map(|d| d.extent).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::ElemKind;

    #[test]
    fn header_round_trips_at_the_documented_offsets() {
        let h = BufferHeader {
            device: 0,
            device_interface: 0,
            host: 0x1234_5678,
            flags: 0,
            ty: ElemKind::U16.halide_type(),
            dimensions: 3,
            dim: 0xabcd,
        };
        let b = h.encode();
        assert_eq!(&b[12..16], &0x1234_5678u32.to_le_bytes());
        assert_eq!(&b[24..28], &[1, 16, 1, 0]);
        assert_eq!(&b[28..32], &3i32.to_le_bytes());
        assert_eq!(&b[32..36], &0xabcdu32.to_le_bytes());
        assert_eq!(BufferHeader::decode(&b), Some(h));
        let d = Dim {
            min: -3,
            extent: 7,
            stride: 12,
            flags: 0,
        };
        assert_eq!(Dim::decode(&d.encode()), d);
    }

    #[test]
    fn run_layout_packs_one_block() {
        // input (3 dims, 100 bytes), a scalar, an output already in the guest.
        let l = RunLayout::new(&[Some((3, Some(100))), None, Some((2, None))]).unwrap();
        assert_eq!(l.scalars, 16); // 3 pointers, 8-aligned
        assert_eq!(l.headers, vec![Some(40), None, Some(128)]);
        assert_eq!(l.stage_len, 128 + 40 + 32);
        assert_eq!(l.data, vec![Some(224), None, None]);
        assert_eq!(l.total, 224 + 128);
        // Every data region is 32-aligned and they do not overlap.
        let l = RunLayout::new(&[Some((1, Some(1))), Some((1, Some(33))), None]).unwrap();
        let d: Vec<u32> = l.data.iter().flatten().copied().collect();
        assert!(d.iter().all(|o| o % 32 == 0));
        assert!(d[0] < d[1] && d[1] + 33 <= l.total);
        assert!(RunLayout::new(&[Some((1, Some(u32::MAX as u64)))]).is_none());
        assert_eq!(RunLayout::new(&[]).unwrap().total, 1);
    }

    #[test]
    fn dense_defaults_and_interleaved_strides() {
        let b = BufferShape::from_parts("in", ElemKind::U8, 3, &[4.0, 3.0, 3.0], None, None, 36)
            .unwrap();
        assert_eq!(
            b.dims.iter().map(|d| d.stride).collect::<Vec<_>>(),
            vec![1, 4, 12]
        );
        assert!(b.is_dense());
        let rgba = BufferShape::from_parts(
            "img",
            ElemKind::U8,
            3,
            &[5.0, 2.0, 3.0],
            Some(&[4.0, 20.0, 1.0]),
            Some(&[0.0, 0.0, 0.0]),
            40,
        )
        .unwrap();
        assert_eq!(rgba.span_elements(), 39);
        assert!(!rgba.is_dense());
    }

    #[test]
    fn rejects_what_does_not_fit() {
        let e = BufferShape::from_parts("in", ElemKind::U8, 2, &[4.0, 4.0], None, None, 15)
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("reaches 16 elements, but data has only 15"),
            "{e}"
        );
        let e =
            BufferShape::from_parts("in", ElemKind::U8, 2, &[4.0], None, None, 100).unwrap_err();
        assert!(e.to_string().contains("2-dimensional"), "{e}");
        let e =
            BufferShape::from_parts("in", ElemKind::U8, 1, &[-1.0], None, None, 100).unwrap_err();
        assert!(e.to_string().contains("shape[0] = -1"), "{e}");
        let e =
            BufferShape::from_parts("in", ElemKind::U8, 1, &[2.5], None, None, 100).unwrap_err();
        assert!(e.to_string().contains("not an integer"), "{e}");
        let e = BufferShape::from_parts("in", ElemKind::U8, 1, &[2.0], Some(&[-1.0]), None, 100)
            .unwrap_err();
        assert!(e.to_string().contains("strides[0]"), "{e}");
        let empty =
            BufferShape::from_parts("in", ElemKind::F32, 2, &[0.0, 5.0], None, None, 0).unwrap();
        assert_eq!(empty.span_elements(), 0);
        let scalar = BufferShape::from_parts("out", ElemKind::F32, 0, &[], None, None, 1).unwrap();
        assert_eq!(scalar.span_elements(), 1);
    }
}
