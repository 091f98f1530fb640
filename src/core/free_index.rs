//! The free blocks of the guest heap, indexed for constant-time operations.
//!
//! Blocks are filed under two-level segregated size classes, as in TLSF
//! (Masmano et al., "TLSF: a new dynamic memory allocator for real-time
//! systems"): the first level is the power of two below the size, the second
//! splits that range into 16 equal classes, and two bitmaps say which classes
//! hold blocks. Finding a block of at least `n` bytes rounds `n` up to the
//! next class boundary, so any block of the first non-empty class at or
//! above it fits: a few bit operations, whatever the number of blocks.
//! Neighbours for coalescing are found by address in hash maps keyed by a
//! block's start and by its end.

use std::collections::HashMap;

/// A hash map with foldhash's fast, fixed-seed hasher: block addresses are
/// multiples of 32, which a plain multiplicative hash (Fx) spreads badly.
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

const SL_BITS: u32 = 4;
const SL_COUNT: u32 = 1 << SL_BITS;
const FL_COUNT: u32 = 32;

/// `(first level, second level)` of the class that holds `size`.
fn class_of(size: u32) -> (u32, u32) {
    let size = size.max(SL_COUNT);
    let fl = 31 - size.leading_zeros();
    let sl = (size >> (fl - SL_BITS)) - SL_COUNT;
    (fl, sl)
}

/// The class from which every block fits `size`; `None` past the largest.
fn class_fitting(size: u32) -> Option<(u32, u32)> {
    let size = size.max(SL_COUNT);
    let fl = 31 - size.leading_zeros();
    let rounded = size.checked_add((1u32 << (fl - SL_BITS)) - 1)?;
    Some(class_of(rounded))
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    size: u32,
    /// Position in its class's list.
    slot: u32,
}

/// A set of disjoint free blocks `[start, start + size)`.
#[derive(Clone, Debug)]
pub struct FreeIndex {
    by_start: FastMap<u32, Entry>,
    /// End (exclusive, as u64 to allow a block ending at 4 GiB) -> start.
    by_end: FastMap<u64, u32>,
    lists: Vec<Vec<u32>>,
    fl_bitmap: u32,
    sl_bitmap: [u32; FL_COUNT as usize],
}

impl Default for FreeIndex {
    fn default() -> Self {
        FreeIndex {
            by_start: FastMap::default(),
            by_end: FastMap::default(),
            lists: vec![Vec::new(); (FL_COUNT * SL_COUNT) as usize],
            fl_bitmap: 0,
            sl_bitmap: [0; FL_COUNT as usize],
        }
    }
}

impl FreeIndex {
    pub fn len(&self) -> usize {
        self.by_start.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_start.is_empty()
    }

    pub fn insert(&mut self, start: u32, size: u32) {
        let (fl, sl) = class_of(size);
        let list = &mut self.lists[(fl * SL_COUNT + sl) as usize];
        list.push(start);
        let slot = list.len() as u32 - 1;
        self.fl_bitmap |= 1 << fl;
        self.sl_bitmap[fl as usize] |= 1 << sl;
        self.by_start.insert(start, Entry { size, slot });
        self.by_end.insert(start as u64 + size as u64, start);
    }

    /// Removes the block starting at `start`; returns its size.
    pub fn remove(&mut self, start: u32) -> Option<u32> {
        let e = self.by_start.remove(&start)?;
        self.by_end.remove(&(start as u64 + e.size as u64));
        let (fl, sl) = class_of(e.size);
        let list = &mut self.lists[(fl * SL_COUNT + sl) as usize];
        list.swap_remove(e.slot as usize);
        if let Some(&moved) = list.get(e.slot as usize) {
            if let Some(m) = self.by_start.get_mut(&moved) {
                m.slot = e.slot;
            }
        }
        if list.is_empty() {
            self.sl_bitmap[fl as usize] &= !(1 << sl);
            if self.sl_bitmap[fl as usize] == 0 {
                self.fl_bitmap &= !(1 << fl);
            }
        }
        Some(e.size)
    }

    /// The size of the free block starting at `start`.
    pub fn size_at(&self, start: u32) -> Option<u32> {
        self.by_start.get(&start).map(|e| e.size)
    }

    /// The start of the free block ending at `end`.
    pub fn ending_at(&self, end: u64) -> Option<u32> {
        self.by_end.get(&end).copied()
    }

    /// A free block of at least `size` bytes, as `(start, size)`.
    pub fn find(&self, size: u32) -> Option<(u32, u32)> {
        let (fl, sl) = class_fitting(size)?;
        let sl_here = self.sl_bitmap[fl as usize] & (!0u32 << sl);
        let (fl, sl) = if sl_here != 0 {
            (fl, sl_here.trailing_zeros())
        } else {
            let above = self.fl_bitmap & (!0u32).checked_shl(fl + 1).unwrap_or(0);
            if above == 0 {
                return None;
            }
            let fl = above.trailing_zeros();
            (fl, self.sl_bitmap[fl as usize].trailing_zeros())
        };
        let start = *self.lists[(fl * SL_COUNT + sl) as usize].last()?;
        Some((start, self.by_start[&start].size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_monotonic_and_fitting_rounds_up() {
        let mut last = (0, 0);
        for size in (16..100_000u32).step_by(7) {
            let c = class_of(size);
            assert!(c >= last, "{size}");
            last = c;
            let f = class_fitting(size).unwrap();
            assert!(f >= c);
            // Every size filed under the fitting class is at least `size`.
            let (fl, sl) = f;
            let smallest = (SL_COUNT + sl) << (fl - SL_BITS);
            assert!(smallest >= size, "{size}: class starts at {smallest}");
        }
        assert_eq!(class_fitting(u32::MAX), None);
    }

    #[test]
    fn finds_removes_and_keeps_neighbours() {
        let mut f = FreeIndex::default();
        f.insert(1000, 96);
        f.insert(5000, 4096);
        f.insert(20000, 200);
        assert_eq!(f.find(100), Some((20000, 200)));
        assert_eq!(f.find(3000), Some((5000, 4096)));
        assert_eq!(f.find(5000), None);
        assert_eq!(f.ending_at(9096), Some(5000));
        assert_eq!(f.remove(5000), Some(4096));
        assert_eq!(f.find(3000), None);
        assert_eq!(f.size_at(20000), Some(200));
        assert_eq!(f.len(), 2);
        assert_eq!(f.remove(1), None);
    }
}
