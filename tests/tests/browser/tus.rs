//! Resumable uploads with tus 1.0.0 on moto: tuspy (the tus project's Python client, from
//! PyPI) uploads with checksums and resumes an interrupted upload on a second Hoist process;
//! two PATCHes of one upload on two processes cannot both append; a PATCH streams the parts
//! it fills, and one broken off mid-part resumes at that part; the protocol's refusals;
//! termination and expiry leave nothing in the bucket; on the embedded store, PATCHes at one
//! offset sent together append once. Ground truth from the test's own S3 client.

use std::time::Duration;

use aws_sdk_s3::types::ChecksumMode;
use bytes::Bytes;
use hoist_tests::binary::BinaryServer;
use hoist_tests::{TestServer, crc32c_base64, moto, test_bytes};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const MIB: usize = 1024 * 1024;
const PATCH_TYPE: &str = "application/offset+octet-stream";

/// Hoist on moto with one alias `direct` (the default) on `bucket`, parts of 5 MiB (S3's
/// smallest).
async fn on_bucket(bucket: &str) -> TestServer {
    let bucket = bucket.to_owned();
    TestServer::start_with(move |settings| {
        moto::use_bucket_on(settings, &moto::endpoint(), "direct", &bucket);
        settings.upload.part_size = 5 * MIB as u64;
    })
    .await
}

/// The real binary on the same moto bucket (alias `uploads`, parts of 5 MiB), with `extra`
/// settings: a second replica.
pub(super) fn replica_on(
    bucket: &str,
    dir: &std::path::Path,
    extra: &[(&str, &str)],
) -> BinaryServer {
    let endpoint = moto::endpoint();
    let mut env = vec![
        ("HOIST_AWS__ENDPOINT", endpoint.as_str()),
        ("HOIST_AWS__FORCE_PATH_STYLE", "true"),
        ("HOIST_AWS__ACCESS_KEY_ID", moto::ACCESS_KEY),
        ("HOIST_AWS__SECRET_ACCESS_KEY", moto::SECRET_KEY),
        ("HOIST_BUCKETS__UPLOADS__NAME", bucket),
        ("HOIST_UPLOAD__PART_SIZE", "5242880"),
    ];
    env.extend_from_slice(extra);
    BinaryServer::start(dir, &env)
}

/// Runs tuspy (tests/tus/client.py) and returns what it printed.
async fn tuspy(args: Vec<String>) -> Value {
    let python = std::env::var("HOIST_TEST_PYTHON")
        .expect("HOIST_TEST_PYTHON is set by tests/run, which installs tuspy");
    let script = std::env::var("HOIST_TEST_TUS_CLIENT").expect("HOIST_TEST_TUS_CLIENT");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .args(args)
            .output()
            .expect("python runs")
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "tuspy failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON line")
}

fn args(pairs: &[(&str, &str)]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|(flag, value)| [format!("--{flag}"), (*value).to_owned()])
        .filter(|arg| !arg.is_empty())
        .collect()
}

/// The object's bytes and type, and its CRC32C as S3 reports it, read past Hoist.
async fn stored(bucket: &str, key: &str) -> (Bytes, Option<String>, Option<String>) {
    let object = moto::s3()
        .get_object()
        .bucket(bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key} is stored: {e:?}"));
    let content_type = object.content_type().map(str::to_owned);
    let crc = object.checksum_crc32_c().map(str::to_owned);
    (
        object.body.collect().await.unwrap().into_bytes(),
        content_type,
        crc,
    )
}

/// Every key of `bucket` under Hoist's reserved prefix, read past Hoist.
async fn state_objects(bucket: &str) -> Vec<String> {
    moto::s3()
        .list_objects_v2()
        .bucket(bucket)
        .prefix(".hoist/")
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|object| object.key().map(str::to_owned))
        .collect()
}

async fn nothing_left(bucket: &str) {
    assert!(
        moto::multipart_uploads(&moto::s3(), bucket)
            .await
            .is_empty(),
        "no multipart upload left"
    );
    assert!(state_objects(bucket).await.is_empty(), "no tus state left");
}

/// A tus request with the version header and a supreme token.
fn tus(server: &TestServer, method: Method, path: &str) -> reqwest::RequestBuilder {
    server
        .request(method, path, Some(&server.token(true)))
        .header("tus-resumable", "1.0.0")
}

/// `POST /tus` for `length` bytes named `name`; the upload's path.
async fn create(server: &TestServer, name: &str, length: usize) -> String {
    let response = tus(server, Method::POST, "/tus")
        .header("upload-length", length.to_string())
        .header(
            "upload-metadata",
            metadata(&[("filename", name), ("filetype", "application/pdf")]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn metadata(pairs: &[(&str, &str)]) -> String {
    use base64::Engine;
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(key, value)| {
            format!(
                "{key} {}",
                base64::engine::general_purpose::STANDARD.encode(value)
            )
        })
        .collect();
    encoded.join(",")
}

async fn offset_of(server: &TestServer, path: &str) -> Option<u64> {
    let response = tus(server, Method::HEAD, path).send().await.unwrap();
    if response.status() == 404 {
        return None;
    }
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    Some(
        response.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap(),
    )
}

async fn patch(server: &TestServer, path: &str, offset: usize, body: Bytes) -> reqwest::Response {
    tus(server, Method::PATCH, path)
        .header("content-type", PATCH_TYPE)
        .header("upload-offset", offset.to_string())
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A PATCH that declares `declared` bytes from `offset`, sends `sent` of them over a raw
/// socket and then vanishes with its connection, as a phone losing its network does.
async fn broken_patch(
    server: &TestServer,
    path: &str,
    offset: usize,
    declared: usize,
    sent: &[u8],
) {
    use tokio::io::AsyncWriteExt;
    let mut socket = server.connect().await;
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: hoist\r\nAuthorization: Bearer {}\r\n\
         Tus-Resumable: 1.0.0\r\nContent-Type: {PATCH_TYPE}\r\nUpload-Offset: {offset}\r\n\
         Content-Length: {declared}\r\n\r\n",
        server.token(true),
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(sent).await.unwrap();
}

#[tokio::test]
async fn tuspy_uploads_13_mib_in_5_mib_chunks_with_checksums() {
    let bucket = moto::unique_bucket("tus-big");
    moto::create_bucket(&bucket).await;
    let server = on_bucket(&bucket).await;
    let data = test_bytes(13 * MIB, 13);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.bin");
    std::fs::write(&file, &data).unwrap();
    let printed = tuspy(args(&[
        ("endpoint", &server.url("/tus")),
        ("token", &server.token(true)),
        ("file", file.to_str().unwrap()),
        ("chunk-size", &(5 * MIB).to_string()),
        ("metadata", "filename=big.bin"),
        ("metadata", "filetype=application/x-big"),
        ("metadata", "prefix=tus/in"),
        ("checksum", ""),
    ]))
    .await;
    assert_eq!(printed["offset"], 13 * MIB);
    let (bytes, content_type, crc) = stored(&bucket, "tus/in/big.bin").await;
    assert!(bytes == data, "byte-identical");
    assert_eq!(content_type.as_deref(), Some("application/x-big"));
    assert_eq!(crc, Some(crc32c_base64(&data)), "the whole object's CRC32C");
    nothing_left(&bucket).await;
    server.stop().await;
}

#[tokio::test]
async fn an_interrupted_upload_resumes_on_a_second_process() {
    let bucket = moto::unique_bucket("tus-resume");
    moto::create_bucket(&bucket).await;
    let first = on_bucket(&bucket).await;
    let data = test_bytes(7 * MIB, 7);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seven.bin");
    std::fs::write(&file, &data).unwrap();
    let token = first.token(true);
    let stopped = tuspy(args(&[
        ("endpoint", &first.url("/tus")),
        ("token", &token),
        ("file", file.to_str().unwrap()),
        ("chunk-size", &MIB.to_string()),
        ("metadata", "filename=seven.bin"),
        ("stop-at", &(3 * MIB).to_string()),
    ]))
    .await;
    assert_eq!(stopped["offset"], 3 * MIB);
    let url = stopped["url"].as_str().unwrap().to_owned();
    let path = url.trim_start_matches(&first.base_url).to_owned();
    assert!(path.starts_with("/tus/direct~"), "{url}");
    first.stop().await;

    // Another replica, another process, nothing shared but the bucket.
    let second = replica_on(&bucket, dir.path(), &[]);
    let alias_path = path.replacen("/tus/direct~", "/tus/uploads~", 1);
    let resumed = tuspy(args(&[
        ("endpoint", &format!("{}/tus", second.base_url)),
        ("token", &token),
        ("file", file.to_str().unwrap()),
        ("chunk-size", &MIB.to_string()),
        ("resume-url", &format!("{}{alias_path}", second.base_url)),
    ]))
    .await;
    assert_eq!(resumed["offset"], 7 * MIB);
    let (bytes, _, crc) = stored(&bucket, "seven.bin").await;
    assert!(bytes == data, "byte-identical after the resume");
    assert_eq!(crc, Some(crc32c_base64(&data)));
    nothing_left(&bucket).await;
    second.terminate();
}

#[tokio::test]
async fn two_patches_at_one_offset_on_two_processes_cannot_both_append() {
    let bucket = moto::unique_bucket("tus-race");
    moto::create_bucket(&bucket).await;
    let server = on_bucket(&bucket).await;
    let dir = tempfile::tempdir().unwrap();
    let other = replica_on(&bucket, dir.path(), &[]);
    let data = test_bytes(6 * MIB, 6);
    let path = create(&server, "race.bin", data.len()).await;
    let other_path = path.replacen("/tus/direct~", "/tus/uploads~", 1);

    // The first PATCH sends 1 MiB and then waits, holding the upload.
    let (gate, opened) = tokio::sync::oneshot::channel::<()>();
    let head = data.slice(..MIB);
    let rest = data.slice(MIB..);
    let body = futures_util::stream::unfold(
        (Some(head), Some(opened), Some(rest)),
        |(head, opened, rest)| async move {
            if let Some(head) = head {
                return Some((Ok::<Bytes, std::io::Error>(head), (None, opened, rest)));
            }
            if let Some(opened) = opened {
                let _ = opened.await;
            }
            rest.map(|rest| (Ok(rest), (None, None, None)))
        },
    );
    let first = tokio::spawn(
        tus(&server, Method::PATCH, &path)
            .header("content-type", PATCH_TYPE)
            .header("upload-offset", "0")
            .header("content-length", data.len().to_string())
            .body(reqwest::Body::wrap_stream(body))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let second = reqwest::Client::new()
        .patch(format!("{}{other_path}", other.base_url))
        .bearer_auth(server.token(true))
        .header("tus-resumable", "1.0.0")
        .header("content-type", PATCH_TYPE)
        .header("upload-offset", "0")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    let second_status = second.status();
    let second_body = second.text().await.unwrap();
    let _ = gate.send(());
    let first = first.await.unwrap().unwrap();
    let mut statuses = [first.status().as_u16(), second_status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [204, 409],
        "one appends, the other is refused: {second_body}"
    );
    if second_status == StatusCode::CONFLICT {
        assert!(second_body.contains("upload-locked"), "{second_body}");
    }
    let (bytes, _, crc) = stored(&bucket, "race.bin").await;
    assert!(bytes == data, "the object is intact");
    assert_eq!(crc, Some(crc32c_base64(&data)));
    nothing_left(&bucket).await;
    other.terminate();
    server.stop().await;
}

/// On the embedded store (what `cargo run` serves), sixteen PATCHes at offset 0 arriving
/// together: their heads are written on sixteen open connections one after another, then
/// their bodies. The lease is a conditional write of the upload's state, so exactly one
/// appends; the others find it held (409) or, arriving after the last byte, the upload gone
/// (404). (The store's side of it, conditional writers of one version sent at the very same
/// moment, is `storage::s3`'s unit test `of_conditional_writes_on_one_version_exactly_one_wins`:
/// on s3s-fs without the embedded store's key locks all of them won. Through Hoist the
/// requests arrive spread out enough that this test passed without the locks too.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_at_one_offset_sent_together_on_the_embedded_store_append_once() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server =
        TestServer::start_with(|settings| settings.upload.part_size = 5 * MIB as u64).await;
    let data = test_bytes(64 * 1024, 8);
    let path = create(&server, "together.bin", data.len()).await;
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: hoist\r\nAuthorization: Bearer {}\r\n\
         Tus-Resumable: 1.0.0\r\nContent-Type: {PATCH_TYPE}\r\nUpload-Offset: 0\r\n\
         Content-Length: {}\r\n\r\n",
        server.token(true),
        data.len(),
    );
    let mut sockets = Vec::new();
    for _ in 0..16 {
        sockets.push(server.connect().await);
    }
    for socket in &mut sockets {
        socket.write_all(head.as_bytes()).await.unwrap();
    }
    let answers = sockets.into_iter().map(|mut socket| {
        let data = data.clone();
        async move {
            // A refused PATCH may be answered before its body is read: the status is what
            // counts, whatever becomes of the rest.
            let _ = socket.write_all(&data).await;
            let mut answer = Vec::new();
            let mut buffer = [0u8; 1024];
            while !answer.windows(2).any(|pair| pair == b"\r\n") {
                match tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buffer)).await
                {
                    Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buffer[..n]),
                    _ => break,
                }
            }
            String::from_utf8_lossy(&answer)
                .split(' ')
                .nth(1)
                .and_then(|status| status.parse::<u16>().ok())
                .unwrap_or(0)
        }
    });
    let statuses: Vec<u16> = futures_util::future::join_all(answers).await;
    assert_eq!(
        statuses.iter().filter(|status| **status == 204).count(),
        1,
        "one PATCH appends: {statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|status| [204, 404, 409].contains(status)),
        "the others are refused: {statuses:?}"
    );
    server.uploads_idle().await;
    let keys = server.stored_keys("hoist-uploads", "").await;
    let [key] = keys.as_slice() else {
        panic!("the object alone, no state or tail left: {keys:?}");
    };
    assert!(key.ends_with("together.bin"), "{key}");
    let object = server
        .embedded_s3()
        .get_object()
        .bucket("hoist-uploads")
        .key(key)
        .send()
        .await
        .unwrap();
    let bytes = object.body.collect().await.unwrap().into_bytes();
    assert!(bytes == data, "the object is whole, written once");
    server.stop().await;
}

#[tokio::test]
async fn the_protocol_refuses_what_it_must_and_termination_leaves_nothing() {
    let bucket = moto::unique_bucket("tus-refusals");
    moto::create_bucket(&bucket).await;
    let server = on_bucket(&bucket).await;

    let options = server
        .http()
        .request(Method::OPTIONS, server.url("/tus"))
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), 204);
    let headers = options.headers();
    assert_eq!(headers["tus-version"], "1.0.0");
    assert_eq!(
        headers["tus-extension"],
        "creation,creation-with-upload,termination,checksum,expiration"
    );
    assert!(
        headers["tus-checksum-algorithm"]
            .to_str()
            .unwrap()
            .contains("sha1")
    );
    assert_eq!(
        headers["tus-max-size"].to_str().unwrap(),
        server.state.settings.upload.max_file_size.to_string()
    );

    // No token, a user token, no Tus-Resumable.
    let anonymous = server
        .http()
        .post(server.url("/tus"))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", "10")
        .send()
        .await
        .unwrap();
    hoist_tests::answer::Answer::read(anonymous)
        .await
        .assert_error(401, "unauthorized");
    let user = server
        .request(Method::POST, "/tus", Some(&server.token(false)))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", "10")
        .send()
        .await
        .unwrap();
    hoist_tests::answer::Answer::read(user)
        .await
        .assert_error(403, "forbidden");
    let unversioned = server
        .supreme(Method::POST, "/tus")
        .header("upload-length", "10")
        .send()
        .await
        .unwrap();
    hoist_tests::answer::Answer::read(unversioned)
        .await
        .assert_error(412, "tus-version");

    // Creation refusals: too large, no file name, a hostile prefix.
    let oversize = tus(&server, Method::POST, "/tus")
        .header(
            "upload-length",
            (server.state.settings.upload.max_file_size + 1).to_string(),
        )
        .header("upload-metadata", metadata(&[("filename", "huge.bin")]))
        .send()
        .await
        .unwrap();
    hoist_tests::answer::Answer::read(oversize)
        .await
        .assert_error(413, "file-too-large");
    let nameless = tus(&server, Method::POST, "/tus")
        .header("upload-length", "10")
        .send()
        .await
        .unwrap();
    hoist_tests::answer::Answer::read(nameless)
        .await
        .assert_error(400, "invalid-tus-header");
    let hostile = tus(&server, Method::POST, "/tus")
        .header("upload-length", "10")
        .header(
            "upload-metadata",
            metadata(&[("filename", "x"), ("prefix", "../up")]),
        )
        .send()
        .await
        .unwrap();
    hoist_tests::answer::Answer::read(hostile)
        .await
        .assert_error(400, "invalid-key");

    // An upload of 6 MiB: a first MiB, then every refusal of a PATCH.
    let data = test_bytes(6 * MIB, 9);
    let path = create(&server, "refusals.pdf", data.len()).await;
    assert_eq!(
        patch(&server, &path, 0, data.slice(..MIB)).await.status(),
        204
    );
    assert_eq!(offset_of(&server, &path).await, Some(MIB as u64));

    let conflict = patch(&server, &path, 0, data.slice(..MIB)).await;
    hoist_tests::answer::Answer::read(conflict)
        .await
        .assert_error(409, "offset-mismatch");

    let wrong_sum = tus(&server, Method::PATCH, &path)
        .header("content-type", PATCH_TYPE)
        .header("upload-offset", MIB.to_string())
        .header("upload-checksum", "sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=")
        .body(data.slice(MIB..2 * MIB))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_sum.status().as_u16(), 460);
    let body: Value = wrong_sum.json().await.unwrap();
    assert_eq!(body["error"]["code"], "checksum-mismatch");
    assert_eq!(
        offset_of(&server, &path).await,
        Some(MIB as u64),
        "the chunk was discarded"
    );

    let overrun = patch(&server, &path, MIB, test_bytes(6 * MIB, 1)).await;
    hoist_tests::answer::Answer::read(overrun)
        .await
        .assert_error(400, "upload-length-exceeded");

    let wrong_type = tus(&server, Method::PATCH, &path)
        .header("content-type", "application/octet-stream")
        .header("upload-offset", MIB.to_string())
        .body(data.slice(MIB..2 * MIB))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);

    // What an overrun sent before it crossed the length may be kept; never more.
    let offset = offset_of(&server, &path).await.unwrap();
    assert!((MIB as u64..=6 * MIB as u64).contains(&offset), "{offset}");

    // Termination: 204, then 404, and nothing left in the bucket.
    let terminated = tus(&server, Method::DELETE, &path).send().await.unwrap();
    assert_eq!(terminated.status(), 204);
    assert_eq!(offset_of(&server, &path).await, None);
    nothing_left(&bucket).await;
    let unknown = tus(
        &server,
        Method::HEAD,
        "/tus/direct~0123456789abcdef0123456789abcdef",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(unknown.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn expired_uploads_are_refused_and_the_janitor_removes_them() {
    let bucket = moto::unique_bucket("tus-expiry");
    moto::create_bucket(&bucket).await;
    let short = {
        let bucket = bucket.clone();
        TestServer::start_with(move |settings| {
            moto::use_bucket_on(settings, &moto::endpoint(), "direct", &bucket);
            settings.upload.part_size = 5 * MIB as u64;
            settings.tus.expiry = Duration::from_secs(1);
        })
        .await
    };
    let expiring = create(&short, "soon.bin", 10 * MIB).await;
    assert_eq!(
        patch(&short, &expiring, 0, test_bytes(6 * MIB, 2))
            .await
            .status(),
        204
    );
    let gone = create(&short, "gone.bin", 10).await;
    let kept_server = on_bucket(&bucket).await;
    let kept = create(&kept_server, "kept.bin", 10 * MIB).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;

    // On access: 410, and the upload is removed.
    let refused = tus(&short, Method::HEAD, &gone).send().await.unwrap();
    assert_eq!(refused.status(), 410);
    assert_eq!(offset_of(&short, &gone).await, None);

    let report = hoist_server::janitor::run_once(&kept_server.state).await;
    assert_eq!(report.errors(), 0, "{report}");
    let alias = &report.aliases[0];
    assert_eq!(alias.tus_removed.len(), 1, "{report}");
    assert_eq!(alias.tus_removed[0].0, "soon.bin");
    assert_eq!(
        alias.tus, 1,
        "the live tus upload's multipart upload is kept: {report}"
    );
    assert_eq!(
        moto::multipart_uploads(&moto::s3(), &bucket).await,
        ["kept.bin"]
    );
    assert_eq!(offset_of(&kept_server, &kept).await, Some(0));
    assert_eq!(offset_of(&kept_server, &expiring).await, None);
    short.stop().await;
    kept_server.stop().await;
}

#[tokio::test]
async fn many_small_patches_are_gathered_into_parts_intact() {
    let bucket = moto::unique_bucket("tus-small");
    moto::create_bucket(&bucket).await;
    let server = on_bucket(&bucket).await;
    let data = test_bytes(6 * MIB, 8);
    let path = create(&server, "small.bin", data.len()).await;
    // 48 PATCHes of 64 KiB: more tail pieces than are kept before they are merged.
    let small = 64 * 1024;
    for n in 0..48 {
        let at = n * small;
        assert_eq!(
            patch(&server, &path, at, data.slice(at..at + small))
                .await
                .status(),
            204
        );
    }
    assert_eq!(offset_of(&server, &path).await, Some(48 * small as u64));
    let at = 48 * small;
    assert_eq!(
        patch(&server, &path, at, data.slice(at..)).await.status(),
        204
    );
    let (bytes, _, crc) = stored(&bucket, "small.bin").await;
    assert!(bytes == data, "byte-identical");
    assert_eq!(crc, Some(crc32c_base64(&data)));
    nothing_left(&bucket).await;
    server.stop().await;
}

#[tokio::test]
async fn a_patch_streams_the_parts_it_fills_and_a_broken_one_resumes_at_a_part() {
    let bucket = moto::unique_bucket("tus-streamed");
    moto::create_bucket(&bucket).await;
    let server = on_bucket(&bucket).await;
    let data = test_bytes(12 * MIB, 9);
    let path = create(&server, "streamed.bin", data.len()).await;
    // 3 MiB: short of a part, kept as a tail piece.
    assert_eq!(
        patch(&server, &path, 0, data.slice(..3 * MIB))
            .await
            .status(),
        204
    );
    // A PATCH declaring the other 9 MiB: its first part (the tail piece and 2 MiB) and the
    // start of the second stream to S3 while they arrive; then the client vanishes with the
    // second part 2 MiB in.
    broken_patch(&server, &path, 3 * MIB, 9 * MIB, &data[3 * MIB..7 * MIB]).await;
    // The finished part is recorded; the one that did not fill is given up (S3 keeps none
    // of it), so the upload resumes at the part boundary.
    hoist_tests::eventually("the broken PATCH recorded its part", || {
        let (server, path) = (&server, &path);
        async move { offset_of(server, path).await == Some(5 * MIB as u64) }
    })
    .await;
    let rest = data.slice(5 * MIB..);
    hoist_tests::eventually("the lease given back", || {
        let (server, path, rest) = (&server, &path, rest.clone());
        async move { patch(server, path, 5 * MIB, rest).await.status() == 204 }
    })
    .await;
    let (bytes, _, crc) = stored(&bucket, "streamed.bin").await;
    assert!(bytes == data, "byte-identical");
    assert_eq!(crc, Some(crc32c_base64(&data)));
    nothing_left(&bucket).await;
    server.stop().await;
}

#[tokio::test]
async fn a_part_given_up_mid_stream_leaves_no_gap_in_the_part_numbers() {
    // A part number the broken PATCH took and never finished is free again: S3 allows gaps
    // (and the embedded store renumbers them), but a gap for nothing wastes one of S3's
    // 10,000 numbers. The upload's state object says which numbers it used.
    let server = TestServer::start_with(|settings| {
        settings.upload.part_size = 5 * MIB as u64;
    })
    .await;
    let bucket = server.state.buckets.get("uploads").unwrap().name.clone();
    let data = test_bytes(12 * MIB, 10);
    let path = create(&server, "gapless.bin", data.len()).await;
    // Part 1 whole, part 2 streaming 2 MiB in when the client vanishes.
    broken_patch(&server, &path, 0, data.len(), &data[..7 * MIB]).await;
    hoist_tests::eventually("the broken PATCH recorded part 1", || {
        let (server, path) = (&server, &path);
        async move { offset_of(server, path).await == Some(5 * MIB as u64) }
    })
    .await;
    let next = data.slice(5 * MIB..10 * MIB);
    hoist_tests::eventually("the next part appended", || {
        let (server, path, next) = (&server, &path, next.clone());
        async move { patch(server, path, 5 * MIB, next).await.status() == 204 }
    })
    .await;
    let uuid = path.rsplit('~').next().unwrap();
    let state = server
        .embedded_s3()
        .get_object()
        .bucket(&bucket)
        .key(format!(".hoist/tus/{uuid}/state.json"))
        .send()
        .await
        .expect("the upload's state")
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let state: Value = serde_json::from_slice(&state).unwrap();
    let numbers: Vec<u64> = state["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|part| part["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2], "{state}");
    assert_eq!(
        patch(&server, &path, 10 * MIB, data.slice(10 * MIB..))
            .await
            .status(),
        204
    );
    let stored = server
        .embedded_s3()
        .get_object()
        .bucket(&bucket)
        .key("gapless.bin")
        .send()
        .await
        .expect("completed on the embedded store")
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert!(stored == data, "byte-identical");
    server.stop().await;
}
