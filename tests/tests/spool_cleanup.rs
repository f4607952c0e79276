//! A form whose `file` comes first is spooled to a temporary file; this checks that no
//! temporary file outlives its request, whether it completed, was refused or was cut off by
//! the client. A test binary of its own: it counts this process's open temporary files,
//! which other tests running in parallel would disturb.
#![cfg(target_os = "linux")]

use std::time::Duration;

use bytes::Bytes;
use hoist_tests::form::{self, Field};
use hoist_tests::{TestServer, test_bytes};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

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
    let post = |body: Vec<u8>| {
        server
            .http()
            .post(server.url("/files"))
            .bearer_auth(server.token(true))
            .header("content-type", form::content_type())
            .body(body)
            .send()
    };
    let file_first = |data: Bytes| {
        form::whole(&[
            Field::file("spooled.bin", None, data),
            Field::text("prefix", "spool"),
            Field::text("bucketName", "uploads"),
        ])
    };

    // Completed.
    let response = post(file_first(test_bytes(1024 * 1024, 1))).await.unwrap();
    assert_eq!(response.status(), 200);
    server.uploads_idle().await;
    assert_eq!(open_temp_files(), before, "after a completed upload");

    // Refused while spooling (over max_file_size).
    let response = post(file_first(test_bytes(4 * 1024 * 1024, 2)))
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    server.uploads_idle().await;
    assert_eq!(open_temp_files(), before, "after a refused upload");

    // Cut off by the client halfway through the file.
    let mut socket = TcpStream::connect(server.base_url.trim_start_matches("http://"))
        .await
        .unwrap();
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
    let mut spooling = false;
    for _ in 0..600 {
        if open_temp_files() > before {
            spooling = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        spooling,
        "the upload was being spooled when the client left"
    );
    drop(socket);
    server.uploads_idle().await;
    assert_eq!(open_temp_files(), before, "after a client disconnect");
    assert_eq!(server.state.metrics.uploads_spooled.get(), 3);
}
