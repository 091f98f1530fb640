//! The executor's typed errors.
//!
//! Every failure is one of a few kinds that a caller can act on: the module is
//! not a Halide pipeline, an argument is wrong, the guest touched memory it
//! does not own, the guest ran out of memory, Halide reported an error, or the
//! guest aborted or trapped. The JavaScript layer turns each into a
//! `HalideError` whose `code` is [`Error::code`].

use std::fmt;

/// A fault in an access to the guest's memory, always caused by a pointer or
/// length that the guest (or a caller) supplied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GuestError {
    /// `[ptr, ptr + len)` is not inside the memory of `size` bytes.
    OutOfBounds { ptr: u64, len: u64, size: u64 },
    /// No NUL byte between `ptr` and the end of the memory.
    Unterminated { ptr: u32 },
    /// `free` of a pointer that `malloc` never returned (or freed twice).
    InvalidFree { ptr: u32 },
    /// A string the host reads is longer than it reads (`limit` bytes).
    TooLong { ptr: u32, limit: u32 },
    /// A trace packet the runtime wrote is malformed or larger than the
    /// host accepts.
    BadTracePacket(String),
}

impl fmt::Display for GuestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuestError::OutOfBounds { ptr, len, size } => write!(
                f,
                "guest memory access out of bounds: {len} bytes at {ptr:#x} in a memory of {size} bytes"
            ),
            GuestError::Unterminated { ptr } => {
                write!(f, "string at {ptr:#x} is not NUL-terminated before the end of guest memory")
            }
            GuestError::InvalidFree { ptr } => {
                write!(f, "free({ptr:#x}) of a pointer that malloc did not return")
            }
            GuestError::TooLong { ptr, limit } => {
                write!(f, "string at {ptr:#x} is longer than the {limit} bytes the host reads")
            }
            GuestError::BadTracePacket(m) => write!(f, "bad trace packet: {m}"),
        }
    }
}

/// Any failure of loading or running a pipeline.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The bytes are not a usable Halide pipeline module.
    BadModule(String),
    /// A caller-supplied argument is wrong; `arg` names it when there is one.
    BadArgument {
        arg: Option<String>,
        message: String,
    },
    /// The guest passed a bad pointer to the host.
    Guest(GuestError),
    /// The executor could not allocate `requested` bytes in the guest.
    OutOfMemory { requested: u64, limit: u64 },
    /// The pipeline returned a non-zero Halide error code.
    Halide { code: i32, message: String },
    /// The guest called `abort()` (Halide's ahead-of-time error path).
    Abort(String),
    /// The guest trapped (out-of-bounds access, `unreachable`, stack overflow...).
    Trap(String),
    /// A host callback (extern, trace, print) threw.
    Callback(String),
    /// The pipeline was disposed.
    Disposed,
}

impl Error {
    pub fn bad_arg(arg: &str, message: impl Into<String>) -> Error {
        Error::BadArgument {
            arg: Some(arg.to_string()),
            message: message.into(),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Error {
        Error::BadArgument {
            arg: None,
            message: message.into(),
        }
    }

    /// The `code` a JavaScript caller sees: Halide's negative error code, or
    /// one of the strings below.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::BadModule(_) => ErrorCode::Name("bad-module"),
            Error::BadArgument { .. } => ErrorCode::Name("bad-argument"),
            Error::Guest(_) | Error::Trap(_) => ErrorCode::Name("trap"),
            Error::OutOfMemory { .. } => ErrorCode::Name("out-of-memory"),
            Error::Halide { code, .. } => ErrorCode::Halide(*code),
            Error::Abort(_) => ErrorCode::Name("abort"),
            Error::Callback(_) => ErrorCode::Name("callback"),
            Error::Disposed => ErrorCode::Name("disposed"),
        }
    }
}

/// See [`Error::code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    Halide(i32),
    Name(&'static str),
}

impl From<GuestError> for Error {
    fn from(e: GuestError) -> Error {
        Error::Guest(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadModule(m) => write!(f, "not a usable Halide pipeline: {m}"),
            Error::BadArgument { arg: Some(a), message } => write!(f, "argument '{a}': {message}"),
            Error::BadArgument { arg: None, message } => f.write_str(message),
            Error::Guest(e) => write!(f, "{e}"),
            Error::OutOfMemory { requested, limit } => write!(
                f,
                "out of memory: cannot allocate {requested} bytes in the guest (memory limit {limit} bytes)"
            ),
            Error::Halide { code, message } if message.is_empty() => {
                write!(f, "pipeline returned Halide error code {code}")
            }
            Error::Halide { code, message } => write!(f, "{message} (Halide error code {code})"),
            Error::Abort(m) if m.is_empty() => f.write_str("the pipeline called abort()"),
            Error::Abort(m) => f.write_str(m),
            Error::Trap(m) => write!(f, "the pipeline trapped: {m}"),
            Error::Callback(m) => f.write_str(m),
            Error::Disposed => f.write_str("this Pipeline was disposed"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_argument_and_the_fault() {
        let e = Error::bad_arg("gain", "expected a number");
        assert_eq!(e.to_string(), "argument 'gain': expected a number");
        assert_eq!(e.code(), ErrorCode::Name("bad-argument"));
        let g: Error = GuestError::OutOfBounds {
            ptr: 16,
            len: 8,
            size: 20,
        }
        .into();
        assert!(g.to_string().contains("8 bytes at 0x10"));
        assert_eq!(g.code(), ErrorCode::Name("trap"));
        assert_eq!(
            Error::Halide {
                code: -27,
                message: String::new()
            }
            .code(),
            ErrorCode::Halide(-27)
        );
    }
}
