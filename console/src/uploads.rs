//! The upload queue: files waiting, the one in flight with its progress, and what finished.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use crate::model::human_size;
use crate::msg::{Command, UploadId};

/// One file to upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub id: UploadId,
    pub alias: String,
    pub key: String,
    pub path: PathBuf,
    pub total: u64,
    pub sent: u64,
    pub elapsed: Duration,
}

impl Upload {
    /// Bytes per second so far.
    pub fn rate(&self) -> Option<f64> {
        let seconds = self.elapsed.as_secs_f64();
        (seconds > 0.0 && self.sent > 0).then(|| self.sent as f64 / seconds)
    }

    /// Time left at the current rate.
    pub fn eta(&self) -> Option<Duration> {
        let rate = self.rate()?;
        Some(Duration::from_secs_f64(
            self.total.saturating_sub(self.sent) as f64 / rate,
        ))
    }

    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            (self.sent as f64 / self.total as f64).min(1.0)
        }
    }

    /// `report.pdf 12.0 MiB / 27.0 MiB · 8.1 MiB/s · ETA 2s`
    pub fn describe(&self) -> String {
        let name = self.key.rsplit('/').next().unwrap_or(&self.key);
        let mut text = format!(
            "{name} {} / {}",
            human_size(self.sent),
            human_size(self.total)
        );
        if let Some(rate) = self.rate() {
            text.push_str(&format!(" · {}/s", human_size(rate as u64)));
        }
        if let Some(eta) = self.eta() {
            text.push_str(&format!(" · ETA {}s", eta.as_secs()));
        }
        text
    }
}

/// Files run one at a time, in the order they were queued.
#[derive(Debug, Default)]
pub struct UploadQueue {
    next_id: UploadId,
    pub active: Option<Upload>,
    pub waiting: VecDeque<Upload>,
}

impl UploadQueue {
    /// Queues a file; returns the command to start it if nothing else is running.
    pub fn push(
        &mut self,
        alias: String,
        key: String,
        path: PathBuf,
        total: u64,
    ) -> Option<Command> {
        self.next_id += 1;
        let upload = Upload {
            id: self.next_id,
            alias,
            key,
            path,
            total,
            sent: 0,
            elapsed: Duration::ZERO,
        };
        self.waiting.push_back(upload);
        self.start_next()
    }

    fn start_next(&mut self) -> Option<Command> {
        if self.active.is_some() {
            return None;
        }
        let upload = self.waiting.pop_front()?;
        let command = Command::Upload {
            id: upload.id,
            alias: upload.alias.clone(),
            key: upload.key.clone(),
            path: upload.path.clone(),
        };
        self.active = Some(upload);
        Some(command)
    }

    pub fn progress(&mut self, id: UploadId, sent: u64, elapsed: Duration) {
        if let Some(upload) = self.active.as_mut().filter(|u| u.id == id) {
            upload.sent = sent;
            upload.elapsed = elapsed;
        }
    }

    /// The active upload ended; returns it and the command that starts the next one.
    pub fn finish(&mut self, id: UploadId) -> (Option<Upload>, Option<Command>) {
        if self.active.as_ref().is_none_or(|u| u.id != id) {
            return (None, None);
        }
        let done = self.active.take();
        (done, self.start_next())
    }

    /// Cancels the active upload and drops the waiting ones.
    pub fn cancel(&mut self) -> Option<Command> {
        self.waiting.clear();
        self.active
            .as_ref()
            .map(|u| Command::CancelUpload { id: u.id })
    }

    pub fn is_busy(&self) -> bool {
        self.active.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_run_one_at_a_time_in_order() {
        let mut queue = UploadQueue::default();
        let first = queue.push("u".into(), "a".into(), "/a".into(), 10);
        assert!(matches!(first, Some(Command::Upload { id: 1, .. })));
        assert!(
            queue
                .push("u".into(), "b".into(), "/b".into(), 10)
                .is_none()
        );
        let (done, next) = queue.finish(1);
        assert_eq!(done.unwrap().key, "a");
        assert!(matches!(next, Some(Command::Upload { id: 2, .. })));
        assert_eq!(queue.finish(1), (None, None), "a stale id changes nothing");
    }

    #[test]
    fn rate_and_eta_follow_progress() {
        let mut queue = UploadQueue::default();
        queue.push(
            "u".into(),
            "dir/big.bin".into(),
            "/big".into(),
            4 * 1024 * 1024,
        );
        queue.progress(1, 1024 * 1024, Duration::from_secs(1));
        let upload = queue.active.as_ref().unwrap();
        assert_eq!(upload.eta(), Some(Duration::from_secs(3)));
        assert_eq!(
            upload.describe(),
            "big.bin 1.0 MiB / 4.0 MiB · 1.0 MiB/s · ETA 3s"
        );
    }
}
