//! The guest heap: `malloc`/`free` for the pipeline, over its own memory.
//!
//! Halide's ahead-of-time wasm runtime imports `malloc` and `free`; the host
//! decides where blocks go in the guest memory, above the module's
//! `__heap_base`. The semantics follow Halide's C++ executor (32-byte aligned
//! blocks, split and coalesce, grow the memory when full, slop around each
//! block because vectorised code reads a little past the ends), but the
//! bookkeeping lives here in host memory, indexed ([`FreeIndex`]) so that
//! `malloc` and `free` take constant time however many blocks are live (the
//! C++ executor scans a list).
//!
//! Small blocks that are freed are first kept whole, by exact block size,
//! in a bounded cache (like a C library's thread cache): a pipeline that
//! frees and allocates the same sizes in a loop then costs one hash-map
//! insert and remove per pair instead of a split and a coalesce. The cache
//! is flushed into the free index, coalescing, before the heap would grow.
//!
//! The allocator never touches the guest memory itself: when no free block
//! fits, [`HeapAllocator::alloc`] says how many bytes the heap must grow by,
//! the caller grows the memory and reports the new end with
//! [`HeapAllocator::extend_to`], and tries again.

use crate::core::free_index::{FastMap, FreeIndex};

/// Alignment of every pointer handed to the guest.
pub const ALIGN: u32 = 32;
/// Bytes kept free before and after each block.
pub const SLOP: u32 = 32;

/// Freed blocks up to this size (slop included) are cached whole.
const CACHE_MAX_BLOCK: u32 = 4096 + 2 * SLOP;
/// At most this many bytes of freed blocks wait in the cache.
const CACHE_MAX_BYTES: u32 = 256 * 1024;
/// At most this many blocks of one size wait in the cache.
const CACHE_MAX_PER_SIZE: usize = 64;

/// The heap cannot satisfy a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocError {
    /// The heap must grow by at least `bytes` at its end.
    NeedsGrowth { bytes: u64 },
    /// The request can never fit in a 32-bit memory.
    TooLarge,
}

/// Host-side bookkeeping for a guest heap `[base, end)`.
#[derive(Clone, Debug)]
pub struct HeapAllocator {
    base: u32,
    end: u32,
    /// Free blocks.
    free: FreeIndex,
    /// Live blocks: user pointer -> (block start, block size, requested size).
    live: FastMap<u32, Live>,
    /// Freed small blocks by `size / ALIGN`: their starts.
    cache: Vec<Vec<u32>>,
    cached_bytes: u32,
    in_use_bytes: u64,
    peak_in_use_bytes: u64,
}

#[derive(Clone, Copy, Debug)]
struct Live {
    start: u32,
    size: u32,
    requested: u32,
}

fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}

impl HeapAllocator {
    /// A heap over `[heap_base, memory_end)`.
    pub fn new(heap_base: u32, memory_end: u32) -> HeapAllocator {
        let base = align_up(heap_base as u64, ALIGN as u64).min(u32::MAX as u64) as u32;
        let mut a = HeapAllocator {
            base,
            end: base,
            free: FreeIndex::default(),
            live: FastMap::default(),
            cache: Vec::new(),
            cached_bytes: 0,
            in_use_bytes: 0,
            peak_in_use_bytes: 0,
        };
        a.extend_to(memory_end as u64);
        a
    }

    /// Total bytes of the block that holds a request of `size` bytes.
    fn block_size(size: u32) -> Option<u32> {
        let s = align_up(size.max(1) as u64, ALIGN as u64) + 2 * SLOP as u64;
        u32::try_from(s).ok()
    }

    /// Allocates `size` bytes; the result is `ALIGN`-aligned and has `SLOP`
    /// bytes of unused heap on both sides.
    pub fn alloc(&mut self, size: u32) -> Result<u32, AllocError> {
        let need = Self::block_size(size).ok_or(AllocError::TooLarge)?;
        if let Some(start) = self
            .cache
            .get_mut((need / ALIGN) as usize)
            .and_then(|c| c.pop())
        {
            self.cached_bytes -= need;
            return Ok(self.mark_live(start, need, size));
        }
        match self.alloc_indexed(size, need) {
            Err(AllocError::NeedsGrowth { .. }) if self.cached_bytes > 0 => {
                self.flush_cache();
                self.alloc_indexed(size, need)
            }
            r => r,
        }
    }

    /// Gives every cached block back to the free index, coalescing.
    pub fn flush_cache(&mut self) {
        let cache = std::mem::take(&mut self.cache);
        for (i, starts) in cache.iter().enumerate() {
            for &start in starts {
                self.release(start, i as u32 * ALIGN);
            }
        }
        self.cached_bytes = 0;
    }

    fn alloc_indexed(&mut self, size: u32, need: u32) -> Result<u32, AllocError> {
        let tail = self
            .free
            .ending_at(self.end as u64)
            .and_then(|s| Some((s, self.free.size_at(s)?)));
        // Good fit passes over blocks of the request's own size class; the
        // block at the end of the heap (just grown, say) may still fit.
        let found = self
            .free
            .find(need)
            .or_else(|| tail.filter(|(_, z)| *z >= need));
        let Some((fstart, fsize)) = found else {
            // Grow: the free block touching the end (if any) counts.
            let tail_free = tail.map(|(_, z)| z).unwrap_or(0);
            let bytes = (need - tail_free) as u64;
            if self.end as u64 + bytes > u32::MAX as u64 {
                return Err(AllocError::TooLarge);
            }
            return Err(AllocError::NeedsGrowth { bytes });
        };
        self.free.remove(fstart);
        if fsize - need >= ALIGN + 2 * SLOP {
            self.free.insert(fstart + need, fsize - need);
        } else {
            // Too small a remainder to be useful: keep it inside the block.
            return Ok(self.mark_live(fstart, fsize, size));
        }
        Ok(self.mark_live(fstart, need, size))
    }

    fn mark_live(&mut self, start: u32, size: u32, requested: u32) -> u32 {
        let ptr = start + SLOP;
        self.live.insert(
            ptr,
            Live {
                start,
                size,
                requested,
            },
        );
        self.in_use_bytes += requested as u64;
        self.peak_in_use_bytes = self.peak_in_use_bytes.max(self.in_use_bytes);
        ptr
    }

    /// Frees a pointer returned by [`alloc`](Self::alloc). Returns false (and
    /// changes nothing) for a pointer that is not live.
    pub fn free(&mut self, ptr: u32) -> bool {
        let Some(l) = self.live.remove(&ptr) else {
            return false;
        };
        self.in_use_bytes -= l.requested as u64;
        let slot = (l.size / ALIGN) as usize;
        if l.size <= CACHE_MAX_BLOCK
            && self.cached_bytes + l.size <= CACHE_MAX_BYTES
            && self
                .cache
                .get(slot)
                .is_none_or(|c| c.len() < CACHE_MAX_PER_SIZE)
        {
            if self.cache.len() <= slot {
                self.cache.resize_with(slot + 1, Vec::new);
            }
            self.cache[slot].push(l.start);
            self.cached_bytes += l.size;
        } else {
            self.release(l.start, l.size);
        }
        true
    }

    /// Returns `[start, start + size)` to the free set, merging neighbours.
    fn release(&mut self, mut start: u32, mut size: u32) {
        if let Some(prev) = self.free.ending_at(start as u64) {
            size += self.free.remove(prev).unwrap_or(0);
            start = prev;
        }
        let next = start as u64 + size as u64;
        if next <= u32::MAX as u64 {
            if let Some(n) = self.free.remove(next as u32) {
                size += n;
            }
        }
        self.free.insert(start, size);
    }

    /// The memory now ends at `new_end` (it grew); the new bytes join the heap.
    pub fn extend_to(&mut self, new_end: u64) {
        let new_end = new_end.min(u32::MAX as u64 + 1);
        // Keep sizes within u32: the last byte of a 4 GiB memory is never used.
        let new_end = new_end.min(u32::MAX as u64) as u32;
        if new_end <= self.end {
            return;
        }
        let (start, size) = (self.end, new_end - self.end);
        self.end = new_end;
        self.release(start, size);
    }

    /// The size of the live block at `ptr`, as requested.
    pub fn size_of(&self, ptr: u32) -> Option<u32> {
        self.live.get(&ptr).map(|l| l.requested)
    }

    pub fn base(&self) -> u32 {
        self.base
    }

    pub fn end(&self) -> u32 {
        self.end
    }

    /// Bytes requested by live allocations.
    pub fn in_use_bytes(&self) -> u64 {
        self.in_use_bytes
    }

    pub fn peak_in_use_bytes(&self) -> u64 {
        self.peak_in_use_bytes
    }

    pub fn live_allocations(&self) -> usize {
        self.live.len()
    }

    /// Number of separate free blocks (1 when everything is free: a sign
    /// that coalescing works).
    pub fn free_blocks(&self) -> usize {
        self.free.len()
    }
}

/// A heap with `live` blocks of random sizes (16 B to 64 KiB) in place, and
/// a workload of `pairs` malloc/free pairs on it that keeps `live` blocks
/// live: what the allocator row of `npm run bench` times. The memory is as
/// large as needed; only the bookkeeping is exercised.
pub struct Churn {
    heap: HeapAllocator,
    live: Vec<u32>,
    state: u64,
}

impl Churn {
    pub fn new(live: usize, seed: u64) -> Churn {
        let mut c = Churn {
            heap: HeapAllocator::new(1024, 1 << 20),
            live: Vec::with_capacity(live),
            state: seed | 1,
        };
        for _ in 0..live {
            let p = c.alloc();
            c.live.push(p);
        }
        c
    }

    fn next(&mut self) -> u64 {
        // xorshift64: cheap, deterministic sizes and victims.
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    fn alloc(&mut self) -> u32 {
        let size = 16 + (self.next() % 65536) as u32;
        loop {
            match self.heap.alloc(size) {
                Ok(p) => return p,
                Err(AllocError::NeedsGrowth { bytes }) => {
                    let end = self.heap.end() as u64 + bytes.max(1 << 20);
                    self.heap.extend_to(end);
                }
                Err(AllocError::TooLarge) => panic!("the churn heap outgrew 4 GiB"),
            }
        }
    }

    /// Frees a random live block and allocates a new one, `pairs` times.
    pub fn run(&mut self, pairs: usize) {
        for _ in 0..pairs {
            if self.live.is_empty() {
                let p = self.alloc();
                self.heap.free(p);
                continue;
            }
            let i = (self.next() % self.live.len() as u64) as usize;
            let old = self.live.swap_remove(i);
            self.heap.free(old);
            let p = self.alloc();
            self.live.push(p);
        }
    }

    pub fn live_allocations(&self) -> usize {
        self.heap.live_allocations()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn churn_keeps_its_live_count() {
        let mut c = Churn::new(1000, 7);
        c.run(5000);
        assert_eq!(c.live_allocations(), 1000);
    }

    #[test]
    fn alloc_is_aligned_with_slop_and_frees_coalesce() {
        let mut a = HeapAllocator::new(1000, 1 << 20);
        assert_eq!(a.base(), 1024);
        let p = a.alloc(10).unwrap();
        let q = a.alloc(100).unwrap();
        assert_eq!(p % ALIGN, 0);
        assert_eq!(q % ALIGN, 0);
        assert!(p >= a.base() + SLOP);
        assert!(q >= p + 32 + 2 * SLOP);
        assert_eq!(a.in_use_bytes(), 110);
        assert_eq!(a.live_allocations(), 2);
        assert!(a.free(p));
        assert!(!a.free(p), "double free is refused");
        assert!(a.free(q));
        assert_eq!(a.in_use_bytes(), 0);
        a.flush_cache();
        assert_eq!(a.free_blocks(), 1);
    }

    #[test]
    fn grows_when_full() {
        let mut a = HeapAllocator::new(0, 4096);
        let e = a.alloc(10_000).unwrap_err();
        let AllocError::NeedsGrowth { bytes } = e else {
            panic!("{e:?}")
        };
        // The whole heap is one free tail block, which counts towards the need.
        assert_eq!(bytes, (10_016 + 64 - 4096) as u64);
        a.extend_to(4096 + 65536);
        let p = a.alloc(10_000).unwrap();
        assert_eq!(p, SLOP);
    }

    #[test]
    fn refuses_what_cannot_fit_in_32_bits() {
        let mut a = HeapAllocator::new(0, 65536);
        assert_eq!(a.alloc(u32::MAX), Err(AllocError::TooLarge));
        assert_eq!(a.alloc(u32::MAX - 10), Err(AllocError::TooLarge));
        // Just fits in theory: the caller decides whether memory may grow that far.
        assert!(matches!(
            a.alloc(u32::MAX - 100),
            Err(AllocError::NeedsGrowth { .. })
        ));
    }

    #[test]
    fn best_fit_reuses_a_hole() {
        let mut a = HeapAllocator::new(0, 1 << 20);
        let p1 = a.alloc(10_000).unwrap();
        let _p2 = a.alloc(64).unwrap();
        a.free(p1);
        let p3 = a.alloc(9_000).unwrap();
        assert_eq!(p3, p1, "the freed hole is reused");
    }

    #[test]
    fn small_freed_blocks_come_back_for_the_same_size() {
        let mut a = HeapAllocator::new(0, 1 << 20);
        let p1 = a.alloc(1000).unwrap();
        let _p2 = a.alloc(64).unwrap();
        a.free(p1);
        assert_eq!(
            a.alloc(1000).unwrap(),
            p1,
            "same block size: the cached block"
        );
        a.free(p1);
        let p3 = a.alloc(900).unwrap();
        assert_ne!(p3, p1, "another size does not take the cached block");
        assert!(a.free(p3));
        assert!(
            !a.free(p1),
            "a cached block is not live: freeing it again is refused"
        );
        a.flush_cache();
        assert_eq!(a.alloc(900).unwrap(), p1, "flushed, the hole is reused");
    }

    #[test]
    fn the_cache_is_flushed_before_the_heap_grows() {
        let mut a = HeapAllocator::new(0, 65536);
        // Fill the heap with small blocks, free them all (cached whole).
        let mut ps = Vec::new();
        while let Ok(p) = a.alloc(2000) {
            ps.push(p);
        }
        for p in ps {
            assert!(a.free(p));
        }
        // A bigger block fits only once the cached ones coalesce again.
        assert!(a.alloc(40_000).is_ok());
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Alloc(u32),
        Free(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u32..5000).prop_map(Op::Alloc),
            1 => (0u32..70_000).prop_map(Op::Alloc),
            3 => any::<usize>().prop_map(Op::Free),
        ]
    }

    proptest! {
        #[test]
        fn blocks_never_overlap_and_everything_coalesces(ops in proptest::collection::vec(op(), 1..300)) {
            let mut a = HeapAllocator::new(1234, 65536);
            let mut live: Vec<(u32, u32)> = Vec::new();
            for o in ops {
                match o {
                    Op::Alloc(n) => {
                        let p = loop {
                            match a.alloc(n) {
                                Ok(p) => break p,
                                Err(AllocError::NeedsGrowth { bytes }) => {
                                    let pages = bytes.div_ceil(65536);
                                    a.extend_to(a.end() as u64 + pages * 65536);
                                }
                                Err(e) => panic!("{e:?}"),
                            }
                        };
                        prop_assert_eq!(p % ALIGN, 0);
                        prop_assert!(p >= a.base() + SLOP);
                        prop_assert!(p as u64 + n as u64 + SLOP as u64 <= a.end() as u64);
                        for &(q, m) in &live {
                            // Blocks including slop never overlap.
                            let (s1, e1) = (p - SLOP, p + n.max(1) + SLOP);
                            let (s2, e2) = (q - SLOP, q + m.max(1) + SLOP);
                            prop_assert!(e1 <= s2 || e2 <= s1, "{p} {n} overlaps {q} {m}");
                        }
                        live.push((p, n));
                    }
                    Op::Free(i) if !live.is_empty() => {
                        let (p, _) = live.swap_remove(i % live.len());
                        prop_assert!(a.free(p));
                    }
                    Op::Free(_) => {}
                }
                prop_assert_eq!(a.live_allocations(), live.len());
                prop_assert_eq!(a.in_use_bytes(), live.iter().map(|l| l.1 as u64).sum::<u64>());
            }
            for (p, _) in live.drain(..) {
                prop_assert!(a.free(p));
            }
            a.flush_cache();
            prop_assert_eq!(a.free_blocks(), 1);
        }
    }
}
