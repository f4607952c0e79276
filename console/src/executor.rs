//! The executor: the only place that talks to the server. It runs each command on the tokio
//! runtime through `hoist-client` and sends a completion message back to the app.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use tokio_util::io::ReaderStream;

use hoist_client::types::{ErrorEnvelope, TriggerRequest};
use hoist_client::{Client, Connect};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;

use crate::model::{
    ApiFailure, AuditEntry, BucketEntry, DeleteReport, Listing, ObjectEntry, TriggerEntry,
    TriggerOutcome,
};
use crate::msg::{Command, Msg, UploadId};
use crate::resume::{Resumable, ResumeStore};
use crate::tus::{self, TusClient};

/// Runs commands; owns the API client and the handles of running uploads.
pub struct Executor {
    client: Client,
    connect: Connect,
    tx: UnboundedSender<Msg>,
    uploads: HashMap<UploadId, AbortHandle>,
    /// Files larger than one tus chunk go through tus, remembered here until they finish.
    tus: TusClient,
    resume: Option<ResumeStore>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("server", &self.connect.base_url)
            .finish_non_exhaustive()
    }
}

impl Executor {
    pub fn new(
        connect: Connect,
        tx: UnboundedSender<Msg>,
    ) -> Result<Self, hoist_client::BuildError> {
        let tus = TusClient {
            http: connect.http()?,
            base_url: connect.base_url.clone(),
        };
        Ok(Self {
            client: connect.client()?,
            connect,
            tx,
            uploads: HashMap::new(),
            tus,
            resume: ResumeStore::default_file().map(ResumeStore::at),
        })
    }

    /// Remembers unfinished uploads in `store` instead of the default file.
    pub fn with_resume_store(mut self, store: ResumeStore) -> Self {
        self.resume = Some(store);
        self
    }

    /// Starts `command`; its completion arrives later as a message.
    pub fn run(&mut self, command: Command) {
        let client = self.client.clone();
        let tx = self.tx.clone();
        match command {
            Command::LoadBuckets => {
                tokio::spawn(async move {
                    let result = client
                        .list_buckets()
                        .await
                        .map(|r| {
                            r.into_inner()
                                .data
                                .into_iter()
                                .map(|b| BucketEntry {
                                    alias: b.alias,
                                    region: b.region,
                                    is_default: b.is_default,
                                })
                                .collect()
                        })
                        .map_err(failure);
                    let _ = tx.send(Msg::BucketsLoaded(result));
                });
            }
            Command::LoadTriggers => {
                tokio::spawn(async move {
                    let result = client
                        .list_triggers()
                        .await
                        .map(|r| {
                            r.into_inner()
                                .data
                                .into_iter()
                                .map(|t| TriggerEntry {
                                    name: t.name,
                                    kind: t.kind,
                                    auth: t.auth.to_string(),
                                    mode: t.mode,
                                })
                                .collect()
                        })
                        .map_err(failure);
                    let _ = tx.send(Msg::TriggersLoaded(result));
                });
            }
            Command::Trigger { name, payload } => {
                tokio::spawn(async move {
                    let result = match payload {
                        serde_json::Value::Object(data) => client
                            .trigger(&name, None, &TriggerRequest { data })
                            .await
                            .map(|r| {
                                let outcome = r.into_inner().data;
                                TriggerOutcome {
                                    success: outcome.success,
                                    status_code: outcome.status_code.map(i64::from),
                                    execution_arn: outcome.execution_arn,
                                    payload: outcome.payload,
                                    function_error: outcome.function_error,
                                }
                            })
                            .map_err(failure),
                        _ => Err(ApiFailure::transport("the payload must be a JSON object")),
                    };
                    let _ = tx.send(Msg::Triggered { name, result });
                });
            }
            Command::List {
                alias,
                prefix,
                cursor,
            } => {
                tokio::spawn(async move {
                    let append = cursor.is_some();
                    let result = client
                        .list_files_page(
                            Some(&alias),
                            cursor.as_deref(),
                            Some("/"),
                            Some(PAGE_SIZE),
                            None,
                            Some(&prefix),
                        )
                        .await
                        .map(|r| {
                            let page = r.into_inner().data;
                            Listing {
                                folders: page.folders,
                                objects: page
                                    .items
                                    .into_iter()
                                    .map(|item| ObjectEntry {
                                        key: item.key,
                                        size: item.size,
                                        date: item.date,
                                    })
                                    .collect(),
                                total: page.total,
                                cursor: page.cursor,
                            }
                        })
                        .map_err(failure);
                    let _ = tx.send(Msg::ListingLoaded {
                        alias,
                        prefix,
                        append,
                        result,
                    });
                });
            }
            Command::Upload {
                id,
                alias,
                key,
                path,
            } => {
                let tus = self.tus.clone();
                let resume = self.resume.clone();
                let handle = tokio::spawn(async move {
                    let size = tokio::fs::metadata(&path).await.map_or(0, |m| m.len());
                    let result = if size > tus::CHUNK as u64 {
                        let target = Target {
                            alias: &alias,
                            key: &key,
                            path: &path,
                            size,
                        };
                        upload_resumable(&tus, resume.as_ref(), &tx, id, target).await
                    } else {
                        upload(&client, &tx, id, &alias, &key, &path).await
                    };
                    let _ = tx.send(Msg::UploadFinished { id, result });
                });
                self.uploads.retain(|_, handle| !handle.is_finished());
                self.uploads.insert(id, handle.abort_handle());
            }
            Command::Delete { alias, keys } => {
                tokio::spawn(async move {
                    // The API takes the old service's comma-separated list.
                    let joined = keys.join(",");
                    let result = client
                        .delete_files(Some(&alias), &joined)
                        .await
                        .map(|r| {
                            let report = r.into_inner().data;
                            DeleteReport {
                                deleted: report.deleted,
                                errors: report
                                    .errors
                                    .into_iter()
                                    .map(|e| (e.key, e.code, e.message))
                                    .collect(),
                            }
                        })
                        .map_err(failure);
                    let _ = tx.send(Msg::Deleted { alias, result });
                });
            }
            Command::CancelUpload { id } => {
                if let Some(handle) = self.uploads.remove(&id)
                    && !handle.is_finished()
                {
                    // Dropping the request closes the connection; the server aborts the upload.
                    handle.abort();
                    let _ = tx.send(Msg::UploadFinished {
                        id,
                        result: Err(ApiFailure::transport("cancelled")),
                    });
                }
            }
            Command::LoadActivity { filter } => {
                tokio::spawn(async move {
                    let wanted = (!filter.is_empty()).then_some(filter.as_str());
                    let result = client
                        .list_audit_events(wanted, Some(ACTIVITY_EVENTS))
                        .await
                        .map(|r| {
                            r.into_inner()
                                .data
                                .into_iter()
                                .map(|e| AuditEntry {
                                    at: e.at,
                                    action: e.action,
                                    sub: e.sub,
                                    client: e.client,
                                    outcome: e.outcome,
                                    details: serde_json::Value::Object(e.details).to_string(),
                                })
                                .collect()
                        })
                        .map_err(failure);
                    let _ = tx.send(Msg::ActivityLoaded { filter, result });
                });
            }
            Command::LoadResumable => {
                let server = self.connect.base_url.clone();
                let found = self
                    .resume
                    .as_ref()
                    .map(|store| {
                        store
                            .all()
                            .into_iter()
                            .filter(|e| e.server == server)
                            .collect()
                    })
                    .unwrap_or_default();
                let _ = tx.send(Msg::ResumableFound(found));
            }
            Command::Presign { alias, key } => {
                tokio::spawn(async move {
                    let body = hoist_client::types::PresignBody {
                        bucket_name: Some(alias),
                        key: key.clone(),
                        method: hoist_client::types::PresignMethod::Get,
                        expires_in: None,
                        content_type: None,
                        checksum_crc32c: None,
                        checksum_sha256: None,
                    };
                    let result = client
                        .presign_file(&body)
                        .await
                        .map(|r| {
                            let url = r.into_inner().data;
                            (url.url, url.expires_at)
                        })
                        .map_err(failure);
                    let _ = tx.send(Msg::Presigned { key, result });
                });
            }
            Command::Quit => {
                for (_, handle) in self.uploads.drain() {
                    handle.abort();
                }
            }
        }
    }
}

/// Objects per listing page: enough to fill a screen several times, small enough that a huge
/// prefix never loads whole.
const PAGE_SIZE: u32 = 200;

/// Audit events the activity page shows.
const ACTIVITY_EVENTS: u32 = 200;

/// Least time between two progress messages, so a fast upload does not flood the screen.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Streams the file to `PUT /files/object`, reporting progress as chunks leave.
async fn upload(
    client: &Client,
    tx: &UnboundedSender<Msg>,
    id: UploadId,
    alias: &str,
    key: &str,
    path: &Path,
) -> Result<(), ApiFailure> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| ApiFailure::transport(format!("{}: {e}", path.display())))?;
    let started = Instant::now();
    let mut sent = 0u64;
    let mut last_report = started;
    let progress = tx.clone();
    let stream = ReaderStream::with_capacity(file, 256 * 1024).inspect_ok(move |chunk| {
        sent += chunk.len() as u64;
        let now = Instant::now();
        if now.duration_since(last_report) >= PROGRESS_EVERY {
            last_report = now;
            let _ = progress.send(Msg::UploadProgress {
                id,
                sent,
                elapsed: now.duration_since(started),
            });
        }
    });
    let size = tokio::fs::metadata(path)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    client
        .put_file_object(
            Some(alias),
            None,
            key,
            None,
            None,
            reqwest::Body::wrap_stream(stream),
        )
        .await
        .map_err(failure)?;
    let _ = tx.send(Msg::UploadProgress {
        id,
        sent: size,
        elapsed: started.elapsed(),
    });
    Ok(())
}

/// Where a resumable upload goes.
struct Target<'a> {
    alias: &'a str,
    key: &'a str,
    path: &'a Path,
    size: u64,
}

/// Sends a large file with tus from where the server has it: a remembered upload of the same
/// file resumes at its offset (asked with HEAD), else a new one is created and remembered
/// until its last byte is in.
async fn upload_resumable(
    tus: &TusClient,
    resume: Option<&ResumeStore>,
    tx: &UnboundedSender<Msg>,
    id: UploadId,
    target: Target<'_>,
) -> Result<(), ApiFailure> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let remembered = resume.and_then(|store| {
        store.find(
            &tus.base_url,
            target.alias,
            target.key,
            target.path,
            target.size,
        )
    });
    let mut known = None;
    if let Some(entry) = remembered {
        match tus.offset(&entry.url).await? {
            Some(offset) => known = Some((entry.url, offset)),
            None => {
                if let Some(store) = resume {
                    let _ = store.forget(&entry.url);
                }
            }
        }
    }
    let (url, mut offset) = match known {
        Some(known) => known,
        None => {
            let url = tus.create(target.alias, target.key, target.size).await?;
            if let Some(store) = resume {
                let entry = Resumable {
                    server: tus.base_url.clone(),
                    alias: target.alias.to_owned(),
                    key: target.key.to_owned(),
                    path: target.path.to_owned(),
                    size: target.size,
                    url: url.clone(),
                };
                store.remember(entry).map_err(|e| {
                    ApiFailure::transport(format!("cannot remember the upload: {e}"))
                })?;
            }
            (url, 0)
        }
    };
    let io = |e: std::io::Error| ApiFailure::transport(format!("{}: {e}", target.path.display()));
    let mut file = tokio::fs::File::open(target.path).await.map_err(io)?;
    let started = Instant::now();
    let _ = tx.send(Msg::UploadProgress {
        id,
        sent: offset,
        elapsed: started.elapsed(),
    });
    let mut retries = 0;
    while offset < target.size {
        let len = (target.size - offset).min(tus::CHUNK as u64) as usize;
        let mut chunk = vec![0; len];
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(io)?;
        file.read_exact(&mut chunk).await.map_err(io)?;
        offset = match tus.append(&url, offset, chunk.into()).await {
            Ok(next) => {
                retries = 0;
                next
            }
            // Another PATCH moved the upload on (an earlier run's, cut off while it was still
            // on its way), or the server or its store failed for a moment: continue from
            // where the server has it, a few times at most, as tus clients do.
            Err(failure) if retryable(&failure) && retries < 5 => {
                retries += 1;
                tokio::time::sleep(Duration::from_millis(300 * retries)).await;
                let at = tus
                    .offset(&url)
                    .await?
                    .ok_or_else(|| ApiFailure::transport("the server no longer has the upload"))?;
                if at == target.size {
                    // Another PATCH sent the last bytes: the server is completing the object,
                    // and forgets the upload once it is stored.
                    wait_until_stored(tus, &url).await?;
                }
                at
            }
            Err(failure) => return Err(failure),
        };
        let _ = tx.send(Msg::UploadProgress {
            id,
            sent: offset,
            elapsed: started.elapsed(),
        });
    }
    if let Some(store) = resume {
        let _ = store.forget(&url);
    }
    Ok(())
}

/// Waits (a few seconds at most) for a fully sent upload to be stored: its tus URL answers
/// 404 once the server completed the object.
async fn wait_until_stored(tus: &TusClient, url: &str) -> Result<(), ApiFailure> {
    for _ in 0..50 {
        if tus.offset(url).await?.is_none() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(ApiFailure::transport(
        "the upload was fully sent, but the server did not confirm it was stored",
    ))
}

/// A failed PATCH worth sending again from the server's offset: the offset moved, or the
/// server (or its store) failed rather than refused.
fn retryable(failure: &ApiFailure) -> bool {
    failure.code == "offset-mismatch" || failure.status.is_some_and(|status| status >= 500)
}

/// The server's error envelope, or what the transport said.
pub fn failure(error: hoist_client::Error<ErrorEnvelope>) -> ApiFailure {
    match error {
        hoist_client::Error::ErrorResponse(response) => {
            let body = response.into_inner().error;
            ApiFailure {
                status: Some(body.status),
                code: body.code.to_string(),
                message: body.message,
                correlation_id: Some(body.correlation_id),
            }
        }
        hoist_client::Error::UnexpectedResponse(response) => ApiFailure {
            status: Some(response.status().as_u16()),
            code: "unexpected-response".into(),
            message: format!("the server answered {}", response.status()),
            correlation_id: response
                .headers()
                .get("x-correlation-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        },
        other => ApiFailure::transport(other.to_string()),
    }
}
