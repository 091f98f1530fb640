//! Bounding a module's own memory before it is compiled.
//!
//! `maxMemoryBytes` must hold at every moment, also against a guest that
//! runs `memory.grow` itself. The engine enforces a memory's declared
//! maximum on every growth, so the executor lowers the maximum in the
//! module's memory section to the caller's cap before compiling: past it
//! `memory.grow` returns -1 in the guest, and the executor's own `malloc`
//! stops there too.
//!
//! Only the memory section changes; every other byte of the module is kept.
//! The section is found by walking the section headers (an id and a LEB128
//! size each) through a `read` callback, so the executor reads a few bytes
//! per section instead of copying the whole module into its own memory.
//! (A general reader such as `wasmparser` wants the module's bytes in one
//! slice.)

/// A wasm page.
pub const PAGE: u64 = 65536;
/// The most pages a wasm32 memory can have.
pub const MAX_PAGES: u64 = 65536;

const MEMORY_SECTION: u8 = 5;
const HEADER: &[u8; 8] = b"\0asm\x01\0\0\0";

/// A memory's limits, in pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub min: u64,
    pub max: Option<u64>,
    pub shared: bool,
}

/// The module's memory section: where it is and what it declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemorySection {
    /// Byte range of the whole section (id, size and payload).
    pub start: usize,
    pub end: usize,
    pub limits: Limits,
}

/// Why a module's memory cannot be bounded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BoundError {
    /// The bytes are not a module this reader understands (the engine's
    /// compiler words it better, so the caller may compile anyway).
    Malformed(String),
    /// A memory this executor cannot bound (64-bit, several memories).
    Unsupported(String),
    /// The memory's initial size is already past the cap.
    TooLarge { min_bytes: u64, cap_bytes: u64 },
}

/// Reads an unsigned LEB128 of at most 64 bits at `at`: `(value, length)`.
fn leb(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..10 {
        let byte = *b.get(at + i)?;
        v |= ((byte & 0x7f) as u64).checked_shl(7 * i as u32)?;
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn put_leb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// One section of a module: the byte ranges of the whole section and of
/// its payload.
struct Section {
    start: usize,
    payload: usize,
    end: usize,
}

/// Finds the first section with id `want` in the module of `len` bytes;
/// `read(at, n)` returns up to `n` bytes at `at` (fewer at the end).
/// `None` when the module has none: known sections come in order, so the
/// walk stops at the first known section past `want` (custom sections, id
/// 0, may stand anywhere).
fn find_section(
    len: usize,
    read: &impl Fn(usize, usize) -> Vec<u8>,
    want: u8,
) -> Result<Option<Section>, BoundError> {
    let bad = |m: &str| BoundError::Malformed(m.to_string());
    if read(0, 8) != HEADER {
        return Err(bad("not a WebAssembly module (bad header)"));
    }
    let mut at = 8usize;
    while at < len {
        let head = read(at, 11);
        let id = *head.first().ok_or_else(|| bad("truncated section"))?;
        let (size, n) = leb(&head, 1).ok_or_else(|| bad("bad section size"))?;
        let payload = at + 1 + n;
        let end = usize::try_from(size)
            .ok()
            .and_then(|s| payload.checked_add(s))
            .filter(|e| *e <= len)
            .ok_or_else(|| bad("a section runs past the end of the module"))?;
        if id == want {
            return Ok(Some(Section {
                start: at,
                payload,
                end,
            }));
        }
        if id > want {
            return Ok(None);
        }
        at = end;
    }
    Ok(None)
}

/// Finds the memory section of the module of `len` bytes; `read(at, n)`
/// returns up to `n` bytes at `at` (fewer at the end). `None`: the module
/// defines no memory (it has none, or imports it).
pub fn find_memory_section(
    len: usize,
    read: impl Fn(usize, usize) -> Vec<u8>,
) -> Result<Option<MemorySection>, BoundError> {
    let Some(s) = find_section(len, &read, MEMORY_SECTION)? else {
        return Ok(None);
    };
    let limits = memory_limits(&read(s.payload, s.end - s.payload))?;
    Ok(Some(MemorySection {
        start: s.start,
        end: s.end,
        limits,
    }))
}

const IMPORT_SECTION: u8 = 2;

/// The limits of the memory the module imports as `env.memory` (a threaded
/// module's shared memory, which the host creates), if it imports one.
pub fn memory_import(
    len: usize,
    read: impl Fn(usize, usize) -> Vec<u8>,
) -> Result<Option<Limits>, BoundError> {
    match find_section(len, &read, IMPORT_SECTION)? {
        Some(s) => imported_memory(&read(s.payload, s.end - s.payload)),
        None => Ok(None),
    }
}

/// Walks an import section's entries for `env.memory`.
fn imported_memory(b: &[u8]) -> Result<Option<Limits>, BoundError> {
    let bad = |m: &str| BoundError::Malformed(format!("import section: {m}"));
    let (count, mut at) = leb(b, 0).ok_or_else(|| bad("bad count"))?;
    let name = |at: &mut usize| -> Result<&[u8], BoundError> {
        let (n, k) = leb(b, *at).ok_or_else(|| bad("bad name"))?;
        let start = *at + k;
        let end = usize::try_from(n)
            .ok()
            .and_then(|n| start.checked_add(n))
            .filter(|e| *e <= b.len())
            .ok_or_else(|| bad("a name runs past the section"))?;
        *at = end;
        Ok(&b[start..end])
    };
    let skip_leb = |at: &mut usize| -> Result<u64, BoundError> {
        let (v, k) = leb(b, *at).ok_or_else(|| bad("bad number"))?;
        *at += k;
        Ok(v)
    };
    for _ in 0..count {
        let module = name(&mut at)?;
        let field = name(&mut at)?;
        let kind = *b.get(at).ok_or_else(|| bad("truncated"))?;
        at += 1;
        match kind {
            0 => {
                skip_leb(&mut at)?;
            }
            1 => {
                at += 1; // reference type
                let flags = skip_leb(&mut at)?;
                skip_leb(&mut at)?;
                if flags & 1 != 0 {
                    skip_leb(&mut at)?;
                }
            }
            2 => {
                let start = at;
                let flags = skip_leb(&mut at)?;
                skip_leb(&mut at)?;
                if flags & 1 != 0 {
                    skip_leb(&mut at)?;
                }
                if module == b"env" && field == b"memory" {
                    // The same encoding as a memory section's one entry.
                    let mut one = vec![1u8];
                    one.extend_from_slice(&b[start..at]);
                    return memory_limits(&one).map(Some);
                }
            }
            3 => at += 2, // value type, mutability
            4 => {
                at += 1; // attribute
                skip_leb(&mut at)?;
            }
            k => return Err(bad(&format!("unknown import kind {k}"))),
        }
    }
    Ok(None)
}

fn memory_limits(body: &[u8]) -> Result<Limits, BoundError> {
    let bad = |m: &str| BoundError::Malformed(m.to_string());
    let (count, n) = leb(body, 0).ok_or_else(|| bad("bad memory count"))?;
    match count {
        1 => {}
        0 => return Err(bad("an empty memory section")),
        _ => {
            return Err(BoundError::Unsupported(format!(
                "the module defines {count} memories"
            )))
        }
    }
    let (flags, f) = leb(body, n).ok_or_else(|| bad("bad memory flags"))?;
    if flags & !0x3 != 0 {
        return Err(BoundError::Unsupported(format!(
            "a memory with flags {flags:#x} (64-bit or custom pages)"
        )));
    }
    let (min, m) = leb(body, n + f).ok_or_else(|| bad("bad memory minimum"))?;
    let max = if flags & 1 != 0 {
        Some(
            leb(body, n + f + m)
                .ok_or_else(|| bad("bad memory maximum"))?
                .0,
        )
    } else {
        None
    };
    Ok(Limits {
        min,
        max,
        shared: flags & 2 != 0,
    })
}

/// The maximum in pages for a memory of `limits` under a cap of
/// `cap_bytes`: `None` when its own maximum is already within the cap (no
/// change is needed).
pub fn bounded_max(limits: Limits, cap_bytes: u64) -> Result<Option<u64>, BoundError> {
    let cap = (cap_bytes / PAGE).min(MAX_PAGES);
    if limits.min > cap {
        return Err(BoundError::TooLarge {
            min_bytes: limits.min.saturating_mul(PAGE),
            cap_bytes,
        });
    }
    Ok(match limits.max {
        Some(m) if m <= cap => None,
        // Without a maximum a wasm32 memory stops at 4 GiB anyway.
        None if cap == MAX_PAGES => None,
        _ => Some(cap),
    })
}

/// The memory section declaring `limits` with maximum `max` pages.
pub fn memory_section(limits: Limits, max: u64) -> Vec<u8> {
    let mut body = vec![1u8];
    put_leb(&mut body, 1 | if limits.shared { 2 } else { 0 });
    put_leb(&mut body, limits.min);
    put_leb(&mut body, max);
    let mut out = vec![MEMORY_SECTION];
    put_leb(&mut out, body.len() as u64);
    out.extend(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module: header, a custom section, a type section, the memory
    /// section `mem`, an export section.
    fn module(mem: &[u8]) -> Vec<u8> {
        let mut m = HEADER.to_vec();
        m.extend([0, 3, 1, b'x', 9]); // custom "x"
        m.extend([1, 1, 0]); // no types
        m.push(5);
        put_leb(&mut m, mem.len() as u64);
        m.extend(mem);
        m.extend([7, 1, 0]); // no exports
        m
    }

    fn find(m: &[u8]) -> Result<Option<MemorySection>, BoundError> {
        find_memory_section(m.len(), |at, n| {
            m.get(at..(at + n).min(m.len())).unwrap_or(&[]).to_vec()
        })
    }

    #[test]
    fn finds_and_rewrites_the_memory_section() {
        let m = module(&[1, 0, 17]);
        let s = find(&m).unwrap().unwrap();
        assert_eq!(
            s.limits,
            Limits {
                min: 17,
                max: None,
                shared: false
            }
        );
        assert_eq!(
            bounded_max(s.limits, 1 << 20),
            Err(BoundError::TooLarge {
                min_bytes: 17 * PAGE,
                cap_bytes: 1 << 20
            })
        );
        assert_eq!(bounded_max(s.limits, 64 << 20), Ok(Some(1024)));
        assert_eq!(bounded_max(s.limits, 4 << 30), Ok(None));
        let mut patched = m[..s.start].to_vec();
        patched.extend(memory_section(s.limits, 1024));
        patched.extend(&m[s.end..]);
        let t = find(&patched).unwrap().unwrap();
        assert_eq!(t.limits.max, Some(1024));
        assert_eq!(t.limits.min, 17);
        assert_eq!(&patched[t.end..], &[7, 1, 0]);
        // A maximum already within the cap stays.
        let m = module(&[1, 1, 2, 4]);
        let s = find(&m).unwrap().unwrap();
        assert_eq!(bounded_max(s.limits, 1 << 20), Ok(None));
    }

    #[test]
    fn finds_an_imported_shared_memory() {
        let mut m = HEADER.to_vec();
        // imports: env.f (func 0), env.memory (shared, 17..16384 pages)
        let mut body = vec![2u8];
        body.extend([3, b'e', b'n', b'v', 1, b'f', 0, 0]);
        body.extend([3, b'e', b'n', b'v', 6]);
        body.extend(b"memory");
        body.extend([2, 3, 17]);
        put_leb(&mut body, 16384);
        m.push(2);
        put_leb(&mut m, body.len() as u64);
        m.extend(body);
        let read = |at: usize, n: usize| m.get(at..(at + n).min(m.len())).unwrap_or(&[]).to_vec();
        assert_eq!(
            memory_import(m.len(), read),
            Ok(Some(Limits {
                min: 17,
                max: Some(16384),
                shared: true
            }))
        );
        let plain = module(&[1, 0, 1]);
        let read = |at: usize, n: usize| {
            plain
                .get(at..(at + n).min(plain.len()))
                .unwrap_or(&[])
                .to_vec()
        };
        assert_eq!(memory_import(plain.len(), read), Ok(None));
    }

    #[test]
    fn odd_modules_are_refused_not_misread() {
        assert!(matches!(
            find(b"\0asm\x02\0\0\0"),
            Err(BoundError::Malformed(_))
        ));
        assert!(matches!(
            find(&module(&[2, 0, 1, 0, 1])),
            Err(BoundError::Unsupported(_))
        ));
        assert!(matches!(
            find(&module(&[1, 4, 1])),
            Err(BoundError::Unsupported(_))
        ));
        let mut m = module(&[1, 0, 1]);
        m.truncate(m.len() - 4);
        assert!(matches!(find(&m), Err(BoundError::Malformed(_))));
        // No memory section.
        let mut m = HEADER.to_vec();
        m.extend([1, 1, 0, 7, 1, 0]);
        assert_eq!(find(&m), Ok(None));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any bytes: a section, none, or an error; never a panic.
        #[test]
        fn any_bytes_are_read_or_refused(tail in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut m = HEADER.to_vec();
            m.extend(tail);
            let read = |at: usize, n: usize| m.get(at..(at + n).min(m.len())).unwrap_or(&[]).to_vec();
            let _ = find_memory_section(m.len(), read);
            let _ = memory_import(m.len(), read);
        }

        /// Rewritten limits read back as written.
        #[test]
        fn rewritten_sections_round_trip(min in 0u64..70000, max in 0u64..70000, shared in any::<bool>()) {
            let l = Limits { min, max: None, shared };
            let s = memory_section(l, max);
            let got = memory_limits(&s[1 + leb(&s, 1).unwrap().1..]).unwrap();
            prop_assert_eq!(got, Limits { min, max: Some(max), shared });
        }
    }
}
