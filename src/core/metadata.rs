//! The pipeline's own description of itself: `halide_filter_metadata_t`.
//!
//! An ahead-of-time Halide pipeline exports `NAME_metadata()`, which returns a
//! pointer into the guest memory. Read with the wasm32 layout:
//! ```text
//! halide_filter_metadata_t (20 bytes)     halide_filter_argument_t (36 bytes)
//!   0  i32 version (1)                      0  char*  name
//!   4  i32 num_arguments                    4  i32    kind (0 scalar, 1 input, 2 output)
//!   8  halide_filter_argument_t*            8  i32    dimensions
//!  12  char* target                        12  halide_type_t
//!  16  char* name                          16  halide_scalar_value_t* def, min, max, estimate
//!                                          32  int64_t** buffer_estimates
//! ```
//! Everything read is checked: a malicious module can return any pointer.

use crate::core::error::{Error, Result};
use crate::core::memory::GuestMemory;
use crate::core::scalar::{self, Scalar};
use crate::core::types::{ElemKind, HalideType};

const METADATA_SIZE: u32 = 20;
const ARGUMENT_SIZE: u32 = 36;

/// What the reader will read, whatever the module claims: a module past any
/// of these is refused as a bad module before more is read, so a metadata
/// bomb (thousands of arguments whose names all point at one huge string)
/// costs milliseconds and a few KiB, not seconds and gigabytes.
pub mod limits {
    /// Arguments of one pipeline (real ones have a handful, generators a
    /// few dozen).
    pub const MAX_ARGUMENTS: i32 = 1024;
    /// Bytes of one name: an argument's, the pipeline's, or the target.
    pub const MAX_NAME_BYTES: u32 = 1024;
    /// Bytes of all the names together.
    pub const MAX_TOTAL_NAME_BYTES: u64 = 64 * 1024;
}
use limits::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    Scalar,
    Input,
    Output,
}

impl ArgKind {
    pub fn name(self) -> &'static str {
        match self {
            ArgKind::Scalar => "scalar",
            ArgKind::Input => "input",
            ArgKind::Output => "output",
        }
    }

    pub fn from_name(s: &str) -> Option<ArgKind> {
        [ArgKind::Scalar, ArgKind::Input, ArgKind::Output]
            .into_iter()
            .find(|k| k.name() == s)
    }

    pub fn is_buffer(self) -> bool {
        self != ArgKind::Scalar
    }
}

/// One argument of the entry point, in call order.
#[derive(Clone, Debug, PartialEq)]
pub struct Argument {
    pub name: String,
    pub kind: ArgKind,
    pub dimensions: u32,
    pub ty: HalideType,
    /// The type as the API names it; `None` for vectors, which JS cannot pass.
    pub elem: Option<ElemKind>,
    pub default: Option<Scalar>,
    pub min: Option<Scalar>,
    pub max: Option<Scalar>,
}

/// A pipeline's description.
#[derive(Clone, Debug, PartialEq)]
pub struct Metadata {
    pub version: i32,
    pub name: String,
    pub target: String,
    pub arguments: Vec<Argument>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::BadModule(msg.into())
}

/// Reads the metadata at `ptr`.
pub fn read(mem: &impl GuestMemory, ptr: u32) -> Result<Metadata> {
    let m = |e| bad(format!("metadata unreadable: {e}"));
    mem.check(ptr, METADATA_SIZE as u64).map_err(m)?;
    let version = mem.read_i32(ptr).map_err(m)?;
    let num = mem.read_i32(ptr + 4).map_err(m)?;
    let args_ptr = mem.read_u32(ptr + 8).map_err(m)?;
    let mut names = Names::default();
    let target = names.read(mem, mem.read_u32(ptr + 12).map_err(m)?, "target")?;
    let name = names.read(mem, mem.read_u32(ptr + 16).map_err(m)?, "pipeline name")?;
    if version != 1 {
        return Err(bad(format!(
            "metadata version {version}; this executor reads version 1"
        )));
    }
    if !(0..=MAX_ARGUMENTS).contains(&num) {
        return Err(bad(format!(
            "metadata claims {num} arguments; the executor reads at most {MAX_ARGUMENTS}"
        )));
    }
    mem.check(args_ptr, num as u64 * ARGUMENT_SIZE as u64)
        .map_err(m)?;
    let mut arguments: Vec<Argument> = Vec::with_capacity(num as usize);
    for i in 0..num as u32 {
        let a = read_argument(mem, args_ptr + i * ARGUMENT_SIZE, &mut names)?;
        if arguments.iter().any(|b| b.name == a.name) {
            return Err(bad(format!("two arguments are named '{}'", a.name)));
        }
        arguments.push(a);
    }
    Ok(Metadata {
        version,
        name,
        target,
        arguments,
    })
}

/// Reads the metadata's strings within [`limits`].
#[derive(Default)]
struct Names {
    total: u64,
}

impl Names {
    fn read(&mut self, mem: &impl GuestMemory, ptr: u32, what: &str) -> Result<String> {
        let s = mem
            .read_cstr_limited(ptr, MAX_NAME_BYTES)
            .map_err(|e| bad(format!("metadata unreadable: {what}: {e}")))?;
        self.total += s.len() as u64;
        if self.total > MAX_TOTAL_NAME_BYTES {
            return Err(bad(format!(
                "the metadata's names add up to more than {MAX_TOTAL_NAME_BYTES} bytes"
            )));
        }
        Ok(s)
    }
}

fn read_argument(mem: &impl GuestMemory, at: u32, names: &mut Names) -> Result<Argument> {
    let m = |e| bad(format!("argument metadata unreadable: {e}"));
    let name = names.read(mem, mem.read_u32(at).map_err(m)?, "argument name")?;
    let kind = match mem.read_i32(at + 4).map_err(m)? {
        0 => ArgKind::Scalar,
        1 => ArgKind::Input,
        2 => ArgKind::Output,
        k => return Err(bad(format!("argument '{name}' has unknown kind {k}"))),
    };
    let dimensions = mem.read_i32(at + 8).map_err(m)?;
    let dimensions = u32::try_from(dimensions)
        .ok()
        .filter(|d| *d <= 64)
        .ok_or_else(|| bad(format!("argument '{name}' has {dimensions} dimensions")))?;
    let ty = HalideType::decode(mem.read_array(at + 12).map_err(m)?)
        .ok_or_else(|| bad(format!("argument '{name}' has an unknown type code")))?;
    let elem = ty.kind();
    let value = |off: u32| -> Result<Option<Scalar>> {
        let p = mem.read_u32(at + off).map_err(m)?;
        match (p, elem) {
            (0, _) | (_, None) => Ok(None),
            (p, Some(e)) => Ok(Some(scalar::decode(e, mem.read_array(p).map_err(m)?))),
        }
    };
    let (default, min, max) = if kind == ArgKind::Scalar {
        (value(16)?, value(20)?, value(24)?)
    } else {
        (None, None, None)
    };
    Ok(Argument {
        name,
        kind,
        dimensions,
        ty,
        elem,
        default,
        min,
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Lays out a metadata block the way Halide's compiler does.
    fn build() -> (RefCell<Vec<u8>>, u32) {
        let mut v = vec![0u8; 1024];
        let put = |v: &mut Vec<u8>, at: usize, b: &[u8]| v[at..at + b.len()].copy_from_slice(b);
        put(&mut v, 600, b"brighten\0");
        put(&mut v, 620, b"wasm-32-wasmrt\0");
        put(&mut v, 640, b"input\0");
        put(&mut v, 650, b"gain\0");
        put(&mut v, 660, &1.0f32.to_le_bytes()); // def
        put(&mut v, 670, &0.0f32.to_le_bytes()); // min
        put(&mut v, 680, &4.0f32.to_le_bytes()); // max
                                                 // metadata at 100, args at 200
        put(&mut v, 100, &1i32.to_le_bytes());
        put(&mut v, 104, &2i32.to_le_bytes());
        put(&mut v, 108, &200u32.to_le_bytes());
        put(&mut v, 112, &620u32.to_le_bytes());
        put(&mut v, 116, &600u32.to_le_bytes());
        // input: u8, 3 dims
        put(&mut v, 200, &640u32.to_le_bytes());
        put(&mut v, 204, &1i32.to_le_bytes());
        put(&mut v, 208, &3i32.to_le_bytes());
        put(&mut v, 212, &[1, 8, 1, 0]);
        // gain: f32 scalar
        put(&mut v, 236, &650u32.to_le_bytes());
        put(&mut v, 240, &0i32.to_le_bytes());
        put(&mut v, 244, &0i32.to_le_bytes());
        put(&mut v, 248, &[2, 32, 1, 0]);
        put(&mut v, 252, &660u32.to_le_bytes());
        put(&mut v, 256, &670u32.to_le_bytes());
        put(&mut v, 260, &680u32.to_le_bytes());
        (RefCell::new(v), 100)
    }

    #[test]
    fn reads_arguments_in_order_with_bounds() {
        let (mem, p) = build();
        let md = read(&mem, p).unwrap();
        assert_eq!(md.name, "brighten");
        assert_eq!(md.target, "wasm-32-wasmrt");
        assert_eq!(md.arguments.len(), 2);
        let a = &md.arguments[0];
        assert_eq!(
            (a.name.as_str(), a.kind, a.dimensions),
            ("input", ArgKind::Input, 3)
        );
        assert_eq!(a.elem, Some(ElemKind::U8));
        let g = &md.arguments[1];
        assert_eq!(g.elem, Some(ElemKind::F32));
        assert_eq!(g.default, Some(Scalar::Number(1.0)));
        assert_eq!(g.min, Some(Scalar::Number(0.0)));
        assert_eq!(g.max, Some(Scalar::Number(4.0)));
    }

    #[test]
    fn corrupt_metadata_is_a_bad_module_not_a_panic() {
        let (mem, p) = build();
        mem.borrow_mut()[104..108].copy_from_slice(&1_000_000i32.to_le_bytes());
        assert!(matches!(read(&mem, p), Err(Error::BadModule(_))));
        let (mem, p) = build();
        mem.borrow_mut()[108..112].copy_from_slice(&1000u32.to_le_bytes());
        assert!(matches!(read(&mem, p), Err(Error::BadModule(_))));
        let (mem, _) = build();
        assert!(matches!(read(&mem, 1020), Err(Error::BadModule(_))));
        let (mem, p) = build();
        mem.borrow_mut()[204] = 9;
        let e = read(&mem, p).unwrap_err();
        assert!(e.to_string().contains("unknown kind 9"), "{e}");
    }

    #[test]
    fn metadata_bombs_are_refused_quickly() {
        // Every argument's name points at one long string.
        let (mem, p) = build();
        let long = vec![b'n'; 2 * MAX_NAME_BYTES as usize];
        mem.borrow_mut().extend_from_slice(&long);
        mem.borrow_mut().push(0);
        mem.borrow_mut()[200..204].copy_from_slice(&1024u32.to_le_bytes());
        let e = read(&mem, p).unwrap_err().to_string();
        assert!(e.contains("longer than the 1024 bytes"), "{e}");
        // Names within the limit each, past it together.
        let (mem, p) = build();
        let n = (MAX_TOTAL_NAME_BYTES / 900 + 2) as usize;
        let mut v = mem.borrow().clone();
        let args = v.len();
        v.resize(args + n * 36, 0);
        let name_at = v.len();
        v.extend(vec![b'a'; 1000]);
        v.push(0);
        for i in 0..n {
            let a = args + i * 36;
            v[a..a + 4].copy_from_slice(&(name_at as u32 + (i % 900) as u32).to_le_bytes());
            v[a + 12..a + 16].copy_from_slice(&[1, 8, 1, 0]);
        }
        v[104..108].copy_from_slice(&(n as i32).to_le_bytes());
        v[108..112].copy_from_slice(&(args as u32).to_le_bytes());
        let e = read(&RefCell::new(v), p).unwrap_err().to_string();
        assert!(e.contains("add up to more than"), "{e}");
        // Too many arguments, and two arguments of one name.
        let (mem, p) = build();
        mem.borrow_mut()[104..108].copy_from_slice(&(MAX_ARGUMENTS + 1).to_le_bytes());
        assert!(read(&mem, p)
            .unwrap_err()
            .to_string()
            .contains("at most 1024"));
        let (mem, p) = build();
        mem.borrow_mut()[236..240].copy_from_slice(&640u32.to_le_bytes());
        let e = read(&mem, p).unwrap_err().to_string();
        assert!(e.contains("two arguments are named 'input'"), "{e}");
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    use super::*;
    use proptest::prelude::*;
    use std::cell::RefCell;

    proptest! {
        /// Whatever a module's memory holds, reading metadata from any
        /// pointer returns metadata or a BadModule error, never a panic.
        #[test]
        fn any_memory_reads_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..2048), ptr in 0u32..2100) {
            let mem = RefCell::new(bytes);
            match read(&mem, ptr) {
                Ok(m) => prop_assert!(m.arguments.len() <= MAX_ARGUMENTS as usize),
                Err(e) => prop_assert!(matches!(e, Error::BadModule(_))),
            }
        }
    }
}
