//! Scalar arguments: checking a caller's value against the argument's type
//! and range, and its 8-byte encoding in the guest.
//!
//! Halide's `NAME_argv` entry point takes a pointer per argument; a scalar's
//! pointer leads to its value, little-endian, in the argument's own width.
//! The metadata's defaults and bounds use the same encoding
//! (`halide_scalar_value_t`, an 8-byte union), so one codec serves both.

use crate::core::error::{Error, Result};
use crate::core::types::ElemKind;
use half::{bf16, f16};

/// A scalar as JavaScript can carry it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    Bool(bool),
    /// A JS number.
    Number(f64),
    /// A JS bigint that fits in 64 bits (signed or unsigned).
    BigInt(i128),
}

impl Scalar {
    /// A value as a float, for range checks and float arguments.
    fn as_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::Number(n) => n,
            Scalar::BigInt(i) => i as f64,
        }
    }
}

/// Checks `v` for an argument of type `ty` and returns its guest encoding.
pub fn encode(arg: &str, ty: ElemKind, v: Scalar) -> Result<[u8; 8]> {
    let mut out = [0u8; 8];
    let int = |lo: i128, hi: i128| -> Result<i128> {
        let i = match v {
            Scalar::Number(n) if n.is_finite() && n.fract() == 0.0 => n as i128,
            Scalar::BigInt(i) => i,
            Scalar::Number(n) => {
                return Err(Error::bad_arg(
                    arg,
                    format!("{} must be an integer, got {n}", ty.name()),
                ))
            }
            Scalar::Bool(_) => {
                return Err(Error::bad_arg(
                    arg,
                    format!("{} must be a number, got a boolean", ty.name()),
                ))
            }
        };
        if i < lo || i > hi {
            return Err(Error::bad_arg(
                arg,
                format!("{i} is out of the range of {} [{lo}, {hi}]", ty.name()),
            ));
        }
        Ok(i)
    };
    let float = || -> Result<f64> {
        match v {
            Scalar::Number(n) => Ok(n),
            Scalar::BigInt(_) => Err(Error::bad_arg(
                arg,
                format!("{} must be a number, got a bigint", ty.name()),
            )),
            Scalar::Bool(_) => Err(Error::bad_arg(
                arg,
                format!("{} must be a number, got a boolean", ty.name()),
            )),
        }
    };
    let finite = |x: f64, max: f64| -> Result<f64> {
        if x.is_finite() && x.abs() > max {
            return Err(Error::bad_arg(
                arg,
                format!("{x} is out of the range of {}", ty.name()),
            ));
        }
        Ok(x)
    };
    match ty {
        ElemKind::Bool => match v {
            Scalar::Bool(b) => out[0] = b as u8,
            _ => {
                return Err(Error::bad_arg(
                    arg,
                    "bool must be given as true or false".to_string(),
                ))
            }
        },
        ElemKind::I8 => out[..1].copy_from_slice(&(int(-128, 127)? as i8).to_le_bytes()),
        ElemKind::I16 => out[..2]
            .copy_from_slice(&(int(i16::MIN as i128, i16::MAX as i128)? as i16).to_le_bytes()),
        ElemKind::I32 => out[..4]
            .copy_from_slice(&(int(i32::MIN as i128, i32::MAX as i128)? as i32).to_le_bytes()),
        ElemKind::I64 => {
            out.copy_from_slice(&(int(i64::MIN as i128, i64::MAX as i128)? as i64).to_le_bytes())
        }
        ElemKind::U8 => out[0] = int(0, 255)? as u8,
        ElemKind::U16 => {
            out[..2].copy_from_slice(&(int(0, u16::MAX as i128)? as u16).to_le_bytes())
        }
        ElemKind::U32 => {
            out[..4].copy_from_slice(&(int(0, u32::MAX as i128)? as u32).to_le_bytes())
        }
        ElemKind::U64 | ElemKind::Handle => {
            out.copy_from_slice(&(int(0, u64::MAX as i128)? as u64).to_le_bytes())
        }
        ElemKind::F16 => {
            let x = finite(float()?, f16::MAX.to_f64())?;
            out[..2].copy_from_slice(&f16::from_f64(x).to_bits().to_le_bytes())
        }
        ElemKind::BF16 => {
            let x = finite(float()?, bf16::MAX.to_f64())?;
            out[..2].copy_from_slice(&bf16::from_f64(x).to_bits().to_le_bytes())
        }
        ElemKind::F32 => {
            let x = finite(float()?, f32::MAX as f64)?;
            out[..4].copy_from_slice(&(x as f32).to_le_bytes())
        }
        ElemKind::F64 => out.copy_from_slice(&float()?.to_le_bytes()),
    }
    Ok(out)
}

/// Decodes a `halide_scalar_value_t` of type `ty`.
pub fn decode(ty: ElemKind, b: [u8; 8]) -> Scalar {
    let w2 = [b[0], b[1]];
    let w4 = [b[0], b[1], b[2], b[3]];
    match ty {
        ElemKind::Bool => Scalar::Bool(b[0] != 0),
        ElemKind::I8 => Scalar::Number(b[0] as i8 as f64),
        ElemKind::I16 => Scalar::Number(i16::from_le_bytes(w2) as f64),
        ElemKind::I32 => Scalar::Number(i32::from_le_bytes(w4) as f64),
        ElemKind::U8 => Scalar::Number(b[0] as f64),
        ElemKind::U16 => Scalar::Number(u16::from_le_bytes(w2) as f64),
        ElemKind::U32 => Scalar::Number(u32::from_le_bytes(w4) as f64),
        ElemKind::I64 => Scalar::BigInt(i64::from_le_bytes(b) as i128),
        ElemKind::U64 | ElemKind::Handle => Scalar::BigInt(u64::from_le_bytes(b) as i128),
        ElemKind::F16 => Scalar::Number(f16::from_bits(u16::from_le_bytes(w2)).to_f64()),
        ElemKind::BF16 => Scalar::Number(bf16::from_bits(u16::from_le_bytes(w2)).to_f64()),
        ElemKind::F32 => Scalar::Number(f32::from_le_bytes(w4) as f64),
        ElemKind::F64 => Scalar::Number(f64::from_le_bytes(b)),
    }
}

/// Checks `v` against the pipeline's declared bounds (already decoded).
pub fn check_range(arg: &str, v: Scalar, min: Option<Scalar>, max: Option<Scalar>) -> Result<()> {
    let below = |lo: Scalar| match (v, lo) {
        (Scalar::BigInt(a), Scalar::BigInt(b)) => a < b,
        // NaN compares as neither: it is outside every range.
        _ => v
            .as_f64()
            .partial_cmp(&lo.as_f64())
            .is_none_or(|o| o.is_lt()),
    };
    let above = |hi: Scalar| match (v, hi) {
        (Scalar::BigInt(a), Scalar::BigInt(b)) => a > b,
        _ => v
            .as_f64()
            .partial_cmp(&hi.as_f64())
            .is_none_or(|o| o.is_gt()),
    };
    let show = |s: Scalar| match s {
        Scalar::Bool(b) => b.to_string(),
        Scalar::Number(n) => n.to_string(),
        Scalar::BigInt(i) => i.to_string(),
    };
    if let Some(lo) = min.filter(|lo| below(*lo)) {
        return Err(Error::bad_arg(
            arg,
            format!("{} is below the pipeline's minimum {}", show(v), show(lo)),
        ));
    }
    if let Some(hi) = max.filter(|hi| above(*hi)) {
        return Err(Error::bad_arg(
            arg,
            format!("{} is above the pipeline's maximum {}", show(v), show(hi)),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips() {
        let cases = [
            (ElemKind::Bool, Scalar::Bool(true)),
            (ElemKind::I8, Scalar::Number(-128.0)),
            (ElemKind::I16, Scalar::Number(-3000.0)),
            (ElemKind::I32, Scalar::Number(-2147483648.0)),
            (ElemKind::I64, Scalar::BigInt(-9_000_000_000_000_000_001)),
            (ElemKind::U8, Scalar::Number(255.0)),
            (ElemKind::U16, Scalar::Number(65535.0)),
            (ElemKind::U32, Scalar::Number(4294967295.0)),
            (ElemKind::U64, Scalar::BigInt(u64::MAX as i128)),
            (ElemKind::F16, Scalar::Number(1.5)),
            (ElemKind::BF16, Scalar::Number(-2.25)),
            (ElemKind::F32, Scalar::Number(0.125)),
            (ElemKind::F64, Scalar::Number(std::f64::consts::PI)),
        ];
        for (ty, v) in cases {
            let b = encode("x", ty, v).unwrap();
            assert_eq!(decode(ty, b), v, "{ty:?}");
        }
    }

    #[test]
    fn half_types_round_to_nearest() {
        let b = encode("x", ElemKind::F16, Scalar::Number(1.0 + 1.0 / 4096.0)).unwrap();
        assert_eq!(u16::from_le_bytes([b[0], b[1]]), 0x3c00);
        let b = encode("x", ElemKind::BF16, Scalar::Number(1.0)).unwrap();
        assert_eq!(u16::from_le_bytes([b[0], b[1]]), 0x3f80);
        assert!(encode("x", ElemKind::F16, Scalar::Number(1e6)).is_err());
        // NaN is a float like any other.
        assert!(encode("x", ElemKind::F32, Scalar::Number(f64::NAN)).is_ok());
    }

    #[test]
    fn wrong_values_name_the_argument() {
        let e = encode("k", ElemKind::U8, Scalar::Number(256.0)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "argument 'k': 256 is out of the range of uint8 [0, 255]"
        );
        let e = encode("k", ElemKind::I32, Scalar::Number(1.5)).unwrap_err();
        assert!(e.to_string().contains("must be an integer"));
        let e = encode("k", ElemKind::Bool, Scalar::Number(1.0)).unwrap_err();
        assert!(e.to_string().contains("true or false"));
        let e = encode("k", ElemKind::F32, Scalar::BigInt(1)).unwrap_err();
        assert!(e.to_string().contains("bigint"));
        // 64-bit values come as bigint or as a number that is an exact integer.
        let b = encode("k", ElemKind::I64, Scalar::Number(-5.0)).unwrap();
        assert_eq!(i64::from_le_bytes(b), -5);
        assert!(encode("k", ElemKind::U64, Scalar::BigInt(-1)).is_err());
    }

    #[test]
    fn range_checks() {
        let lo = Some(Scalar::Number(0.0));
        let hi = Some(Scalar::Number(4.0));
        assert!(check_range("g", Scalar::Number(2.0), lo, hi).is_ok());
        let e = check_range("g", Scalar::Number(5.0), lo, hi).unwrap_err();
        assert_eq!(
            e.to_string(),
            "argument 'g': 5 is above the pipeline's maximum 4"
        );
        assert!(check_range("g", Scalar::Number(f64::NAN), lo, hi).is_err());
        assert!(check_range("g", Scalar::Number(-1.0), lo, None).is_err());
        let big = Some(Scalar::BigInt(i64::MAX as i128));
        assert!(check_range("g", Scalar::BigInt(i64::MAX as i128 - 1), None, big).is_ok());
    }
}
