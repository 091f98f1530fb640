//! Reads of a guest memory through a cache of 4 KiB pages.
//!
//! Every read of the pipeline's memory from the executor's wasm crosses
//! into JavaScript (a view, a length, a copy: a few crossings each).
//! Reading the pipeline's metadata chases pointers through a few hundred
//! bytes of its static data in ~30 small reads; through [`ReadCache`] they
//! cost one copy per page touched. The cache lives only while nothing else
//! can write the memory (reading metadata before any guest code runs).

use std::cell::RefCell;

use crate::core::error::GuestError;
use crate::core::memory::{check_within, GuestMemory};

/// Bytes per cached page.
const PAGE: u64 = 4096;
/// Pages kept at once: whatever a module's metadata points at, the cache
/// holds at most 256 KiB of the executor's memory (it starts over when full).
const MAX_PAGES: usize = 64;

/// A [`GuestMemory`] that answers reads from copies of whole pages of
/// `mem`, fetched once each. Writes go through and drop the pages they
/// touch.
pub struct ReadCache<'a, M: GuestMemory> {
    mem: &'a M,
    size: u64,
    /// `(page start, bytes)`; the last page may be short.
    pages: RefCell<Vec<(u64, Vec<u8>)>>,
}

impl<'a, M: GuestMemory> ReadCache<'a, M> {
    /// A cache over `mem`, whose size is taken now.
    pub fn new(mem: &'a M) -> Self {
        ReadCache {
            mem,
            size: mem.size(),
            pages: RefCell::new(Vec::new()),
        }
    }

    /// Copies the bytes of page `start` that `[at, at + out.len())` covers.
    fn copy_from_page(&self, start: u64, at: u64, out: &mut [u8]) -> Result<(), GuestError> {
        let mut pages = self.pages.borrow_mut();
        let i = match pages.iter().position(|(s, _)| *s == start) {
            Some(i) => i,
            None => {
                let len = PAGE.min(self.size - start) as usize;
                let mut bytes = vec![0; len];
                self.mem.read(start as u32, &mut bytes)?;
                if pages.len() >= MAX_PAGES {
                    pages.clear();
                }
                pages.push((start, bytes));
                pages.len() - 1
            }
        };
        let from = (at - start) as usize;
        out.copy_from_slice(&pages[i].1[from..from + out.len()]);
        Ok(())
    }
}

impl<M: GuestMemory> GuestMemory for ReadCache<'_, M> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read(&self, ptr: u32, out: &mut [u8]) -> Result<(), GuestError> {
        check_within(ptr, out.len() as u64, self.size)?;
        let mut at = ptr as u64;
        let mut done = 0;
        while done < out.len() {
            let start = at / PAGE * PAGE;
            let n = ((start + PAGE - at) as usize).min(out.len() - done);
            self.copy_from_page(start, at, &mut out[done..done + n])?;
            done += n;
            at += n as u64;
        }
        Ok(())
    }

    fn write(&self, ptr: u32, bytes: &[u8]) -> Result<(), GuestError> {
        self.mem.write(ptr, bytes)?;
        let (lo, hi) = (ptr as u64, ptr as u64 + bytes.len() as u64);
        self.pages
            .borrow_mut()
            .retain(|(s, b)| *s + b.len() as u64 <= lo || hi <= *s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    /// A host-memory guest that counts the reads that reach it.
    struct Counted {
        mem: RefCell<Vec<u8>>,
        reads: Cell<usize>,
    }

    impl GuestMemory for Counted {
        fn size(&self) -> u64 {
            self.mem.size()
        }
        fn read(&self, ptr: u32, out: &mut [u8]) -> Result<(), GuestError> {
            self.reads.set(self.reads.get() + 1);
            self.mem.read(ptr, out)
        }
        fn write(&self, ptr: u32, bytes: &[u8]) -> Result<(), GuestError> {
            self.mem.write(ptr, bytes)
        }
    }

    fn counted(len: usize) -> Counted {
        Counted {
            mem: RefCell::new((0..len).map(|i| (i * 7 % 251) as u8).collect()),
            reads: Cell::new(0),
        }
    }

    #[test]
    fn reads_match_the_memory_and_fetch_each_page_once() {
        let m = counted(3 * 4096 + 100);
        let c = ReadCache::new(&m);
        for (ptr, len) in [
            (0u32, 4usize),
            (10, 4),
            (4090, 12),
            (4096, 8),
            (8190, 4190),
            (12287, 100),
        ] {
            let mut got = vec![0; len];
            c.read(ptr, &mut got).unwrap();
            let mut want = vec![0; len];
            m.mem.read(ptr, &mut want).unwrap();
            assert_eq!(got, want, "{ptr}+{len}");
        }
        // Pages 0, 1, 2 and the short last page 3, once each.
        assert_eq!(m.reads.get(), 4);
        assert_eq!(
            c.read_cstr_bytes(4095).unwrap().len(),
            m.mem.read_cstr_bytes(4095).unwrap().len()
        );
        assert_eq!(m.reads.get(), 4);
    }

    #[test]
    fn reads_past_the_end_fail_as_the_memory_would() {
        let m = counted(5000);
        let c = ReadCache::new(&m);
        let mut b = [0u8; 8];
        assert_eq!(
            c.read(4996, &mut b),
            Err(GuestError::OutOfBounds {
                ptr: 4996,
                len: 8,
                size: 5000
            })
        );
        assert!(c.read(u32::MAX, &mut b).is_err());
        assert_eq!(m.reads.get(), 0);
    }

    #[test]
    fn writes_go_through_and_are_read_back() {
        let m = counted(10_000);
        let c = ReadCache::new(&m);
        assert_eq!(c.read_u32(4094).unwrap(), m.mem.read_u32(4094).unwrap());
        c.write(4095, &[1, 2, 3]).unwrap();
        assert_eq!(m.mem.read_array::<3>(4095).unwrap(), [1, 2, 3]);
        assert_eq!(c.read_array::<4>(4094).unwrap()[1..], [1, 2, 3]);
    }
}
