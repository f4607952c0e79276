//! Messages into the app (keys and completions) and commands out of it (slow calls).

use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::KeyEvent;

use crate::model::{
    ApiFailure, AuditEntry, BucketEntry, DeleteReport, Listing, TriggerEntry, TriggerOutcome,
};

/// Identifies one upload in the queue.
pub type UploadId = u64;

/// Everything that can happen to the app.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// Terminal resized or time passed: just redraw.
    Redraw,
    BucketsLoaded(Result<Vec<BucketEntry>, ApiFailure>),
    /// A page of `alias`/`prefix`; `append` when it continues an earlier page.
    ListingLoaded {
        alias: String,
        prefix: String,
        append: bool,
        result: Result<Listing, ApiFailure>,
    },
    UploadProgress {
        id: UploadId,
        sent: u64,
        elapsed: Duration,
    },
    UploadFinished {
        id: UploadId,
        result: Result<(), ApiFailure>,
    },
    Deleted {
        alias: String,
        result: Result<DeleteReport, ApiFailure>,
    },
    TriggersLoaded(Result<Vec<TriggerEntry>, ApiFailure>),
    Triggered {
        name: String,
        result: Result<TriggerOutcome, ApiFailure>,
    },
    /// Unfinished uploads to this server, remembered from an earlier run.
    ResumableFound(Vec<crate::resume::Resumable>),
    /// A presigned GET URL of `key` and when it ends.
    Presigned {
        key: String,
        result: Result<(String, String), ApiFailure>,
    },
    /// The newest audit events matching `filter`.
    ActivityLoaded {
        filter: String,
        result: Result<Vec<AuditEntry>, ApiFailure>,
    },
}

/// A slow call for the executor.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    LoadBuckets,
    List {
        alias: String,
        prefix: String,
        cursor: Option<String>,
    },
    Upload {
        id: UploadId,
        alias: String,
        key: String,
        path: PathBuf,
    },
    CancelUpload {
        id: UploadId,
    },
    Delete {
        alias: String,
        keys: Vec<String>,
    },
    LoadTriggers,
    Trigger {
        name: String,
        payload: serde_json::Value,
    },
    LoadActivity {
        filter: String,
    },
    /// Looks up the unfinished uploads remembered for this server.
    LoadResumable,
    /// A presigned GET URL of one object.
    Presign {
        alias: String,
        key: String,
    },
    Quit,
}
