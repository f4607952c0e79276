//! The bounded in-memory queue of hook deliveries: new ones in arrival order, retries
//! waiting for their time. It never holds more than its capacity: when full, the oldest
//! delivery is pushed out and handed back to the caller, which counts and logs it.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use tokio::sync::Notify;
use tokio::time::Instant;

/// One upload event on its way to one trigger.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The trigger to call.
    pub trigger: String,
    /// The event, as the trigger's `data`.
    pub event: Arc<Map<String, Value>>,
    /// The request's correlation id, so the delivery's log lines join the upload's.
    pub correlation_id: String,
    /// Sent as `Idempotency-Key`: the same on every attempt, so a step function that already
    /// started for this event is not started again.
    pub idempotency_key: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the object was stored; `[hooks] max_age` counts from here.
    pub created: Instant,
}

/// A retry and the time it is due.
#[derive(Debug)]
struct Waiting {
    due: Instant,
    /// Breaks ties so equal due times keep their order.
    seq: u64,
    delivery: Delivery,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

#[derive(Debug, Default)]
struct Inner {
    ready: VecDeque<Delivery>,
    waiting: BinaryHeap<Reverse<Waiting>>,
    seq: u64,
    closed: bool,
}

impl Inner {
    fn len(&self) -> usize {
        self.ready.len() + self.waiting.len()
    }

    /// Removes the delivery created first, whether it is new or waiting for a retry.
    fn pop_oldest(&mut self) -> Option<Delivery> {
        let oldest_waiting = self
            .waiting
            .iter()
            .map(|Reverse(w)| (w.delivery.created, w.seq))
            .min();
        let ready_created = self.ready.front().map(|d| d.created);
        match (ready_created, oldest_waiting) {
            (Some(ready), Some((waiting, _))) if ready <= waiting => self.ready.pop_front(),
            (Some(_), None) => self.ready.pop_front(),
            (_, Some((_, seq))) => {
                let mut dropped = None;
                let waiting = std::mem::take(&mut self.waiting);
                self.waiting = waiting
                    .into_iter()
                    .filter_map(|Reverse(w)| {
                        if w.seq == seq && dropped.is_none() {
                            dropped = Some(w.delivery);
                            None
                        } else {
                            Some(Reverse(w))
                        }
                    })
                    .collect();
                dropped
            }
            (None, None) => None,
        }
    }

    /// Moves every retry that is due to the ready line; the time the next one is due.
    fn promote_due(&mut self, now: Instant) -> Option<Instant> {
        while let Some(Reverse(next)) = self.waiting.peek() {
            if next.due > now {
                return Some(next.due);
            }
            let Some(Reverse(due)) = self.waiting.pop() else {
                break;
            };
            self.ready.push_back(due.delivery);
        }
        None
    }
}

/// The queue; shared by the uploads that fill it and the dispatcher that drains it.
#[derive(Debug)]
pub struct Queue {
    inner: Mutex<Inner>,
    /// Woken on every push; one dispatcher waits on it.
    wake: Notify,
    capacity: usize,
}

impl Queue {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            wake: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    /// Deliveries held, new and waiting.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a new delivery; returns the one pushed out when the queue was full. After
    /// [`Queue::close`] nothing is accepted: the delivery itself comes back.
    pub fn push(&self, delivery: Delivery) -> Option<Delivery> {
        self.insert(delivery, None)
    }

    /// Schedules another attempt at `due`; returns the one pushed out when full.
    pub fn retry_at(&self, delivery: Delivery, due: Instant) -> Option<Delivery> {
        self.insert(delivery, Some(due))
    }

    fn insert(&self, delivery: Delivery, due: Option<Instant>) -> Option<Delivery> {
        let dropped = {
            let mut inner = self.lock();
            if inner.closed {
                return Some(delivery);
            }
            let dropped = if inner.len() >= self.capacity {
                inner.pop_oldest()
            } else {
                None
            };
            match due {
                None => inner.ready.push_back(delivery),
                Some(due) => {
                    inner.seq += 1;
                    let seq = inner.seq;
                    inner.waiting.push(Reverse(Waiting { due, seq, delivery }));
                }
            }
            dropped
        };
        self.wake.notify_one();
        dropped
    }

    /// The next delivery that is due, waiting as long as it takes; `None` once closed.
    pub async fn next(&self) -> Option<Delivery> {
        loop {
            let next_due = {
                let mut inner = self.lock();
                if inner.closed {
                    return None;
                }
                let next_due = inner.promote_due(Instant::now());
                if let Some(delivery) = inner.ready.pop_front() {
                    return Some(delivery);
                }
                next_due
            };
            match next_due {
                Some(due) => {
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep_until(due) => {}
                    }
                }
                None => self.wake.notified().await,
            }
        }
    }

    /// Stops the queue; returns the deliveries it still held (abandoned at shutdown).
    pub fn close(&self) -> Vec<Delivery> {
        let mut inner = self.lock();
        inner.closed = true;
        let mut left: Vec<Delivery> = inner.ready.drain(..).collect();
        left.extend(
            std::mem::take(&mut inner.waiting)
                .into_iter()
                .map(|Reverse(w)| w.delivery),
        );
        drop(inner);
        self.wake.notify_one();
        left
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (each step is one push or pop).
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn delivery(name: &str) -> Delivery {
        Delivery {
            trigger: name.into(),
            event: Arc::new(Map::new()),
            correlation_id: "c".into(),
            idempotency_key: format!("upload-{name}"),
            attempts: 0,
            created: Instant::now(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn new_deliveries_come_out_in_order() {
        let queue = Queue::new(10);
        assert!(queue.push(delivery("a")).is_none());
        assert!(queue.push(delivery("b")).is_none());
        assert_eq!(queue.next().await.unwrap().trigger, "a");
        assert_eq!(queue.next().await.unwrap().trigger, "b");
        assert!(queue.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_pushes_out_the_oldest() {
        let queue = Queue::new(2);
        queue.push(delivery("a"));
        tokio::time::advance(Duration::from_millis(1)).await;
        queue.push(delivery("b"));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(queue.push(delivery("c")).unwrap().trigger, "a");
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.next().await.unwrap().trigger, "b");
        assert_eq!(queue.next().await.unwrap().trigger, "c");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_retry_is_the_oldest_when_it_was_created_first() {
        let queue = Queue::new(2);
        let old = delivery("old");
        tokio::time::advance(Duration::from_millis(1)).await;
        queue.push(delivery("new"));
        queue.retry_at(old, Instant::now() + Duration::from_secs(60));
        assert_eq!(queue.push(delivery("newest")).unwrap().trigger, "old");
        assert_eq!(queue.len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_wait_for_their_time() {
        let queue = Arc::new(Queue::new(10));
        let started = Instant::now();
        queue.retry_at(delivery("later"), started + Duration::from_secs(5));
        queue.retry_at(delivery("sooner"), started + Duration::from_secs(2));
        assert_eq!(queue.next().await.unwrap().trigger, "sooner");
        assert!(started.elapsed() >= Duration::from_secs(2));
        // A new delivery pushed while a retry waits goes first.
        let pusher = queue.clone();
        tokio::spawn(async move { pusher.push(delivery("fresh")) });
        assert_eq!(queue.next().await.unwrap().trigger, "fresh");
        assert_eq!(queue.next().await.unwrap().trigger, "later");
        assert!(started.elapsed() >= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn closing_returns_what_is_left_and_ends_the_wait() {
        let queue = Arc::new(Queue::new(10));
        queue.push(delivery("a"));
        queue.retry_at(delivery("b"), Instant::now() + Duration::from_secs(60));
        let left = queue.close();
        assert_eq!(left.len(), 2);
        assert!(queue.next().await.is_none());
        assert_eq!(queue.push(delivery("c")).unwrap().trigger, "c");
    }
}
