//! The body of a streamed PutObject: S3's `aws-chunked` content encoding, unsigned, with the
//! object's CRC32C as a trailer, so S3 verifies a checksum that is known only once the last
//! byte has passed.
//!
//! The SDK has an encoder of its own, but over plain http (the embedded store, emulators,
//! S3-compatible stores on a private network) it signs every chunk, which is a SHA-256 of every
//! byte, and it copies every chunk into a fresh buffer. This one frames the bytes it is handed
//! without copying them: a chunk's size line and its closing CRLF are small frames of their own
//! between the caller's buffers. The wire format (AWS, "SigV4 streaming, unsigned payload with
//! trailer"):
//!
//! ```text
//! 100000\r\n <1048576 bytes> \r\n   … one line and CRLF per chunk of CHUNK_SIZE, the last shorter
//! 0\r\n
//! x-amz-checksum-crc32c:<base64>\r\n
//! \r\n
//! ```

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

/// Bytes per chunk of the encoding: 1 MiB, as botocore's encoder (what boto3 sends S3 with a
/// trailing checksum); the Rust SDK's uses 64 KiB. A store hands on at most a chunk at a time
/// (s3s holds one before it passes it on, so this is also what one upload may hold there),
/// and fewer, larger chunks cost it less: 256 MiB `PUT /files/object`, 6 rounds in rotated
/// order, cost s3s-fs 3.64 CPU-s per GiB at 64 KiB, 3.38 at 512 KiB and 3.24 at 1 MiB
/// (medians; 230, 249 and 262 MiB/s), while Hoist's own CPU did not change.
pub const CHUNK_SIZE: u64 = 1024 * 1024;

/// The one trailer sent.
pub const TRAILER: &str = "x-amz-checksum-crc32c";

/// What the uploader hands the body: bytes of the object in order, then the end with the
/// CRC32C (base64) of everything handed.
#[derive(Debug)]
pub enum Piece {
    Data(Bytes),
    End { crc32c: String },
}

/// The request body: pieces from a channel, framed as they arrive. A channel that closes
/// before [`Piece::End`] (the upload was given up) or bytes beyond the declared length fail
/// the body, and with it the request: S3 stores nothing of a body that does not finish.
#[derive(Debug)]
pub struct ChunkedBody {
    pieces: mpsc::Receiver<Piece>,
    /// The object's length, as declared in `x-amz-decoded-content-length`.
    length: u64,
    /// Object bytes framed so far.
    framed: u64,
    /// Object bytes still due in the chunk being framed.
    left_in_chunk: u64,
    /// Frames ready to go, in order.
    ready: VecDeque<Bytes>,
    finished: bool,
}

/// Why a streamed body ended without its object.
#[derive(Debug, thiserror::Error)]
pub enum BodyAborted {
    #[error("the upload was given up before its end")]
    GivenUp,
    #[error("more bytes than the declared {0}")]
    TooLong(u64),
    #[error("the body ended after {framed} of {length} bytes")]
    TooShort { framed: u64, length: u64 },
}

impl ChunkedBody {
    pub fn new(pieces: mpsc::Receiver<Piece>, length: u64) -> Self {
        Self {
            pieces,
            length,
            framed: 0,
            left_in_chunk: 0,
            ready: VecDeque::new(),
            finished: false,
        }
    }

    /// Queues the frames of one piece of the object.
    fn frame_data(&mut self, mut data: Bytes) -> Result<(), BodyAborted> {
        if self.framed + data.len() as u64 > self.length {
            return Err(BodyAborted::TooLong(self.length));
        }
        while !data.is_empty() {
            if self.left_in_chunk == 0 {
                self.left_in_chunk = CHUNK_SIZE.min(self.length - self.framed);
                self.ready
                    .push_back(Bytes::from(format!("{:x}\r\n", self.left_in_chunk)));
            }
            let take = usize::try_from(self.left_in_chunk)
                .unwrap_or(usize::MAX)
                .min(data.len());
            self.ready.push_back(data.split_to(take));
            self.framed += take as u64;
            self.left_in_chunk -= take as u64;
            if self.left_in_chunk == 0 {
                self.ready.push_back(Bytes::from_static(b"\r\n"));
            }
        }
        Ok(())
    }

    /// Queues the last chunk and the trailer.
    fn frame_end(&mut self, crc32c: &str) -> Result<(), BodyAborted> {
        if self.framed != self.length {
            return Err(BodyAborted::TooShort {
                framed: self.framed,
                length: self.length,
            });
        }
        self.ready
            .push_back(Bytes::from(format!("0\r\n{TRAILER}:{crc32c}\r\n\r\n")));
        self.finished = true;
        Ok(())
    }
}

/// The length on the wire of an object of `length` bytes, for `Content-Length`.
pub fn encoded_length(length: u64) -> u64 {
    let size_line = |size: u64| format!("{size:x}\r\n").len() as u64;
    let full = length / CHUNK_SIZE;
    let rest = length % CHUNK_SIZE;
    let mut total = length + full * (size_line(CHUNK_SIZE) + 2);
    if rest > 0 {
        total += size_line(rest) + 2;
    }
    // "0\r\n", the trailer line (its value is always 8 base64 characters) and the final CRLF.
    total + 3 + (TRAILER.len() as u64 + 1 + 8 + 2) + 2
}

impl Body for ChunkedBody {
    type Data = Bytes;
    type Error = BodyAborted;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyAborted>>> {
        loop {
            if let Some(frame) = self.ready.pop_front() {
                return Poll::Ready(Some(Ok(Frame::data(frame))));
            }
            if self.finished {
                return Poll::Ready(None);
            }
            let framed = match ready!(self.pieces.poll_recv(cx)) {
                Some(Piece::Data(data)) => self.frame_data(data),
                Some(Piece::End { crc32c }) => self.frame_end(&crc32c),
                None => Err(BodyAborted::GivenUp),
            };
            if let Err(error) = framed {
                self.finished = true;
                return Poll::Ready(Some(Err(error)));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.finished && self.ready.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(encoded_length(self.length))
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    async fn encode(pieces: Vec<Piece>, length: u64) -> Result<Vec<u8>, BodyAborted> {
        let (sender, receiver) = mpsc::channel(pieces.len().max(1));
        for piece in pieces {
            sender.try_send(piece).unwrap();
        }
        drop(sender);
        let mut body = ChunkedBody::new(receiver, length);
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            out.extend_from_slice(&frame?.into_data().unwrap());
        }
        Ok(out)
    }

    #[tokio::test]
    async fn frames_chunks_across_piece_boundaries_and_ends_with_the_trailer() {
        let object: Vec<u8> = (0..(2 * CHUNK_SIZE + 5)).map(|i| (i % 251) as u8).collect();
        // Pieces cut at sizes unrelated to the chunk size.
        let pieces: Vec<Piece> = object
            .chunks(40_000)
            .map(|piece| Piece::Data(Bytes::copy_from_slice(piece)))
            .chain([Piece::End {
                crc32c: "AAAAAA==".into(),
            }])
            .collect();
        let wire = encode(pieces, object.len() as u64).await.unwrap();

        let mut expected = Vec::new();
        for chunk in object.chunks(CHUNK_SIZE as usize) {
            expected.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            expected.extend_from_slice(chunk);
            expected.extend_from_slice(b"\r\n");
        }
        expected.extend_from_slice(b"0\r\nx-amz-checksum-crc32c:AAAAAA==\r\n\r\n");
        assert_eq!(wire, expected);
        assert_eq!(wire.len() as u64, encoded_length(object.len() as u64));
    }

    #[test]
    fn the_length_on_the_wire_is_the_sdks() {
        // The SDK's own encoder, unsigned, with the same chunk size and trailer, is the
        // reference for what S3 expects in `Content-Length`.
        let trailer = (TRAILER.len() + 1 + 8) as u64;
        for length in [
            0,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            3 * CHUNK_SIZE + 7,
            5 << 30,
        ] {
            let sdk =
                aws_runtime::content_encoding::AwsChunkedBodyOptions::new(length, vec![trailer])
                    .with_chunk_size(CHUNK_SIZE as usize);
            assert_eq!(encoded_length(length), sdk.encoded_length(), "{length}");
        }
    }

    #[tokio::test]
    async fn a_body_given_up_short_or_too_long_fails() {
        let given_up = encode(vec![Piece::Data(Bytes::from_static(b"abc"))], 3).await;
        assert!(matches!(given_up, Err(BodyAborted::GivenUp)));
        let short = encode(
            vec![
                Piece::Data(Bytes::from_static(b"ab")),
                Piece::End {
                    crc32c: "AAAAAA==".into(),
                },
            ],
            3,
        )
        .await;
        assert!(matches!(short, Err(BodyAborted::TooShort { .. })));
        let long = encode(vec![Piece::Data(Bytes::from_static(b"abcd"))], 3).await;
        assert!(matches!(long, Err(BodyAborted::TooLong(3))));
    }
}
