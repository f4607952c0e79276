//! A tus PATCH whose process is killed mid-part leaves its lease in the upload's state. Until
//! the lease has passed every other PATCH is refused (409); then the next one takes the
//! upload over, skipping the part numbers the dead PATCH could still have written, and the
//! upload completes byte-identical: on moto across two replicas, and on the embedded store
//! across a restart of the one process (s3s-fs completes only parts numbered 1, 2, 3, …,
//! which the embedded store makes good). Ground truth from the test's own S3 client.

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::types::ChecksumMode;
use bytes::Bytes;
use hoist_tests::binary::BinaryServer;
use hoist_tests::{crc32c_base64, moto, s3_client, test_bytes};
use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;

const MIB: usize = 1024 * 1024;
/// Long enough that the restarted process meets the lease still held, short enough that the
/// test waits for it.
const LEASE: &str = "6s";

/// What a test does with a Hoist process: its address and a supreme token.
struct Replica {
    base_url: String,
    token: String,
    http: reqwest::Client,
}

impl Replica {
    async fn of(base_url: &str) -> Self {
        let http = reqwest::Client::new();
        let token: serde_json::Value = http
            .get(format!("{base_url}/dev/token?supreme=true&sub=takeover"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Self {
            base_url: base_url.to_owned(),
            token: token["data"]["token"].as_str().unwrap().to_owned(),
            http,
        }
    }

    fn tus(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .header("tus-resumable", "1.0.0")
    }

    /// `POST /tus` for `length` bytes named `name`; the upload's path.
    async fn create(&self, name: &str, length: usize) -> String {
        use base64::Engine;
        let filename = base64::engine::general_purpose::STANDARD.encode(name);
        let response = self
            .tus(reqwest::Method::POST, "/tus")
            .header("upload-length", length.to_string())
            .header("upload-metadata", format!("filename {filename}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().unwrap();
        // The path, whether the server answered it absolute or not.
        location
            .strip_prefix(&self.base_url)
            .unwrap_or(location)
            .to_owned()
    }

    async fn offset(&self, path: &str) -> u64 {
        let response = self.tus(reqwest::Method::HEAD, path).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    async fn patch(&self, path: &str, offset: u64, body: Bytes) -> StatusCode {
        self.tus(reqwest::Method::PATCH, path)
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", offset.to_string())
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Starts a PATCH of all of `data` from offset 0 and sends its first `sent` bytes, so
    /// that a part is stored and the next one is streaming when the caller kills the process.
    async fn start_patch(&self, path: &str, data: &[u8], sent: usize) -> tokio::net::TcpStream {
        let address = self.base_url.trim_start_matches("http://");
        let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
        let head = format!(
            "PATCH {path} HTTP/1.1\r\nHost: hoist\r\nAuthorization: Bearer {}\r\n\
             Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n\
             Upload-Offset: 0\r\nContent-Length: {}\r\n\r\n",
            self.token,
            data.len(),
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&data[..sent]).await.unwrap();
        socket
    }
}

/// The rest of `data` from where `replica` says the upload stands: refused while the dead
/// PATCH's lease holds, appended once it has passed. Returns the refusals seen; panics with
/// `process`'s log on any other answer.
async fn resume_after_the_lease(
    replica: &Replica,
    process: &BinaryServer,
    path: &str,
    data: &Bytes,
) -> usize {
    let started = Instant::now();
    let mut refused = 0;
    loop {
        let offset = replica.offset(path).await;
        let rest = data.slice(usize::try_from(offset).unwrap()..);
        match replica.patch(path, offset, rest).await {
            StatusCode::NO_CONTENT => return refused,
            StatusCode::CONFLICT if started.elapsed() < Duration::from_secs(20) => {
                refused += 1;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            status => panic!(
                "resuming at {offset} after the lease: {status}; the log: {:#?}",
                process.drain_logs(Duration::from_secs(1))
            ),
        }
    }
}

/// Kills `process` (SIGKILL: nothing is given back) once its PATCH has stored a part and
/// streams the next.
async fn kill_mid_part(process: BinaryServer, socket: tokio::net::TcpStream) {
    // Time for the first part to reach the store; the second is then streaming.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(process);
    drop(socket);
}

#[tokio::test]
async fn a_patch_killed_mid_part_is_taken_over_on_another_replica() {
    let bucket = moto::unique_bucket("tus-takeover");
    moto::create_bucket(&bucket).await;
    let dir = tempfile::tempdir().unwrap();
    let dying = super::tus::replica_on(&bucket, dir.path(), &[("HOIST_TUS__LEASE", LEASE)]);
    let survivor = super::tus::replica_on(&bucket, dir.path(), &[("HOIST_TUS__LEASE", LEASE)]);
    let data = test_bytes(12 * MIB, 21);
    let first = Replica::of(&dying.base_url).await;
    let path = first.create("taken-over.bin", data.len()).await;
    let socket = first.start_patch(&path, &data, 7 * MIB).await;
    kill_mid_part(dying, socket).await;

    let second = Replica::of(&survivor.base_url).await;
    let refused = resume_after_the_lease(&second, &survivor, &path, &data).await;
    assert!(
        refused > 0,
        "the dead PATCH's lease held the upload for a while"
    );

    let object = moto::s3()
        .get_object()
        .bucket(&bucket)
        .key("taken-over.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("the upload completed");
    assert_eq!(
        object.checksum_crc32_c(),
        Some(crc32c_base64(&data).as_str())
    );
    let bytes = object.body.collect().await.unwrap().into_bytes();
    assert!(bytes == data, "byte-identical");
    assert!(
        moto::multipart_uploads(&moto::s3(), &bucket)
            .await
            .is_empty(),
        "no multipart upload left"
    );
    survivor.terminate();
}

/// The embedded store of a process started in `dir` (its data under `dir/store`, kept across
/// restarts).
fn embedded_process(dir: &Path) -> BinaryServer {
    let root = dir.join("store");
    BinaryServer::start(
        dir,
        &[
            ("HOIST_STORAGE__EMBEDDED__ROOT", root.to_str().unwrap()),
            ("HOIST_UPLOAD__PART_SIZE", "5242880"),
            ("HOIST_TUS__LEASE", LEASE),
        ],
    )
}

#[tokio::test]
async fn a_patch_killed_mid_part_is_taken_over_after_a_restart_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let dying = embedded_process(dir.path());
    let data = test_bytes(12 * MIB, 22);
    let first = Replica::of(&dying.base_url).await;
    let path = first.create("restarted.bin", data.len()).await;
    let socket = first.start_patch(&path, &data, 7 * MIB).await;
    kill_mid_part(dying, socket).await;

    let restarted = embedded_process(dir.path());
    let second = Replica::of(&restarted.base_url).await;
    let refused = resume_after_the_lease(&second, &restarted, &path, &data).await;
    assert!(refused > 0, "the lease outlived the process");

    let field = |name| restarted.startup_field(name).expect("logged at start-up");
    let s3 = s3_client(
        &field("embedded_s3_endpoint"),
        &field("access_key_id"),
        &field("secret_access_key"),
    );
    let listed = s3
        .list_objects_v2()
        .bucket("hoist-uploads")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(
        keys,
        ["restarted.bin"],
        "the object alone, no state or tail left"
    );
    let object = s3
        .get_object()
        .bucket("hoist-uploads")
        .key("restarted.bin")
        .send()
        .await
        .unwrap();
    let bytes = object.body.collect().await.unwrap().into_bytes();
    assert!(bytes == data, "byte-identical");
    restarted.terminate();
}
