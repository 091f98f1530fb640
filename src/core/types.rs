//! Halide's element types (`halide_type_t`) and their JavaScript names.
//!
//! Halide describes every buffer element and scalar argument with a
//! `{code, bits, lanes}` triple. JavaScript users see the same types as the
//! strings `uint8`, `float16`, `bool`, ...; this module converts between the
//! two and knows each type's size in the guest memory and the typed array
//! that carries it in JavaScript.

use std::fmt;

/// `halide_type_code_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeCode {
    Int = 0,
    UInt = 1,
    Float = 2,
    Handle = 3,
    BFloat = 4,
}

impl TypeCode {
    pub fn from_u8(code: u8) -> Option<TypeCode> {
        match code {
            0 => Some(TypeCode::Int),
            1 => Some(TypeCode::UInt),
            2 => Some(TypeCode::Float),
            3 => Some(TypeCode::Handle),
            4 => Some(TypeCode::BFloat),
            _ => None,
        }
    }
}

/// A Halide type as the guest encodes it: `u8 code, u8 bits, u16 lanes`
/// (4 bytes; Halide 21 layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HalideType {
    pub code: TypeCode,
    pub bits: u8,
    pub lanes: u16,
}

/// The element types a JavaScript caller can name, one per type string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElemKind {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F16,
    BF16,
    F32,
    F64,
    Handle,
}

/// The JavaScript typed arrays that may carry a buffer's elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArrayKind {
    Int8,
    Uint8,
    Uint8Clamped,
    Int16,
    Uint16,
    Float16,
    Int32,
    Uint32,
    Float32,
    Float64,
    BigInt64,
    BigUint64,
}

impl ArrayKind {
    /// Every kind, in declaration order (`marshal.js` numbers them so).
    pub const ALL: [ArrayKind; 12] = [
        ArrayKind::Int8,
        ArrayKind::Uint8,
        ArrayKind::Uint8Clamped,
        ArrayKind::Int16,
        ArrayKind::Uint16,
        ArrayKind::Float16,
        ArrayKind::Int32,
        ArrayKind::Uint32,
        ArrayKind::Float32,
        ArrayKind::Float64,
        ArrayKind::BigInt64,
        ArrayKind::BigUint64,
    ];

    /// The constructor name, as `Object.prototype.toString` would report it.
    pub fn constructor_name(self) -> &'static str {
        match self {
            ArrayKind::Int8 => "Int8Array",
            ArrayKind::Uint8 => "Uint8Array",
            ArrayKind::Uint8Clamped => "Uint8ClampedArray",
            ArrayKind::Int16 => "Int16Array",
            ArrayKind::Uint16 => "Uint16Array",
            ArrayKind::Float16 => "Float16Array",
            ArrayKind::Int32 => "Int32Array",
            ArrayKind::Uint32 => "Uint32Array",
            ArrayKind::Float32 => "Float32Array",
            ArrayKind::Float64 => "Float64Array",
            ArrayKind::BigInt64 => "BigInt64Array",
            ArrayKind::BigUint64 => "BigUint64Array",
        }
    }

    pub fn from_constructor_name(name: &str) -> Option<ArrayKind> {
        Some(match name {
            "Int8Array" => ArrayKind::Int8,
            "Uint8Array" => ArrayKind::Uint8,
            "Uint8ClampedArray" => ArrayKind::Uint8Clamped,
            "Int16Array" => ArrayKind::Int16,
            "Uint16Array" => ArrayKind::Uint16,
            "Float16Array" => ArrayKind::Float16,
            "Int32Array" => ArrayKind::Int32,
            "Uint32Array" => ArrayKind::Uint32,
            "Float32Array" => ArrayKind::Float32,
            "Float64Array" => ArrayKind::Float64,
            "BigInt64Array" => ArrayKind::BigInt64,
            "BigUint64Array" => ArrayKind::BigUint64,
            _ => return None,
        })
    }
}

impl ElemKind {
    pub const ALL: [ElemKind; 14] = [
        ElemKind::Bool,
        ElemKind::I8,
        ElemKind::I16,
        ElemKind::I32,
        ElemKind::I64,
        ElemKind::U8,
        ElemKind::U16,
        ElemKind::U32,
        ElemKind::U64,
        ElemKind::F16,
        ElemKind::BF16,
        ElemKind::F32,
        ElemKind::F64,
        ElemKind::Handle,
    ];

    /// The type's name in the public API.
    pub fn name(self) -> &'static str {
        match self {
            ElemKind::Bool => "bool",
            ElemKind::I8 => "int8",
            ElemKind::I16 => "int16",
            ElemKind::I32 => "int32",
            ElemKind::I64 => "int64",
            ElemKind::U8 => "uint8",
            ElemKind::U16 => "uint16",
            ElemKind::U32 => "uint32",
            ElemKind::U64 => "uint64",
            ElemKind::F16 => "float16",
            ElemKind::BF16 => "bfloat16",
            ElemKind::F32 => "float32",
            ElemKind::F64 => "float64",
            ElemKind::Handle => "handle",
        }
    }

    pub fn from_name(name: &str) -> Option<ElemKind> {
        ElemKind::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// Bytes one element takes in the guest memory. Halide stores handles as
    /// 64-bit values in buffers and scalar slots, whatever the pointer width.
    pub fn size(self) -> u32 {
        match self {
            ElemKind::Bool | ElemKind::I8 | ElemKind::U8 => 1,
            ElemKind::I16 | ElemKind::U16 | ElemKind::F16 | ElemKind::BF16 => 2,
            ElemKind::I32 | ElemKind::U32 | ElemKind::F32 => 4,
            ElemKind::I64 | ElemKind::U64 | ElemKind::F64 | ElemKind::Handle => 8,
        }
    }

    /// The typed arrays accepted for a buffer of this type. The first is the
    /// one the executor creates itself (e.g. for views into guest memory).
    pub fn array_kinds(self) -> &'static [ArrayKind] {
        match self {
            ElemKind::Bool | ElemKind::U8 => &[ArrayKind::Uint8, ArrayKind::Uint8Clamped],
            ElemKind::I8 => &[ArrayKind::Int8],
            ElemKind::I16 => &[ArrayKind::Int16],
            ElemKind::U16 => &[ArrayKind::Uint16],
            ElemKind::F16 => &[ArrayKind::Uint16, ArrayKind::Float16],
            ElemKind::BF16 => &[ArrayKind::Uint16],
            ElemKind::I32 => &[ArrayKind::Int32],
            ElemKind::U32 => &[ArrayKind::Uint32],
            ElemKind::F32 => &[ArrayKind::Float32],
            ElemKind::F64 => &[ArrayKind::Float64],
            ElemKind::I64 => &[ArrayKind::BigInt64],
            ElemKind::U64 | ElemKind::Handle => &[ArrayKind::BigUint64],
        }
    }

    /// The guest's encoding of this type.
    pub fn halide_type(self) -> HalideType {
        let (code, bits) = match self {
            ElemKind::Bool => (TypeCode::UInt, 1),
            ElemKind::I8 => (TypeCode::Int, 8),
            ElemKind::I16 => (TypeCode::Int, 16),
            ElemKind::I32 => (TypeCode::Int, 32),
            ElemKind::I64 => (TypeCode::Int, 64),
            ElemKind::U8 => (TypeCode::UInt, 8),
            ElemKind::U16 => (TypeCode::UInt, 16),
            ElemKind::U32 => (TypeCode::UInt, 32),
            ElemKind::U64 => (TypeCode::UInt, 64),
            ElemKind::F16 => (TypeCode::Float, 16),
            ElemKind::BF16 => (TypeCode::BFloat, 16),
            ElemKind::F32 => (TypeCode::Float, 32),
            ElemKind::F64 => (TypeCode::Float, 64),
            ElemKind::Handle => (TypeCode::Handle, 64),
        };
        HalideType {
            code,
            bits,
            lanes: 1,
        }
    }
}

impl HalideType {
    /// Decodes the 4-byte `halide_type_t`.
    pub fn decode(bytes: [u8; 4]) -> Option<HalideType> {
        Some(HalideType {
            code: TypeCode::from_u8(bytes[0])?,
            bits: bytes[1],
            lanes: u16::from_le_bytes([bytes[2], bytes[3]]),
        })
    }

    pub fn encode(self) -> [u8; 4] {
        let lanes = self.lanes.to_le_bytes();
        [self.code as u8, self.bits, lanes[0], lanes[1]]
    }

    /// The named type this is, if it is a scalar type the API knows. Handles
    /// of any width map to `handle`; vectors (lanes > 1) have no name.
    pub fn kind(self) -> Option<ElemKind> {
        if self.lanes > 1 {
            return None;
        }
        if self.code == TypeCode::Handle {
            return Some(ElemKind::Handle);
        }
        ElemKind::ALL
            .iter()
            .copied()
            .find(|k| k.halide_type().code == self.code && k.halide_type().bits == self.bits)
    }
}

impl fmt::Display for HalideType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind() {
            Some(k) => f.write_str(k.name()),
            None => write!(f, "{:?}{}x{}", self.code, self.bits, self.lanes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_kinds_are_numbered_as_marshal_js_numbers_them() {
        let js = include_str!("../js/marshal.js");
        let list = &js[js.find("const KIND_NAMES = [").unwrap()..js.find("const KINDS").unwrap()];
        let names: Vec<&str> = list.split('\'').skip(1).step_by(2).collect();
        let ours: Vec<&str> = ArrayKind::ALL
            .iter()
            .map(|k| k.constructor_name())
            .collect();
        assert_eq!(names, ours);
        for (i, k) in ArrayKind::ALL.iter().enumerate() {
            assert_eq!(ArrayKind::from_constructor_name(names[i]), Some(*k));
        }
    }

    #[test]
    fn names_round_trip() {
        for k in ElemKind::ALL {
            assert_eq!(ElemKind::from_name(k.name()), Some(k));
            assert_eq!(k.halide_type().kind(), Some(k));
            assert_eq!(
                HalideType::decode(k.halide_type().encode()).unwrap().kind(),
                Some(k)
            );
        }
        assert_eq!(ElemKind::from_name("float"), None);
    }

    #[test]
    fn bool_is_uint1_and_one_byte() {
        let t = ElemKind::Bool.halide_type();
        assert_eq!((t.code, t.bits), (TypeCode::UInt, 1));
        assert_eq!(ElemKind::Bool.size(), 1);
        assert_eq!(t.encode(), [1, 1, 1, 0]);
    }

    #[test]
    fn vectors_have_no_name() {
        let t = HalideType {
            code: TypeCode::Float,
            bits: 32,
            lanes: 4,
        };
        assert_eq!(t.kind(), None);
        assert_eq!(t.to_string(), "Float32x4");
    }

    #[test]
    fn array_kinds_have_matching_names() {
        for k in ElemKind::ALL {
            for a in k.array_kinds() {
                assert_eq!(
                    ArrayKind::from_constructor_name(a.constructor_name()),
                    Some(*a)
                );
            }
        }
    }
}
