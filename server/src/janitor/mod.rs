//! The janitor: aborts incomplete multipart uploads that nobody will complete. For every
//! alias it lists the incomplete multipart uploads and aborts those started more than
//! `[janitor] max_age` ago, except those of tus uploads, which live until their
//! `Upload-Expires`: expired tus uploads are removed whole (multipart upload, tails, state).
//!
//! Any replica may run it at any time, several at once: aborting an upload that another
//! replica just aborted is answered `NoSuchUpload`, which counts as done. It runs every
//! `[janitor] interval` when `[janitor] enabled`, and once from `hoist-server janitor --once`.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::audit::{Action, Audit, AuditEvent, Who};
use crate::config::{ConfigProblem, JanitorSettings};
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::storage::model::IncompleteUpload;
use crate::storage::{Bucket, Buckets, StorageError};

/// The audit trail's name for the janitor.
const WHO: &str = "hoist-janitor";

/// What one pass did to one alias.
#[derive(Debug, Default)]
pub struct AliasReport {
    pub alias: String,
    /// Uploads aborted: (key, upload id, age).
    pub aborted: Vec<(String, String, Duration)>,
    /// Uploads younger than `max_age`, left alone.
    pub young: usize,
    /// Multipart uploads of tus uploads, left to their own expiry.
    pub tus: usize,
    /// Expired tus uploads removed: (key, upload id).
    pub tus_removed: Vec<(String, String)>,
    /// The store does not list multipart uploads (s3s-fs, the embedded store).
    pub unsupported: bool,
    pub errors: Vec<String>,
}

impl AliasReport {
    /// Records one thing the pass could not do: logged, counted
    /// (`hoist_janitor_errors_total{alias}`) and listed in the report.
    fn failed(&mut self, metrics: &Metrics, message: String) {
        tracing::error!(alias = self.alias, "janitor: {message}");
        metrics
            .lifecycle
            .janitor_errors
            .with_label_values(&[self.alias.as_str()])
            .inc();
        self.errors.push(message);
    }
}

/// What one pass did.
#[derive(Debug, Default)]
pub struct Report {
    pub aliases: Vec<AliasReport>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.aliases.iter().map(|alias| alias.errors.len()).sum()
    }

    pub fn aborted(&self) -> usize {
        self.aliases.iter().map(|alias| alias.aborted.len()).sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for alias in &self.aliases {
            for (key, upload_id, age) in &alias.aborted {
                writeln!(
                    f,
                    "{}: aborted {key} (upload {upload_id}, {} old)",
                    alias.alias,
                    humantime::format_duration(Duration::from_secs(age.as_secs()))
                )?;
            }
            for (key, upload_id) in &alias.tus_removed {
                writeln!(
                    f,
                    "{}: removed expired tus upload {key} (upload {upload_id})",
                    alias.alias
                )?;
            }
            for error in &alias.errors {
                writeln!(f, "{}: error: {error}", alias.alias)?;
            }
            if alias.unsupported {
                writeln!(
                    f,
                    "{}: skipped: the store does not list multipart uploads \
                     (ListMultipartUploads is not implemented, as on the embedded s3s-fs store)",
                    alias.alias
                )?;
            } else {
                writeln!(
                    f,
                    "{}: {} aborted, {} younger than max_age kept, {} tus uploads kept, {} expired tus uploads removed, {} errors",
                    alias.alias,
                    alias.aborted.len(),
                    alias.young,
                    alias.tus,
                    alias.tus_removed.len(),
                    alias.errors.len()
                )?;
            }
        }
        Ok(())
    }
}

/// One janitor pass over every alias of a running gateway.
pub async fn run_once(state: &AppState) -> Report {
    pass(
        &state.buckets,
        &state.settings.janitor,
        &state.metrics,
        &state.audit,
    )
    .await
}

/// One janitor pass over every alias.
pub(crate) async fn pass(
    buckets: &Buckets,
    settings: &JanitorSettings,
    metrics: &Metrics,
    audit: &Audit,
) -> Report {
    let mut report = Report::default();
    for bucket in buckets.iter() {
        let alias = clean_alias(bucket, settings.max_age, metrics, audit).await;
        report.aliases.push(alias);
    }
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    metrics.lifecycle.janitor_last_run.set(now.as_secs() as i64);
    report
}

async fn clean_alias(
    bucket: &Bucket,
    max_age: Duration,
    metrics: &Metrics,
    audit: &Audit,
) -> AliasReport {
    let mut report = AliasReport {
        alias: bucket.alias.clone(),
        ..AliasReport::default()
    };
    // tus uploads first: their multipart uploads are kept (or removed) by their own expiry.
    // State that cannot be read means no multipart upload can be told apart: abort none.
    let tus = match tus_pass(bucket, metrics, audit, &mut report).await {
        Ok(tus) => tus,
        Err(error) => {
            report.failed(metrics, format!("cannot list tus uploads: {error}"));
            return report;
        }
    };
    let uploads = match bucket.incomplete_uploads().await {
        Ok(uploads) => uploads,
        Err(StorageError::Backend { code, .. }) if code == "NotImplemented" => {
            tracing::debug!(
                alias = bucket.alias,
                "janitor: the store does not list multipart uploads"
            );
            report.unsupported = true;
            return report;
        }
        Err(error) => {
            report.failed(metrics, format!("cannot list multipart uploads: {error}"));
            return report;
        }
    };
    let now = SystemTime::now();
    for upload in uploads {
        if tus.contains(&upload.upload_id) {
            report.tus += 1;
            continue;
        }
        let age = now.duration_since(upload.initiated).unwrap_or_default();
        if age < max_age {
            report.young += 1;
            continue;
        }
        abort(bucket, upload, age, metrics, audit, &mut report).await;
    }
    report
}

async fn abort(
    bucket: &Bucket,
    upload: IncompleteUpload,
    age: Duration,
    metrics: &Metrics,
    audit: &Audit,
    report: &mut AliasReport,
) {
    let alias = bucket.alias.as_str();
    let result = bucket.abort_incomplete(&upload).await;
    let outcome = match &result {
        Ok(true) => "ok",
        // Another replica (or the upload's own request) got there first.
        Ok(false) => "already-gone",
        Err(_) => "failed",
    };
    audit.record(
        AuditEvent::new(Action::JanitorAbort, Who::system(WHO), outcome)
            .detail("bucket", alias)
            .detail("key", upload.key.as_str())
            .detail("uploadId", upload.upload_id.as_str())
            .detail("ageSecs", age.as_secs()),
    );
    match result {
        Err(error) => report.failed(
            metrics,
            format!(
                "cannot abort {} ({}): {error}",
                upload.key, upload.upload_id
            ),
        ),
        Ok(_) => {
            tracing::info!(
                alias,
                key = upload.key,
                upload_id = upload.upload_id,
                age_secs = age.as_secs(),
                outcome,
                "janitor: multipart upload aborted"
            );
            metrics
                .lifecycle
                .janitor_aborted
                .with_label_values(&[alias])
                .inc();
            report.aborted.push((upload.key, upload.upload_id, age));
        }
    }
}

/// Removes the expired tus uploads of `bucket`; the upload ids of the others, which the
/// janitor keeps.
async fn tus_pass(
    bucket: &Bucket,
    metrics: &Metrics,
    audit: &Audit,
    report: &mut AliasReport,
) -> Result<HashSet<String>, StorageError> {
    let now = SystemTime::now();
    let mut live = HashSet::new();
    for (uuid, state) in bucket.tus_uploads().await? {
        if !state.is_expired(now) {
            live.insert(state.upload_id);
            continue;
        }
        let result = bucket.tus_remove(&uuid, &state).await;
        audit.record(
            AuditEvent::new(
                Action::JanitorAbort,
                Who::system(WHO),
                if result.is_ok() { "ok" } else { "failed" },
            )
            .detail("bucket", bucket.alias.as_str())
            .detail("key", state.key.as_str())
            .detail("uploadId", state.upload_id.as_str())
            .detail("tus", uuid.as_str()),
        );
        match result {
            Ok(()) => {
                metrics
                    .lifecycle
                    .janitor_aborted
                    .with_label_values(&[bucket.alias.as_str()])
                    .inc();
                report.tus_removed.push((state.key, state.upload_id));
            }
            Err(error) => report.failed(
                metrics,
                format!("cannot remove expired tus upload {uuid}: {error}"),
            ),
        }
    }
    Ok(live)
}

/// Runs a pass every `[janitor] interval` while the gateway serves, the first at start-up.
pub(crate) async fn run_every(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(state.settings.janitor.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let report = run_once(&state).await;
        tracing::info!(
            aborted = report.aborted(),
            errors = report.errors(),
            "janitor pass finished"
        );
    }
}

/// Problems of `[janitor]`.
pub fn check(janitor: &JanitorSettings) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if janitor.interval < Duration::from_secs(1) {
        problems.push(ConfigProblem::new(
            "janitor.interval",
            "must be at least 1s",
        ));
    }
    problems
}
