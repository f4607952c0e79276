//! The global memory budget of upload part buffers. Every buffer is reserved whole before it
//! is filled and released when its part is in S3, so all uploads together never hold more
//! than `upload.max_buffer_bytes`; when the budget is spent, uploads wait (and stop reading
//! from their clients) instead of growing memory.
//!
//! No deadlock: an upload waits for budget only while holding parts that are on their way to
//! S3, and those finish (or fail) without needing any budget.

use std::sync::Arc;

use prometheus::IntGauge;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Permits are counted in KiB so a 5 GiB part still fits the `u32` a semaphore takes.
const UNIT: u64 = 1024;

#[derive(Debug, Clone)]
pub struct Budget {
    semaphore: Arc<Semaphore>,
    /// All permits; no reservation asks for more, or it would wait forever.
    total: u32,
    gauge: IntGauge,
}

/// Memory set aside for one part buffer; given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    permit: OwnedSemaphorePermit,
    bytes: usize,
    gauge: IntGauge,
}

impl Budget {
    pub fn new(max_bytes: u64, gauge: IntGauge) -> Self {
        let total = u32::try_from(max_bytes.div_ceil(UNIT)).unwrap_or(u32::MAX);
        Self {
            semaphore: Arc::new(Semaphore::new(total as usize)),
            total,
            gauge,
        }
    }

    /// Waits until `bytes` of buffer may be held.
    pub async fn reserve(&self, bytes: usize) -> Reservation {
        let permit = self.acquire(self.units(bytes)).await;
        self.gauge.add(bytes as i64);
        Reservation {
            permit,
            bytes,
            gauge: self.gauge.clone(),
        }
    }

    /// Grows a reservation to `bytes` (waiting for the difference).
    pub async fn grow(&self, reservation: &mut Reservation, bytes: usize) {
        if bytes <= reservation.bytes {
            return;
        }
        let held = u32::try_from(reservation.permit.num_permits()).unwrap_or(u32::MAX);
        let missing = self.units(bytes).saturating_sub(held);
        if missing > 0 {
            reservation.permit.merge(self.acquire(missing).await);
        }
        self.gauge.add((bytes - reservation.bytes) as i64);
        reservation.bytes = bytes;
    }

    fn units(&self, bytes: usize) -> u32 {
        u32::try_from((bytes as u64).div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .min(self.total)
    }

    async fn acquire(&self, units: u32) -> OwnedSemaphorePermit {
        self.semaphore
            .clone()
            .acquire_many_owned(units)
            .await
            .expect("the upload budget is never closed")
    }

    /// Bytes not reserved right now.
    #[cfg(test)]
    pub fn available(&self) -> u64 {
        self.semaphore.available_permits() as u64 * UNIT
    }
}

impl Reservation {
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.gauge.sub(self.bytes as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn gauge() -> IntGauge {
        IntGauge::new("test_budget", "test").unwrap()
    }

    #[tokio::test]
    async fn reservations_wait_for_released_budget() {
        let budget = Budget::new(10 * 1024, gauge());
        let first = budget.reserve(6 * 1024).await;
        assert_eq!(budget.available(), 4 * 1024);
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(6 * 1024).await.bytes() }
        });
        // The second reservation cannot be granted while the first is held.
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished());
        assert_eq!(budget.gauge.get(), 6 * 1024);
        drop(first);
        assert_eq!(waiting.await.unwrap(), 6 * 1024);
        assert_eq!(budget.available(), 10 * 1024);
        assert_eq!(budget.gauge.get(), 0);
    }

    #[tokio::test]
    async fn a_reservation_never_asks_for_more_than_exists() {
        let budget = Budget::new(1000, gauge());
        let held = budget.reserve(5000).await;
        assert_eq!(budget.available(), 0);
        drop(held);
        let mut grown = budget.reserve(10).await;
        budget.grow(&mut grown, 900).await;
        assert_eq!(grown.bytes(), 900);
    }
}
