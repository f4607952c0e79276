//! A form whose `file` comes first is spooled to a temporary file; this checks that no
//! temporary file outlives its request, whether it completed, was refused or was cut off by
//! the client. A test binary of its own: it counts this process's open temporary files,
//! which other tests running in parallel would disturb.
#![cfg(target_os = "linux")]

use bytes::Bytes;
use hoist_tests::form::{self, Field};
use hoist_tests::{TestServer, eventually, send, test_bytes};
use tokio::io::AsyncWriteExt;

/// Open file descriptors of this process that point into the temporary directory (spooled
/// uploads are unnamed files there, shown as `/tmp/#123 (deleted)`).
fn open_temp_files() -> usize {
    let temp = std::env::temp_dir();
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.starts_with(&temp))
        .count()
}

#[tokio::test]
async fn spooled_uploads_leave_no_temporary_file() {
    let server = TestServer::start_with(|settings| {
        settings.upload.part_size = 5 * 1024 * 1024;
        settings.upload.max_file_size = 3 * 1024 * 1024;
    })
    .await;
    let before = open_temp_files();
    let post = |body: Vec<u8>| send(form::post(&server, "", body));
    let file_first = |data: Bytes| {
        form::whole(&[
            Field::file("spooled.bin", None, data),
            Field::text("prefix", "spool"),
            Field::text("bucketName", "uploads"),
        ])
    };

    // Completed.
    let answer = post(file_first(test_bytes(1024 * 1024, 1))).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    server.uploads_idle().await;
    assert_eq!(open_temp_files(), before, "after a completed upload");

    // Refused while spooling (over max_file_size).
    let answer = post(file_first(test_bytes(4 * 1024 * 1024, 2))).await;
    assert_eq!(answer.status, 413, "{answer:?}");
    server.uploads_idle().await;
    assert_eq!(open_temp_files(), before, "after a refused upload");

    // Cut off by the client halfway through the file.
    let mut socket = server.connect().await;
    let body = file_first(test_bytes(2 * 1024 * 1024, 3));
    let head = format!(
        "POST /files HTTP/1.1\r\nHost: hoist\r\nAuthorization: Bearer {}\r\n\
         Content-Type: {}\r\nContent-Length: {}\r\n\r\n",
        server.token(true),
        form::content_type(),
        body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&body[..body.len() / 2]).await.unwrap();
    // The upload is being spooled when the client leaves.
    eventually("spooling to a temporary file", || async {
        open_temp_files() > before
    })
    .await;
    drop(socket);
    server.uploads_idle().await;
    assert_eq!(open_temp_files(), before, "after a client disconnect");
    assert_eq!(server.state.metrics.uploads_spooled.get(), 3);
}
