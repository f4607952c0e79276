//! Response compression, negotiated from `Accept-Encoding`. Responses only: poem's own
//! `Compression` middleware also inflates every request body that has a `Content-Encoding`,
//! before the upload pipeline could bound it, so a small body could become gigabytes. Request
//! encodings are each route's business (see `http::body_limit` and the upload routes).

use std::sync::Arc;

use poem::http::header;
use poem::web::{Compress, CompressionAlgo};
use poem::{Endpoint, IntoResponse, Request, Response};

/// Serves `req` and compresses the response with the best coding the client accepts.
pub async fn compress_response<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let algo = negotiate(req.headers());
    let response = ep.call(req).await?.into_response();
    Ok(match algo {
        Some(algo) if !response.headers().contains_key(header::CONTENT_ENCODING) => {
            Compress::new(response, algo).into_response()
        }
        _ => response,
    })
}

/// The coding with the highest `q` among those Hoist can produce; ties go to the smaller
/// output (zstd, br, gzip, deflate). `*` stands for gzip, which every client decodes.
fn negotiate(headers: &poem::http::HeaderMap) -> Option<CompressionAlgo> {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|entry| {
            let mut parts = entry.split(';').map(str::trim);
            let coding = parts.next()?.to_ascii_lowercase();
            let q = parts
                .find_map(|param| param.strip_prefix("q="))
                .map_or(Some(1000), |q| {
                    q.parse::<f32>().ok().map(|q| (q * 1000.0) as i32)
                })?;
            let (algo, rank) = match coding.as_str() {
                "zstd" => (CompressionAlgo::ZSTD, 4),
                "br" => (CompressionAlgo::BR, 3),
                "gzip" | "*" => (CompressionAlgo::GZIP, 2),
                "deflate" => (CompressionAlgo::DEFLATE, 1),
                _ => return None,
            };
            (q > 0).then_some((q, rank, algo))
        })
        .max_by_key(|(q, rank, _)| (*q, *rank))
        .map(|(_, _, algo)| algo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::http::{HeaderMap, HeaderValue};

    fn accepting(value: &'static str) -> Option<CompressionAlgo> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
        negotiate(&headers)
    }

    #[test]
    fn the_best_accepted_coding_wins() {
        assert_eq!(accepting("gzip"), Some(CompressionAlgo::GZIP));
        assert_eq!(accepting("gzip, deflate, br"), Some(CompressionAlgo::BR));
        assert_eq!(
            accepting("identity;q=0.5, gzip;q=1.0, br;q=0.3"),
            Some(CompressionAlgo::GZIP)
        );
        assert_eq!(accepting("*"), Some(CompressionAlgo::GZIP));
        assert_eq!(accepting("gzip;q=0, identity"), None);
        assert_eq!(accepting("compress, x-unknown"), None);
        assert_eq!(negotiate(&HeaderMap::new()), None);
    }
}
