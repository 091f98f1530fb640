//! Reading and writing a guest's linear memory through checked offsets.
//!
//! The pure core never holds a pointer into foreign memory: it asks a
//! [`GuestMemory`] for bytes at a guest offset, and the implementation checks
//! every offset and length against the memory's current size. The
//! JavaScript layer implements it over a `WebAssembly.Memory`; tests use a
//! plain `Vec<u8>`.

use crate::core::error::GuestError;

/// Longest C string the host copies out of the guest (names, paths, the
/// needle of `strstr`): what a guest can make the executor hold at once.
/// Text the guest prints is streamed instead (see [`crate::core::libc`]).
pub const MAX_CSTR: u32 = 64 * 1024;

/// Fails unless `[ptr, ptr + len)` lies inside a memory of `size` bytes.
pub fn check_within(ptr: u32, len: u64, size: u64) -> Result<(), GuestError> {
    if ptr as u64 + len > size {
        return Err(GuestError::OutOfBounds {
            ptr: ptr as u64,
            len,
            size,
        });
    }
    Ok(())
}

/// Checked access to a guest's linear memory.
pub trait GuestMemory {
    /// Current size in bytes.
    fn size(&self) -> u64;

    /// Copies `out.len()` bytes from guest offset `ptr`.
    fn read(&self, ptr: u32, out: &mut [u8]) -> Result<(), GuestError>;

    /// Copies `bytes` to guest offset `ptr`.
    fn write(&self, ptr: u32, bytes: &[u8]) -> Result<(), GuestError>;

    /// Fails unless `[ptr, ptr + len)` lies inside the memory.
    fn check(&self, ptr: u32, len: u64) -> Result<(), GuestError> {
        check_within(ptr, len, self.size())
    }

    fn read_array<const N: usize>(&self, ptr: u32) -> Result<[u8; N], GuestError> {
        let mut b = [0u8; N];
        self.read(ptr, &mut b)?;
        Ok(b)
    }

    fn read_u32(&self, ptr: u32) -> Result<u32, GuestError> {
        Ok(u32::from_le_bytes(self.read_array(ptr)?))
    }

    fn read_i32(&self, ptr: u32) -> Result<i32, GuestError> {
        Ok(i32::from_le_bytes(self.read_array(ptr)?))
    }

    /// Reads the NUL-terminated string at `ptr` (lossy UTF-8), of at most
    /// [`MAX_CSTR`] bytes.
    fn read_cstr(&self, ptr: u32) -> Result<String, GuestError> {
        self.read_cstr_limited(ptr, MAX_CSTR)
    }

    /// Reads the NUL-terminated string at `ptr` (lossy UTF-8), of at most
    /// `limit` bytes before its NUL.
    fn read_cstr_limited(&self, ptr: u32, limit: u32) -> Result<String, GuestError> {
        let bytes = self.read_cstr_bytes_limited(ptr, limit)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Reads the bytes of the NUL-terminated string at `ptr`, without the
    /// NUL, of at most [`MAX_CSTR`] bytes.
    fn read_cstr_bytes(&self, ptr: u32) -> Result<Vec<u8>, GuestError> {
        self.read_cstr_bytes_limited(ptr, MAX_CSTR)
    }

    /// Reads the bytes of the NUL-terminated string at `ptr`, without the
    /// NUL: a string longer than `limit` is refused after reading at most
    /// `limit + 256` bytes, so the guest decides nothing about what the host
    /// allocates beyond `limit`.
    fn read_cstr_bytes_limited(&self, ptr: u32, limit: u32) -> Result<Vec<u8>, GuestError> {
        let size = self.size();
        let mut out = Vec::new();
        let mut at = ptr as u64;
        let mut chunk = [0u8; 256];
        loop {
            if at >= size {
                return Err(GuestError::Unterminated { ptr });
            }
            let n = (size - at).min(chunk.len() as u64) as usize;
            self.read(at as u32, &mut chunk[..n])?;
            if let Some(z) = chunk[..n].iter().position(|&c| c == 0) {
                out.extend_from_slice(&chunk[..z]);
                break;
            }
            out.extend_from_slice(&chunk[..n]);
            if out.len() as u64 > limit as u64 {
                break;
            }
            at += n as u64;
        }
        if out.len() as u64 > limit as u64 {
            return Err(GuestError::TooLong { ptr, limit });
        }
        Ok(out)
    }
}

/// A guest memory held in host memory: for tests and tools.
impl GuestMemory for std::cell::RefCell<Vec<u8>> {
    fn size(&self) -> u64 {
        self.borrow().len() as u64
    }

    fn read(&self, ptr: u32, out: &mut [u8]) -> Result<(), GuestError> {
        self.check(ptr, out.len() as u64)?;
        out.copy_from_slice(&self.borrow()[ptr as usize..ptr as usize + out.len()]);
        Ok(())
    }

    fn write(&self, ptr: u32, bytes: &[u8]) -> Result<(), GuestError> {
        self.check(ptr, bytes.len() as u64)?;
        self.borrow_mut()[ptr as usize..ptr as usize + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn reads_are_checked() {
        let m = RefCell::new(vec![0u8; 16]);
        m.write(4, &7u32.to_le_bytes()).unwrap();
        assert_eq!(m.read_u32(4).unwrap(), 7);
        assert_eq!(
            m.read_u32(14),
            Err(GuestError::OutOfBounds {
                ptr: 14,
                len: 4,
                size: 16
            })
        );
        assert!(m.write(u32::MAX, &[1]).is_err());
    }

    #[test]
    fn cstrings_stop_at_nul_or_fail_at_the_end() {
        let mut v = vec![b'x'; 600];
        v[500] = 0;
        let m = RefCell::new(v);
        assert_eq!(m.read_cstr(10).unwrap().len(), 490);
        assert_eq!(m.read_cstr(501), Err(GuestError::Unterminated { ptr: 501 }));
        assert_eq!(m.read_cstr(600), Err(GuestError::Unterminated { ptr: 600 }));
    }

    #[test]
    fn cstrings_past_the_limit_are_refused() {
        let mut v = vec![b'x'; 4000];
        v[3000] = 0;
        let m = RefCell::new(v);
        assert_eq!(m.read_cstr_limited(0, 3000).unwrap().len(), 3000);
        assert_eq!(
            m.read_cstr_limited(0, 2999),
            Err(GuestError::TooLong {
                ptr: 0,
                limit: 2999
            })
        );
        assert_eq!(
            m.read_cstr_limited(10, 100),
            Err(GuestError::TooLong {
                ptr: 10,
                limit: 100
            })
        );
    }
}
