//! The guest's C string and memory functions, over any [`GuestMemory`].
//!
//! Every length and pointer here comes from the guest, so each is hostile
//! until checked: a range is checked against the memory before anything is
//! read, and nothing the host allocates depends on a guest length. Strings
//! and ranges are walked in fixed chunks ([`CHUNK`] bytes on the stack,
//! [`TEXT_CHUNK`] for text the guest prints), so `memcmp(a, b, 0xFFFFFFFF)`
//! or `write(1, p, 2 GiB)` costs the executor no more memory than
//! `write(1, p, 1)`. Only `strstr` holds a string, its needle, and at most
//! [`MAX_CSTR`](crate::core::memory::MAX_CSTR) bytes of it.
//!
//! Pure Rust, tested natively (`props` below fuzzes every function against
//! a plain reference over random memories and hostile arguments); the wasm
//! layer exports these as the guest's imports.

use crate::core::error::GuestError;
use crate::core::memory::GuestMemory;

/// Bytes compared or scanned per read of the guest memory.
pub const CHUNK: usize = 4096;
/// Bytes of printed text decoded per read: a longer `write` reaches the
/// caller's `print` in pieces of at most this many bytes.
pub const TEXT_CHUNK: u32 = 64 * 1024;

/// Reads `[at, at + out.len())`, clipped to the memory: the number of bytes
/// read (0 at or past the end).
fn read_clipped(
    m: &impl GuestMemory,
    size: u64,
    at: u64,
    out: &mut [u8],
) -> Result<usize, GuestError> {
    if at >= size {
        return Ok(0);
    }
    let n = (size - at).min(out.len() as u64) as usize;
    m.read(at as u32, &mut out[..n])?;
    Ok(n)
}

/// `memcmp(a, b, n)`: both ranges must lie in the memory.
pub fn memcmp(m: &impl GuestMemory, a: u32, b: u32, n: u32) -> Result<i32, GuestError> {
    m.check(a, n as u64)?;
    m.check(b, n as u64)?;
    let (mut x, mut y) = ([0u8; CHUNK], [0u8; CHUNK]);
    let mut done = 0u64;
    while done < n as u64 {
        let len = (n as u64 - done).min(CHUNK as u64) as usize;
        m.read((a as u64 + done) as u32, &mut x[..len])?;
        m.read((b as u64 + done) as u32, &mut y[..len])?;
        if let Some(i) = (0..len).find(|&i| x[i] != y[i]) {
            return Ok(x[i] as i32 - y[i] as i32);
        }
        done += len as u64;
    }
    Ok(0)
}

/// `strncmp(a, b, n)` (`strcmp` is `n = u32::MAX`): a string that runs off
/// the end of the memory before the comparison ends is a fault.
pub fn strncmp(m: &impl GuestMemory, a: u32, b: u32, n: u32) -> Result<i32, GuestError> {
    let size = m.size();
    let (mut x, mut y) = ([0u8; CHUNK], [0u8; CHUNK]);
    let mut done = 0u64;
    while done < n as u64 {
        let want = (n as u64 - done).min(CHUNK as u64) as usize;
        let got_x = read_clipped(m, size, a as u64 + done, &mut x[..want])?;
        let got_y = read_clipped(m, size, b as u64 + done, &mut y[..want])?;
        let len = got_x.min(got_y);
        for i in 0..len {
            let (p, q) = (x[i], y[i]);
            if p != q || p == 0 {
                return Ok(p as i32 - q as i32);
            }
        }
        if len < want {
            let ptr = if got_x == len { a } else { b };
            return Err(GuestError::Unterminated { ptr });
        }
        done += len as u64;
    }
    Ok(0)
}

/// `strchr(s, c)`: the address of the first `c` in the string at `s`, of
/// its NUL when `c` is 0, else 0.
pub fn strchr(m: &impl GuestMemory, s: u32, c: u8) -> Result<u32, GuestError> {
    let size = m.size();
    let mut buf = [0u8; CHUNK];
    let mut at = s as u64;
    loop {
        let got = read_clipped(m, size, at, &mut buf)?;
        if got == 0 {
            return Err(GuestError::Unterminated { ptr: s });
        }
        for (i, &b) in buf[..got].iter().enumerate() {
            if b == c {
                return Ok((at + i as u64) as u32);
            }
            if b == 0 {
                return Ok(0);
            }
        }
        at += got as u64;
    }
}

/// `strstr(h, n)`: the address of the first occurrence of the string at
/// `n` in the string at `h`, else 0. The needle is read whole (at most
/// [`MAX_CSTR`](crate::core::memory::MAX_CSTR) bytes); the haystack is scanned in chunks.
pub fn strstr(m: &impl GuestMemory, h: u32, n: u32) -> Result<u32, GuestError> {
    let needle = m.read_cstr_bytes(n)?;
    if needle.is_empty() {
        // Still a string: it must end inside the memory.
        strchr(m, h, 0)?;
        return Ok(h);
    }
    let size = m.size();
    let keep = needle.len() - 1;
    // `window[0]` is at guest address `base`.
    let mut window: Vec<u8> = Vec::with_capacity(keep + CHUNK);
    let mut base = h as u64;
    let mut chunk = [0u8; CHUNK];
    loop {
        let at = base + window.len() as u64;
        let got = read_clipped(m, size, at, &mut chunk)?;
        if got == 0 {
            return Err(GuestError::Unterminated { ptr: h });
        }
        let (part, ended) = match chunk[..got].iter().position(|&b| b == 0) {
            Some(z) => (&chunk[..z], true),
            None => (&chunk[..got], false),
        };
        window.extend_from_slice(part);
        if let Some(i) = window
            .windows(needle.len())
            .position(|w| w == needle.as_slice())
        {
            return Ok((base + i as u64) as u32);
        }
        if ended {
            return Ok(0);
        }
        let drop = window.len().saturating_sub(keep);
        window.drain(..drop);
        base += drop as u64;
    }
}

/// `atoi(s)`: leading white space, a sign, decimal digits; C leaves
/// overflow undefined, and this wraps.
pub fn atoi(m: &impl GuestMemory, s: u32) -> Result<i32, GuestError> {
    let bytes = m.read_cstr_bytes(s)?;
    let mut it = bytes
        .iter()
        .copied()
        .skip_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .peekable();
    let negative = match it.peek() {
        Some(b'-') => {
            it.next();
            true
        }
        Some(b'+') => {
            it.next();
            false
        }
        _ => false,
    };
    let mut v: i32 = 0;
    for b in it.take_while(u8::is_ascii_digit) {
        v = v.wrapping_mul(10).wrapping_add((b - b'0') as i32);
    }
    Ok(if negative { v.wrapping_neg() } else { v })
}

/// Calls `each` with `[p, p + n)` in pieces of at most `chunk` bytes, after
/// checking the whole range: a bad range reads nothing.
pub fn for_each_piece<E: From<GuestError>>(
    m: &impl GuestMemory,
    p: u32,
    n: u32,
    chunk: u32,
    mut each: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<(), E> {
    m.check(p, n as u64)?;
    let mut buf = vec![0u8; n.min(chunk.max(1)) as usize];
    let mut done = 0u64;
    while done < n as u64 {
        let len = (n as u64 - done).min(buf.len() as u64) as usize;
        m.read((p as u64 + done) as u32, &mut buf[..len])?;
        each(&buf[..len])?;
        done += len as u64;
    }
    Ok(())
}

/// Where a trailing, still incomplete UTF-8 sequence starts in `bytes` (its
/// length when there is none): the bytes from there wait for the next piece.
pub fn utf8_complete_len(bytes: &[u8]) -> usize {
    // A sequence is at most 4 bytes: look at the last 3 for its lead byte.
    for back in 1..=bytes.len().min(3) {
        let i = bytes.len() - back;
        let b = bytes[i];
        if b & 0xC0 == 0x80 {
            continue; // a continuation byte: its lead is further back
        }
        let need = match b {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return bytes.len(), // ASCII or never a lead byte: complete
        };
        // Only a lead whose sequence is a valid prefix so far is held back.
        let tail = &bytes[i..];
        let valid_prefix = std::str::from_utf8(tail)
            .err()
            .is_some_and(|e| e.valid_up_to() == 0 && e.error_len().is_none());
        return if back < need && valid_prefix {
            i
        } else {
            bytes.len()
        };
    }
    bytes.len()
}

/// Decodes text that arrives in pieces (lossy UTF-8, as one string would
/// be decoded): a character split between two pieces is kept whole.
#[derive(Default)]
pub struct TextPieces {
    carry: Vec<u8>,
}

impl TextPieces {
    /// The text of `piece`, with what the last piece left incomplete.
    pub fn push(&mut self, piece: &[u8]) -> String {
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(piece);
        let cut = utf8_complete_len(&bytes);
        self.carry = bytes.split_off(cut);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// What is left at the end (an incomplete character, as U+FFFD).
    pub fn finish(self) -> String {
        String::from_utf8_lossy(&self.carry).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn mem(bytes: &[u8]) -> RefCell<Vec<u8>> {
        RefCell::new(bytes.to_vec())
    }

    #[test]
    fn huge_lengths_are_faults_before_anything_is_read() {
        let m = mem(&[0u8; 64]);
        assert!(matches!(
            memcmp(&m, 0, 8, u32::MAX),
            Err(GuestError::OutOfBounds { .. })
        ));
        let e = for_each_piece::<GuestError>(&m, 0, 2_147_483_000, TEXT_CHUNK, |_| {
            panic!("nothing may be read")
        });
        assert!(matches!(e, Err(GuestError::OutOfBounds { .. })));
    }

    #[test]
    fn string_functions_follow_c() {
        let m = mem(b"hello\0help\0\0lo\0");
        assert_eq!(strncmp(&m, 0, 6, 3), Ok(0));
        assert!(strncmp(&m, 0, 6, 4).unwrap() < 0);
        assert_eq!(strchr(&m, 0, b'l'), Ok(2));
        assert_eq!(strchr(&m, 0, 0), Ok(5));
        assert_eq!(strchr(&m, 0, b'z'), Ok(0));
        assert_eq!(strstr(&m, 0, 12), Ok(3));
        assert_eq!(strstr(&m, 6, 12), Ok(0));
        assert_eq!(strstr(&m, 0, 11), Ok(0));
        // Runs off the end.
        let m = mem(b"abc");
        assert_eq!(
            strchr(&m, 0, b'z'),
            Err(GuestError::Unterminated { ptr: 0 })
        );
        assert_eq!(
            strncmp(&m, 0, 0, 10),
            Err(GuestError::Unterminated { ptr: 0 })
        );
    }

    #[test]
    fn atoi_reads_like_c() {
        let m = mem(b"  -42x\0+7\0abc\0 2147483648\0");
        assert_eq!(atoi(&m, 0), Ok(-42));
        assert_eq!(atoi(&m, 7), Ok(7));
        assert_eq!(atoi(&m, 10), Ok(0));
        assert_eq!(atoi(&m, 14), Ok(i32::MIN));
        assert!(atoi(&m, 100).is_err());
    }

    #[test]
    fn text_split_inside_a_character_is_kept_whole() {
        let s = "añ€𝄞".as_bytes();
        for cut in 0..=s.len() {
            let mut t = TextPieces::default();
            let mut out = t.push(&s[..cut]);
            out += &t.push(&s[cut..]);
            out += &t.finish();
            assert_eq!(out, "añ€𝄞", "cut at {cut}");
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    //! Each function against a plain reference over the whole memory, with
    //! arguments that are often hostile (past the end, near `u32::MAX`).
    use super::*;
    use proptest::prelude::*;
    use std::cell::RefCell;

    /// The C string at `p`, or `None` when it runs off the end.
    fn cstr(v: &[u8], p: u32) -> Option<&[u8]> {
        let s = v.get(p as usize..)?;
        s.iter().position(|&b| b == 0).map(|z| &s[..z])
    }

    fn ptr(len: usize) -> impl Strategy<Value = u32> {
        prop_oneof![
            0..(len as u32 + 8),
            Just(u32::MAX),
            Just(u32::MAX - 3),
            Just(0x8000_0000u32),
            any::<u32>(),
        ]
    }

    fn memory() -> impl Strategy<Value = Vec<u8>> {
        // Mostly a small alphabet with NULs, so that strings match.
        proptest::collection::vec(
            prop_oneof![Just(0u8), Just(b'a'), Just(b'b'), any::<u8>()],
            0..600,
        )
    }

    proptest! {
        #[test]
        fn memcmp_matches_slices(v in memory(), a in ptr(600), b in ptr(600), n in prop_oneof![0u32..700, any::<u32>()]) {
            let m = RefCell::new(v.clone());
            let want = v.get(a as usize..).and_then(|x| x.get(..n as usize)).zip(
                v.get(b as usize..).and_then(|y| y.get(..n as usize)));
            match (memcmp(&m, a, b, n), want) {
                (Ok(r), Some((x, y))) => prop_assert_eq!(r.signum(), (x.cmp(y) as i32).signum()),
                (Err(GuestError::OutOfBounds { .. }), None) => {}
                (r, w) => prop_assert!(false, "{:?} vs {:?}", r, w.is_some()),
            }
        }

        #[test]
        fn strncmp_matches_c(v in memory(), a in ptr(600), b in ptr(600), n in prop_oneof![0u32..64, Just(u32::MAX)]) {
            let m = RefCell::new(v.clone());
            // Reference: byte by byte, as C does.
            let mut want = Ok(0);
            for i in 0..n as u64 {
                let (x, y) = (v.get((a as u64 + i) as usize), v.get((b as u64 + i) as usize));
                match (x, y) {
                    (Some(&p), Some(&q)) if p != q || p == 0 => { want = Ok(p as i32 - q as i32); break; }
                    (Some(_), Some(_)) => {}
                    _ => { want = Err(()); break; }
                }
            }
            match (strncmp(&m, a, b, n), want) {
                (Ok(r), Ok(w)) => prop_assert_eq!(r, w),
                (Err(GuestError::Unterminated { .. }), Err(())) => {}
                (r, w) => prop_assert!(false, "{:?} vs {:?}", r, w),
            }
        }

        #[test]
        fn strchr_matches_c(v in memory(), s in ptr(600), c in prop_oneof![Just(0u8), Just(b'a'), any::<u8>()]) {
            let m = RefCell::new(v.clone());
            let want = cstr(&v, s).map(|st| {
                if c == 0 { s + st.len() as u32 }
                else { st.iter().position(|&b| b == c).map(|i| s + i as u32).unwrap_or(0) }
            });
            match (strchr(&m, s, c), want) {
                (Ok(r), Some(w)) => prop_assert_eq!(r, w),
                // C would find c before running off the end.
                (Ok(r), None) => prop_assert_eq!(v[r as usize], c),
                (Err(GuestError::Unterminated { .. }), None) => {}
                (r, w) => prop_assert!(false, "{:?} vs {:?}", r, w),
            }
        }

        #[test]
        fn strstr_matches_c(v in memory(), h in ptr(600), n in ptr(600)) {
            let m = RefCell::new(v.clone());
            let want = cstr(&v, h).zip(cstr(&v, n)).map(|(hay, nd)| {
                if nd.is_empty() { h } else {
                    hay.windows(nd.len()).position(|w| w == nd).map(|i| h + i as u32).unwrap_or(0)
                }
            });
            match (strstr(&m, h, n), want) {
                (Ok(r), Some(w)) => prop_assert_eq!(r, w),
                (Err(GuestError::Unterminated { .. }), None) => {}
                (r, w) => prop_assert!(false, "{:?} vs {:?}", r, w),
            }
        }

        #[test]
        fn pieces_cover_the_range_in_bounded_reads(v in memory(), p in ptr(600), n in prop_oneof![0u32..700, any::<u32>()], chunk in 1u32..100) {
            let m = RefCell::new(v.clone());
            let mut got = Vec::new();
            let r = for_each_piece::<GuestError>(&m, p, n, chunk, |b| {
                assert!(b.len() <= chunk as usize);
                got.extend_from_slice(b);
                Ok(())
            });
            match v.get(p as usize..).and_then(|s| s.get(..n as usize)) {
                Some(want) => { prop_assert!(r.is_ok()); prop_assert_eq!(got, want.to_vec()); }
                None => { prop_assert!(r.is_err()); prop_assert!(got.is_empty()); }
            }
        }

        #[test]
        fn text_in_pieces_decodes_as_a_whole(bytes in proptest::collection::vec(any::<u8>(), 0..200), cuts in proptest::collection::vec(0usize..200, 0..6)) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort();
            let mut t = TextPieces::default();
            let mut out = String::new();
            let mut from = 0;
            for c in cuts.into_iter().chain([bytes.len()]) {
                out += &t.push(&bytes[from..c]);
                from = c;
            }
            out += &t.finish();
            prop_assert_eq!(out, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
}
