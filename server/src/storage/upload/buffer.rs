//! Part buffers as anonymous memory maps, and the pool that hands them out again. From the
//! allocator instead, multi-MiB buffers freed on one thread and carved up by small
//! allocations on another kept the heap far above the live buffers: measured with 16
//! concurrent uploads, a 256 MiB budget peaked at 420 MiB RSS with the allocator and at
//! about 300 MiB with maps (see BENCHMARKS.md). A fresh map for every part cost its own: the
//! kernel zeroes every page when it is faulted in and frees them at unmap, about a fifth of
//! the gateway's CPU for 1 MiB uploads (perf). So a buffer whose part is in S3 goes back to a
//! small pool and the next part of that size class reuses it.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use memmap2::{MmapMut, MmapOptions};

use super::UploadError;

/// The smallest buffer; sizes are rounded up to a size class (see [`size_class`]).
const GRANULE: usize = 64 * 1024;

/// Idle buffers the pool keeps at most, in bytes (and never more than the budget): what a
/// busy gateway reuses, small beside the budget an idle one gives back to nobody.
const IDLE_LIMIT: usize = 32 * 1024 * 1024;

/// The size of the buffer that holds `bytes`: a multiple of 64 KiB, and past 512 KiB one of
/// four steps per doubling (at most a quarter more than asked), so uploads of similar sizes
/// share buffers without a large upload reserving twice its size.
pub(super) fn size_class(bytes: usize) -> usize {
    let step = (bytes.next_power_of_two() / 8).max(GRANULE);
    bytes.max(1).div_ceil(step) * step
}

/// Buffers given back, by exact length, up to their limit.
#[derive(Debug)]
pub(super) struct BufferPool {
    idle: Mutex<Idle>,
    limit: usize,
}

#[derive(Debug, Default)]
struct Idle {
    maps: Vec<MmapMut>,
    bytes: usize,
}

impl BufferPool {
    /// A pool that keeps at most `IDLE_LIMIT` bytes idle, and no more than `budget`.
    pub fn new(budget: usize) -> Arc<Self> {
        Arc::new(Self {
            idle: Mutex::default(),
            limit: budget.min(IDLE_LIMIT),
        })
    }

    /// A buffer of exactly `capacity` bytes (a size class, or a part size): an idle one of
    /// that length, else a new map faulted in up front (one call instead of a page fault
    /// per 4 KiB; the buffer is about to be filled anyway).
    pub fn buffer(self: &Arc<Self>, capacity: usize) -> Result<PartBuffer, UploadError> {
        let capacity = capacity.max(1);
        let reused = {
            let mut idle = self.lock();
            let found = idle.maps.iter().position(|map| map.len() == capacity);
            found.map(|at| {
                idle.bytes -= capacity;
                idle.maps.swap_remove(at)
            })
        };
        let map = match reused {
            Some(map) => map,
            None => MmapOptions::new()
                .len(capacity)
                .populate()
                .map_anon()
                .map_err(UploadError::Buffer)?,
        };
        Ok(PartBuffer {
            map: Pooled {
                map: Some(map),
                pool: self.clone(),
            },
            len: 0,
        })
    }

    /// Keeps `map` for the next buffer of its length, or unmaps it when the pool is full.
    fn give_back(&self, map: MmapMut) {
        let mut idle = self.lock();
        if idle.bytes + map.len() <= self.limit {
            idle.bytes += map.len();
            idle.maps.push(map);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Idle> {
        // The list stays consistent whatever panicked while holding it.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    #[cfg(test)]
    fn idle_bytes(&self) -> usize {
        self.lock().bytes
    }
}

/// A map that goes back to its pool when its last user drops it.
struct Pooled {
    map: Option<MmapMut>,
    pool: Arc<BufferPool>,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        self.map.as_deref().unwrap_or_default()
    }
}

impl AsMut<[u8]> for Pooled {
    fn as_mut(&mut self) -> &mut [u8] {
        self.map.as_deref_mut().unwrap_or_default()
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(map) = self.map.take() {
            self.pool.give_back(map);
        }
    }
}

/// A fixed-capacity buffer that one part is copied into.
pub(super) struct PartBuffer {
    map: Pooled,
    len: usize,
}

impl PartBuffer {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn capacity(&self) -> usize {
        self.map.as_ref().len()
    }

    /// Appends `bytes`, which must fit.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.map.as_mut()[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Moves the contents into a larger buffer; the smaller one goes back to the pool.
    pub fn grow(&mut self, capacity: usize) -> Result<(), UploadError> {
        if capacity <= self.capacity() {
            return Ok(());
        }
        let mut larger = self.map.pool.buffer(capacity)?;
        larger.extend_from_slice(&self.map.as_ref()[..self.len]);
        *self = larger;
        Ok(())
    }

    /// The filled bytes, without copying; the buffer goes back to the pool when the last
    /// `Bytes` does. Only the filled bytes are ever visible, never what a reused buffer
    /// held before.
    pub fn freeze(self) -> Bytes {
        let len = self.len;
        Bytes::from_owner(self.map).slice(..len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_grows_and_freezes_without_losing_bytes() {
        let pool = BufferPool::new(1 << 30);
        let mut buffer = pool.buffer(4).unwrap();
        assert_eq!(buffer.capacity(), 4);
        buffer.extend_from_slice(b"abc");
        buffer.grow(8).unwrap();
        buffer.extend_from_slice(b"defgh");
        assert_eq!(buffer.len(), 8);
        assert_eq!(buffer.freeze(), Bytes::from_static(b"abcdefgh"));
        assert!(pool.buffer(0).unwrap().freeze().is_empty());
    }

    #[test]
    fn a_buffer_goes_back_when_its_last_bytes_do_and_is_reused() {
        let pool = BufferPool::new(1 << 30);
        let mut buffer = pool.buffer(GRANULE).unwrap();
        buffer.extend_from_slice(b"secret");
        let first = buffer.freeze();
        let clone = first.clone();
        drop(first);
        assert_eq!(pool.idle_bytes(), 0, "a clone still reads it");
        drop(clone);
        assert_eq!(pool.idle_bytes(), GRANULE);
        let mut again = pool.buffer(GRANULE).unwrap();
        assert_eq!(pool.idle_bytes(), 0, "the idle buffer was taken");
        again.extend_from_slice(b"new");
        assert_eq!(
            again.freeze(),
            Bytes::from_static(b"new"),
            "only what was written"
        );
        // Another length is a buffer of its own.
        let other = pool.buffer(2 * GRANULE).unwrap();
        drop(other);
        assert_eq!(pool.idle_bytes(), 3 * GRANULE);
    }

    #[test]
    fn the_pool_keeps_no_more_than_its_limit() {
        let pool = BufferPool::new(3 * GRANULE);
        let buffers: Vec<_> = (0..5).map(|_| pool.buffer(GRANULE).unwrap()).collect();
        drop(buffers);
        assert_eq!(
            pool.idle_bytes(),
            3 * GRANULE,
            "the other two were unmapped"
        );
        assert_eq!(BufferPool::new(usize::MAX).limit, IDLE_LIMIT);
    }

    #[test]
    fn size_classes_waste_at_most_a_quarter() {
        assert_eq!(size_class(0), GRANULE);
        assert_eq!(size_class(1), GRANULE);
        assert_eq!(size_class(GRANULE + 1), 2 * GRANULE);
        assert_eq!(size_class(1 << 20), 1 << 20);
        assert_eq!(size_class((1 << 20) + 1), (1 << 20) + (1 << 18));
        assert_eq!(size_class(8 << 20), 8 << 20);
        for bytes in (1..40_000_000).step_by(99_991) {
            let class = size_class(bytes);
            assert!(
                class >= bytes && class.is_multiple_of(GRANULE),
                "{bytes} -> {class}"
            );
            assert!(
                class - bytes < GRANULE || class * 4 <= bytes * 5,
                "{bytes} -> {class}"
            );
        }
    }
}
