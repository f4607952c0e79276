//! `bench`: upload throughput through Hoist against the same bytes sent straight to the same
//! s3s-fs store, side by side in one run, and Hoist's peak memory and CPU. A benchmark, not a
//! test: it prints a Markdown report (the source of `BENCHMARKS.md`).
//!
//! ```sh
//! cargo build --release -p hoist-server -p hoist-tests --bin hoist-server --bin bench
//! target/release/bench            # $CARGO_TARGET_DIR/release/bench when that is set
//! ```
//!
//! Release `hoist-server` processes on loopback: the **store**, whose embedded s3s-fs is the
//! S3 endpoint (its endpoint and keys are read from its start-up log), and the **gateways**
//! under test, pointed at that endpoint through `[aws] endpoint` like a production Hoist at
//! S3: one as shipped, one with `upload.single_put_max = 0` (every body past a part a multipart
//! upload, as before the streamed PutObject). Keeping the store in its own process keeps its
//! memory and CPU out of the gateways' numbers. For each cell of object size × concurrent
//! clients (1, 64 and 512 MiB × 1, 4 and 16; each client sends `max(1, 64 MiB / size)` objects
//! in turn, each on a fresh connection) it interleaves:
//! - **direct PUT**: one presigned PUT of the whole body to the store;
//! - **direct PUT + CRC32C**: the same with the body's CRC32C, computed by the client before it
//!   sends and verified by the store: the integrity Hoist's PUT has (Hoist computes the CRC32C
//!   as the bytes pass and the store verifies it), so the like-for-like baseline;
//! - **direct multipart**: what an S3 client does with a large file: 8 MiB parts, 4 in
//!   flight, each with its CRC32C header and an unsigned payload, CreateMultipartUpload …
//!   CompleteMultipartUpload, straight to the store;
//! - **Hoist PUT**: `PUT /files/object` with `Content-Length`, through the shipped gateway
//!   (one streamed PutObject past a part);
//! - **Hoist PUT, multipart**: the same through the `single_put_max = 0` gateway;
//! - **Hoist form**: `POST /files`, destination fields before the file (a streamed form, so
//!   a multipart upload past a part).
//!
//! CPU seconds per process come from `/proc/<pid>/stat`; the gateway's peak RSS is its
//! `VmHWM`, started over (`clear_refs`) before each run. Then peak RSS of a fresh gateway for
//! one 1 GiB upload and for 16 concurrent 256 MiB uploads, and `GET /heartbeat` and
//! `GET /files/list` of 1,000 objects under wrk (when installed: `apt-get install wrk`).
//!
//! `bench tus` instead compares tus uploads (8 MiB and 1 MiB PATCHes) with `PUT /files/object`
//! of the same 256 MiB through the same gateway, and with a direct PUT and a direct multipart
//! upload of them to the store.
//!
//! `bench rates` runs only the heartbeat and list rates under wrk.
//!
//! `bench soak --minutes N` instead runs the soak scenario (`hoist_tests::soak`): N minutes of
//! mixed load with slow clients, reported every minute.

use std::time::{Duration, Instant};

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use hoist_tests::binary::BinaryServer;
use hoist_tests::{s3_client, test_bytes};

const MIB: usize = 1024 * 1024;
const BUCKET: &str = "hoist-uploads";
/// `upload.part_size`'s default, and the part size of common S3 clients.
const PART: usize = 8 * MIB;
const PARTS_IN_FLIGHT: usize = 4;

/// CPU seconds (user + system) a process has used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/<pid>/stat");
    // Fields after the command name, which ends with the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("stat format") + 2..]
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields[i].parse::<f64>().expect("a tick count");
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name and state.
    (ticks(11) + ticks(12)) / clock_ticks()
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// (current RSS, peak RSS) of a process, in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/<pid>/status");
    let mib = |field: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .expect("a VmRSS/VmHWM line")
            / 1024.0
    };
    (mib("VmRSS:"), mib("VmHWM:"))
}

/// An HTTP client that opens a fresh connection for every request, as the issue's table was
/// measured (a phone or a browser tab uploads one file, not a thousand on one connection).
fn fresh_connections() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("an HTTP client")
}

/// The S3 endpoint: a hoist-server used only for its embedded s3s-fs.
struct Store {
    process: BinaryServer,
    endpoint: String,
    access_key: String,
    secret_key: String,
    s3: aws_sdk_s3::Client,
    http: reqwest::Client,
    _data: tempfile::TempDir,
}

impl Store {
    fn start() -> Self {
        let data = tempfile::tempdir().expect("a data dir");
        let root = data.path().join("store");
        let process = BinaryServer::start(
            data.path(),
            &[(
                "HOIST_STORAGE__EMBEDDED__ROOT",
                root.to_str().expect("utf-8 path"),
            )],
        );
        let field = |name| process.startup_field(name).expect("logged at start-up");
        let (endpoint, access_key, secret_key) = (
            field("embedded_s3_endpoint"),
            field("access_key_id"),
            field("secret_access_key"),
        );
        let s3 = s3_client(&endpoint, &access_key, &secret_key);
        Self {
            process,
            endpoint,
            access_key,
            secret_key,
            s3,
            http: fresh_connections(),
            _data: data,
        }
    }

    fn cpu(&self) -> f64 {
        cpu_seconds(self.process.pid())
    }

    /// One presigned PUT; with `checksum`, the body's CRC32C (computed here, as a client
    /// that has the whole file does) goes with it as `x-amz-checksum-crc32c`, and the store
    /// verifies it, as it verifies the one Hoist sends.
    async fn put(&self, key: &str, body: Bytes, checksum: bool) -> String {
        let request = self.s3.put_object().bucket(BUCKET).key(key);
        let request = if checksum {
            request.checksum_crc32_c(hoist_tests::crc32c_base64(&body))
        } else {
            request
        };
        let presigned = request
            .presigned(PresigningConfig::expires_in(Duration::from_secs(3600)).expect("config"))
            .await
            .expect("presigned PUT");
        let mut sending = self.http.put(presigned.uri()).body(body);
        for (name, value) in presigned.headers() {
            sending = sending.header(name, value);
        }
        let response = sending.send().await.expect("s3s-fs answers");
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap_or_default()
        );
        key.to_owned()
    }

    async fn multipart(&self, key: &str, body: Bytes) -> String {
        let upload_id = self
            .s3
            .create_multipart_upload()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .expect("create")
            .upload_id
            .expect("upload id");
        let parts: Vec<(i32, Bytes)> = (0..body.len())
            .step_by(PART)
            .enumerate()
            .map(|(i, start)| {
                (
                    i as i32 + 1,
                    body.slice(start..(start + PART).min(body.len())),
                )
            })
            .collect();
        let mut completed: Vec<CompletedPart> = stream::iter(parts)
            .map(|(number, part)| {
                let upload_id = upload_id.clone();
                async move {
                    let etag = self
                        .s3
                        .upload_part()
                        .bucket(BUCKET)
                        .key(key)
                        .upload_id(upload_id)
                        .part_number(number)
                        // The part's CRC32C as a header, unsigned, as Hoist sends its parts:
                        // left to itself the SDK would sign every chunk over http (a SHA-256
                        // of every byte, on both sides).
                        .checksum_crc32_c(hoist_tests::crc32c_base64(&part))
                        .body(part.into())
                        .customize()
                        .disable_payload_signing()
                        .send()
                        .await
                        .expect("upload part")
                        .e_tag
                        .expect("etag");
                    CompletedPart::builder()
                        .part_number(number)
                        .e_tag(etag)
                        .build()
                }
            })
            .buffer_unordered(PARTS_IN_FLIGHT)
            .collect()
            .await;
        completed.sort_by_key(|part| part.part_number);
        self.s3
            .complete_multipart_upload()
            .bucket(BUCKET)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(completed))
                    .build(),
            )
            .send()
            .await
            .expect("complete");
        key.to_owned()
    }

    async fn delete(&self, key: &str) {
        self.s3
            .delete_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .expect("delete");
    }
}

/// The gateway under test, on the store's endpoint.
struct Gateway {
    process: BinaryServer,
    token: String,
    http: reqwest::Client,
    _data: tempfile::TempDir,
}

impl Gateway {
    /// Starts a gateway with the production upload defaults, and `extra` settings.
    async fn start(store: &Store, extra: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().expect("a work dir");
        let part_size = PART.to_string();
        let buffer = (256 * MIB).to_string();
        let in_flight = PARTS_IN_FLIGHT.to_string();
        let mut env = vec![
            ("HOIST_AWS__ENDPOINT", store.endpoint.as_str()),
            ("HOIST_AWS__FORCE_PATH_STYLE", "true"),
            ("HOIST_AWS__ACCESS_KEY_ID", store.access_key.as_str()),
            ("HOIST_AWS__SECRET_ACCESS_KEY", store.secret_key.as_str()),
            ("HOIST_AWS__ATTEMPT_TIMEOUT", "300s"),
            ("HOIST_STORAGE__EMBEDDED__ENABLED", "false"),
            // The defaults a production server runs with, spelled out.
            ("HOIST_UPLOAD__PART_SIZE", &part_size),
            ("HOIST_UPLOAD__MAX_BUFFER_BYTES", &buffer),
            ("HOIST_UPLOAD__PARTS_IN_FLIGHT", &in_flight),
            // wrk's connections all come from one address.
            ("HOIST_LIMITS__PER_IP", "off"),
        ];
        env.extend_from_slice(extra);
        let process = BinaryServer::start(data.path(), &env);
        let http = fresh_connections();
        let token: serde_json::Value = http
            .get(format!(
                "{}/dev/token?supreme=true&sub=bench",
                process.base_url
            ))
            .send()
            .await
            .expect("dev token")
            .json()
            .await
            .expect("dev token JSON");
        let token = token["data"]["token"].as_str().expect("a token").to_owned();
        Self {
            process,
            token,
            http,
            _data: data,
        }
    }

    fn cpu(&self) -> f64 {
        cpu_seconds(self.process.pid())
    }

    fn memory(&self) -> (f64, f64) {
        memory(self.process.pid())
    }

    /// A counter of `/metrics` with no labels.
    async fn metric(&self, name: &str) -> f64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.process.base_url))
            .send()
            .await
            .expect("/metrics answers")
            .text()
            .await
            .expect("/metrics text");
        hoist_tests::sample(&text, name).unwrap_or_else(|| panic!("{name} is not in /metrics"))
    }

    /// Starts the peak RSS (`VmHWM`) over from the current RSS.
    fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.process.pid()), "5")
            .expect("/proc/<pid>/clear_refs");
    }

    /// `body` as a form ([`Self::form`]) or as `PUT /files/object` ([`Self::put`]).
    async fn upload(&self, form: bool, key: &str, body: Bytes) -> String {
        if form {
            self.form(key, body).await
        } else {
            self.put(key, body).await
        }
    }

    /// The same body as a `multipart/form-data` upload, both destination fields first (so it
    /// streams: with `bucketName` missing, a later field could still name another bucket, and
    /// the file would wait in a temporary file); returns the key it was stored under.
    async fn form(&self, key: &str, body: Bytes) -> String {
        const BOUNDARY: &str = "bench-boundary-7d1f";
        let name = key.replace('/', "-");
        let head = Bytes::from(format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"bucketName\"\r\n\r\nuploads\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"prefix\"\r\n\r\nbench\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        ));
        let tail = Bytes::from(format!("\r\n--{BOUNDARY}--\r\n"));
        let length = head.len() + body.len() + tail.len();
        let parts: Vec<Result<Bytes, std::io::Error>> = vec![Ok(head), Ok(body), Ok(tail)];
        let response = self
            .http
            .post(format!("{}/files", self.process.base_url))
            .bearer_auth(&self.token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header("content-length", length)
            .body(reqwest::Body::wrap_stream(stream::iter(parts)))
            .send()
            .await
            .expect("Hoist answers");
        assert_eq!(response.status(), 200);
        let stored: serde_json::Value = response.json().await.expect("JSON");
        stored["data"]["key"].as_str().expect("a key").to_owned()
    }

    async fn put(&self, key: &str, body: Bytes) -> String {
        let response = self
            .http
            .put(format!("{}/files/object?key={key}", self.process.base_url))
            .bearer_auth(&self.token)
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await
            .expect("Hoist answers");
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.text().await.unwrap_or_default()
        );
        key.to_owned()
    }

    /// The same body as a tus upload: `POST /tus`, then PATCHes of `chunk` bytes.
    async fn tus(&self, key: &str, body: Bytes, chunk: usize) {
        use base64::Engine;
        let name = base64::engine::general_purpose::STANDARD.encode(key.replace('/', "-"));
        let created = self
            .http
            .post(format!("{}/tus", self.process.base_url))
            .bearer_auth(&self.token)
            .header("tus-resumable", "1.0.0")
            .header("upload-length", body.len().to_string())
            .header("upload-metadata", format!("filename {name}"))
            .send()
            .await
            .expect("Hoist answers");
        assert_eq!(
            created.status(),
            201,
            "{}",
            created.text().await.unwrap_or_default()
        );
        let location = created.headers()["location"]
            .to_str()
            .expect("a location")
            .to_owned();
        let mut offset = 0;
        while offset < body.len() {
            let end = (offset + chunk).min(body.len());
            let response = self
                .http
                .patch(format!("{}{location}", self.process.base_url))
                .bearer_auth(&self.token)
                .header("tus-resumable", "1.0.0")
                .header("upload-offset", offset.to_string())
                .header("content-type", "application/offset+octet-stream")
                .body(body.slice(offset..end))
                .send()
                .await
                .expect("Hoist answers");
            assert_eq!(
                response.status(),
                204,
                "{}",
                response.text().await.unwrap_or_default()
            );
            offset = end;
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Way {
    /// One presigned PUT straight to the store.
    DirectPut,
    /// The same with the body's CRC32C, which the store verifies.
    DirectPutChecked,
    /// 8 MiB parts, 4 in flight, straight to the store.
    DirectMultipart,
    /// `PUT /files/object` with `Content-Length`: one streamed PutObject.
    HoistPut,
    /// The same through a gateway with `single_put_max = 0`: a multipart upload.
    HoistPutMultipart,
    /// `POST /files`, destination fields first: the form streams into a multipart upload.
    HoistForm,
}

/// One measured cell: wall time, CPU seconds of the gateway and of the store, and the
/// gateway's peak RSS while it ran.
#[derive(Default, Clone, Copy)]
struct Run {
    seconds: f64,
    gateway_cpu: f64,
    store_cpu: f64,
    gateway_peak_mib: f64,
}

/// `clients` concurrent clients each sending `per_client` copies of `body`, one after another.
async fn measure(
    store: &Store,
    gateway: &Gateway,
    way: Way,
    body: &Bytes,
    clients: usize,
    per_client: usize,
) -> Run {
    gateway.reset_peak();
    let (gateway_before, store_before) = (gateway.cpu(), store.cpu());
    let started = Instant::now();
    let sending = (0..clients).map(|client| async move {
        let mut keys = Vec::new();
        for n in 0..per_client {
            let key = format!("bench/{client}-{n}");
            let body = body.clone();
            let stored = match way {
                Way::DirectPut => store.put(&key, body, false).await,
                Way::DirectPutChecked => store.put(&key, body, true).await,
                Way::DirectMultipart => store.multipart(&key, body).await,
                Way::HoistPut | Way::HoistPutMultipart => gateway.put(&key, body).await,
                Way::HoistForm => gateway.form(&key, body).await,
            };
            keys.push(stored);
        }
        keys
    });
    let keys = futures_util::future::join_all(sending).await;
    let seconds = started.elapsed().as_secs_f64();
    let run = Run {
        seconds,
        gateway_cpu: gateway.cpu() - gateway_before,
        store_cpu: store.cpu() - store_before,
        gateway_peak_mib: gateway.memory().1,
    };
    for key in keys.iter().flatten() {
        store.delete(key).await;
    }
    run
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("soak") {
        let minutes = args
            .iter()
            .position(|arg| arg == "--minutes")
            .and_then(|at| args.get(at + 1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(10);
        let store = Store::start();
        let gateway = Gateway::start(&store, &[]).await;
        let report = hoist_tests::soak::run(&gateway.process, &gateway.token, minutes).await;
        println!("{report}");
        return;
    }
    let repetitions: usize = std::env::var("BENCH_REPETITIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    if args.first().map(String::as_str) == Some("tus") {
        let data = test_bytes(256 * MIB, 42);
        let store = Store::start();
        let mut out = format!(
            "{} cores, load average before the run {}; {repetitions} repetitions, medians.\n\n",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            load_average(),
        );
        tus_throughput(&store, &data, repetitions, &mut out).await;
        println!("{out}");
        return;
    }
    if args.first().map(String::as_str) == Some("rates") {
        let store = Store::start();
        let mut out = format!("load average before the run {}\n", load_average());
        request_rates(&store, &mut out).await;
        println!("{out}");
        return;
    }
    eprintln!("bench: generating 1 GiB of test data");
    let data = test_bytes(1024 * MIB, 42);
    let store = Store::start();
    let mut out = format!(
        "{} cores, load average before the run {}; {repetitions} repetitions, medians.\n\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
    );

    if std::env::var_os("BENCH_ONLY_MEMORY").is_none() {
        throughput(&store, &data, repetitions, &mut out).await;
    }
    memory_peaks(&store, &data, &mut out).await;
    request_rates(&store, &mut out).await;
    println!("{out}");
}

/// A way [`tus_throughput`] sends its 256 MiB.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TusWay {
    /// `PUT /files/object`.
    Put,
    /// A tus upload in PATCHes of this many bytes.
    Tus(usize),
    /// One presigned PUT straight to the store.
    DirectPut,
    /// 8 MiB parts, 4 in flight, straight to the store.
    DirectMultipart,
}

/// tus uploads against `PUT /files/object` of the same 256 MiB through the same gateway,
/// interleaved: PATCHes of 8 MiB (a part each) and of 1 MiB (what tus-js-client and tuspy
/// send by default, gathered into parts through the bucket's tail object).
async fn tus_throughput(store: &Store, data: &Bytes, repetitions: usize, out: &mut String) {
    let gateway = Gateway::start(store, &[]).await;
    let size = 256 * MIB;
    let body = data.slice(..size);
    // The direct ways send the same bytes straight to the store: a tus upload is one
    // multipart upload, which s3s-fs completes by reading and hashing every part again, so
    // direct multipart is the like-for-like ceiling.
    let ways = [
        ("PUT /files/object", TusWay::Put),
        ("tus, 8 MiB PATCHes", TusWay::Tus(8 * MIB)),
        ("tus, 1 MiB PATCHes", TusWay::Tus(MIB)),
        ("direct PUT (no Hoist)", TusWay::DirectPut),
        (
            "direct multipart, 8 MiB parts, 4 in flight (no Hoist)",
            TusWay::DirectMultipart,
        ),
    ];
    let mut runs: Vec<(usize, Run)> = Vec::new();
    for rep in 0..repetitions {
        eprintln!("bench: tus, repetition {}", rep + 1);
        for (way, (_, how)) in ways.iter().enumerate() {
            let key = format!("bench-tus-{way}-{rep}");
            let (gateway_before, store_before) = (gateway.cpu(), store.cpu());
            let started = Instant::now();
            match *how {
                TusWay::Put => {
                    gateway.put(&key, body.clone()).await;
                }
                TusWay::Tus(chunk) => gateway.tus(&key, body.clone(), chunk).await,
                TusWay::DirectPut => {
                    store.put(&key, body.clone(), false).await;
                }
                TusWay::DirectMultipart => {
                    store.multipart(&key, body.clone()).await;
                }
            }
            runs.push((
                way,
                Run {
                    seconds: started.elapsed().as_secs_f64(),
                    gateway_cpu: gateway.cpu() - gateway_before,
                    store_cpu: store.cpu() - store_before,
                    gateway_peak_mib: gateway.memory().1,
                },
            ));
            store.delete(&key).await;
        }
    }
    let of = |way: usize, pick: fn(&Run) -> f64| {
        median(
            runs.iter()
                .filter(|(w, _)| *w == way)
                .map(|(_, run)| pick(run))
                .collect(),
        )
    };
    let rate = |way| (size / MIB) as f64 / of(way, |run| run.seconds);
    let gib = size as f64 / (1024 * MIB) as f64;
    let multipart = ways
        .iter()
        .position(|(_, how)| *how == TusWay::DirectMultipart)
        .expect("a direct multipart way");
    out.push_str(
        "| 256 MiB | MiB/s | / PUT /files/object | / direct multipart | gateway CPU-s per GiB | store CPU-s per GiB |\n|---|---:|---:|---:|---:|---:|\n",
    );
    for (way, (name, how)) in ways.iter().enumerate() {
        let gateway = if matches!(how, TusWay::DirectPut | TusWay::DirectMultipart) {
            "–".to_owned()
        } else {
            format!("{:.2}", of(way, |run| run.gateway_cpu) / gib)
        };
        out.push_str(&format!(
            "| {name} | {:.0} | {:.2} | {:.2} | {gateway} | {:.2} |\n",
            rate(way),
            rate(way) / rate(0),
            rate(way) / rate(multipart),
            of(way, |run| run.store_cpu) / gib,
        ));
    }
    out.push('\n');
}

/// The cells of the issue's table: object size × concurrent clients. Each client sends
/// `max(1, 64 MiB / size)` objects one after another, each on a fresh connection.
const CELLS: [(usize, usize); 8] = [
    (MIB, 1),
    (MIB, 4),
    (MIB, 16),
    (64 * MIB, 1),
    (64 * MIB, 4),
    (64 * MIB, 16),
    (512 * MIB, 1),
    (512 * MIB, 4),
];

/// Every way, for every cell, interleaved: they share the machine's conditions.
async fn throughput(store: &Store, data: &Bytes, repetitions: usize, out: &mut String) {
    // The gateway as it ships, and one with `single_put_max = 0`: every body past a part a
    // multipart upload, as Hoist stored them before the streamed PutObject.
    let streamed = Gateway::start(store, &[]).await;
    let multipart = Gateway::start(store, &[("HOIST_UPLOAD__SINGLE_PUT_MAX", "0")]).await;
    let ways = [
        Way::DirectPut,
        Way::DirectPutChecked,
        Way::DirectMultipart,
        Way::HoistPut,
        Way::HoistPutMultipart,
        Way::HoistForm,
    ];
    out.push_str(
        "| size × clients | direct PUT MiB/s | direct PUT + CRC32C MiB/s | direct multipart MiB/s \
         | Hoist PUT MiB/s | Hoist PUT, multipart MiB/s | Hoist form MiB/s \
         | Hoist PUT / direct PUT | Hoist PUT / direct PUT + CRC32C \
         | Hoist form / direct multipart |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut cpu_rows = String::new();
    for (size, clients) in CELLS {
        let per_client = (64 * MIB / size).max(1);
        let total = (size * per_client * clients) as f64;
        let mut runs: Vec<(Way, Run)> = Vec::new();
        for rep in 0..repetitions {
            eprintln!(
                "bench: {} MiB × {clients}, repetition {}",
                size / MIB,
                rep + 1
            );
            for way in ways {
                let gateway = match way {
                    Way::HoistPutMultipart => &multipart,
                    _ => &streamed,
                };
                let body = data.slice(..size);
                runs.push((
                    way,
                    measure(store, gateway, way, &body, clients, per_client).await,
                ));
            }
        }
        let of = |way: Way, pick: fn(&Run) -> f64| {
            median(
                runs.iter()
                    .filter(|(w, _)| *w == way)
                    .map(|(_, run)| pick(run))
                    .collect(),
            )
        };
        let peak = |way: Way| {
            runs.iter()
                .filter(|(w, _)| *w == way)
                .map(|(_, run)| run.gateway_peak_mib)
                .fold(0.0, f64::max)
        };
        let rate = |way| total / MIB as f64 / of(way, |run| run.seconds);
        out.push_str(&format!(
            "| {} MiB × {clients} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} \
             | {:.2} |\n",
            size / MIB,
            rate(Way::DirectPut),
            rate(Way::DirectPutChecked),
            rate(Way::DirectMultipart),
            rate(Way::HoistPut),
            rate(Way::HoistPutMultipart),
            rate(Way::HoistForm),
            rate(Way::HoistPut) / rate(Way::DirectPut),
            rate(Way::HoistPut) / rate(Way::DirectPutChecked),
            rate(Way::HoistForm) / rate(Way::DirectMultipart),
        ));
        let gib = total / (1024 * MIB) as f64;
        let per_gib = |way, pick: fn(&Run) -> f64| of(way, pick) / gib;
        cpu_rows.push_str(&format!(
            "| {} MiB × {clients} | {:.2} | {:.2} | {:.2} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} \
             | {:.0} / {:.0} / {:.0} MiB |\n",
            size / MIB,
            per_gib(Way::HoistPut, |run| run.gateway_cpu),
            per_gib(Way::HoistPutMultipart, |run| run.gateway_cpu),
            per_gib(Way::HoistForm, |run| run.gateway_cpu),
            per_gib(Way::DirectPut, |run| run.store_cpu),
            per_gib(Way::DirectPutChecked, |run| run.store_cpu),
            per_gib(Way::DirectMultipart, |run| run.store_cpu),
            per_gib(Way::HoistPut, |run| run.store_cpu),
            per_gib(Way::HoistForm, |run| run.store_cpu),
            peak(Way::HoistPut),
            peak(Way::HoistPutMultipart),
            peak(Way::HoistForm),
        ));
    }
    out.push_str(
        "\nCPU seconds per GiB uploaded (medians) and the gateway's peak RSS (largest of the \
         repetitions):\n\n| size × clients | gateway, Hoist PUT | gateway, Hoist PUT \
         multipart | gateway, Hoist form | store, direct PUT | store, direct PUT + CRC32C \
         | store, direct multipart | store, Hoist PUT | store, Hoist form \
         | gateway peak RSS: PUT / PUT multipart / form |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    out.push_str(&cpu_rows);
    out.push('\n');
    // The form column is of forms that stream; one that was spooled would be another path.
    assert_eq!(
        streamed.metric("hoist_uploads_spooled_total").await,
        0.0,
        "a bench form was spooled"
    );
}

/// Peak memory of a fresh gateway per scenario, streamed (as shipped) and multipart
/// (`single_put_max = 0`).
async fn memory_peaks(store: &Store, data: &Bytes, out: &mut String) {
    let body = data.slice(..256 * MIB);
    out.push_str("\n| scenario | gateway | RSS idle | peak RSS (VmHWM) |\n|---|---|---:|---:|\n");
    // A form streams into a multipart upload (its file's length is unknown), through multer.
    for (name, extra, form) in [
        ("streamed PutObject", &[][..], false),
        (
            "multipart",
            &[("HOIST_UPLOAD__SINGLE_PUT_MAX", "0")][..],
            false,
        ),
        ("form (multipart)", &[][..], true),
    ] {
        eprintln!("bench: peak RSS ({name}), one 1 GiB upload");
        let gateway = Gateway::start(store, extra).await;
        let (idle, _) = gateway.memory();
        let key = gateway.upload(form, "bench/rss-single", data.clone()).await;
        let (_, peak) = gateway.memory();
        out.push_str(&format!(
            "| one 1 GiB upload | {name} | {idle:.0} MiB | {peak:.0} MiB |\n"
        ));
        store.delete(&key).await;
        drop(gateway);

        eprintln!("bench: peak RSS ({name}), 16 concurrent 256 MiB uploads");
        let gateway = Gateway::start(store, extra).await;
        let (idle, _) = gateway.memory();
        let uploads = (0..16).map(|i| {
            let (gateway, body) = (&gateway, body.clone());
            async move { gateway.upload(form, &format!("bench/rss-{i}"), body).await }
        });
        let keys = futures_util::future::join_all(uploads).await;
        let (_, peak) = gateway.memory();
        out.push_str(&format!(
            "| 16 concurrent 256 MiB uploads (budget 256 MiB) | {name} | {idle:.0} MiB | {peak:.0} MiB |\n"
        ));
        for key in keys {
            store.delete(&key).await;
        }
        drop(gateway);
    }
}

/// `GET /heartbeat` and `GET /files/list` of 1,000 objects under wrk (Debian's package):
/// requests per second and the gateway's CPU per request. Skipped without wrk.
async fn request_rates(store: &Store, out: &mut String) {
    if std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_err()
    {
        out.push_str("\n(wrk not installed: heartbeat and list rates skipped)\n");
        return;
    }
    let gateway = Gateway::start(store, &[]).await;
    let keys = (0..1000).map(|i| {
        let store = &store;
        async move {
            store
                .put(&format!("list/{i:04}.txt"), Bytes::from_static(b"x"), false)
                .await
        }
    });
    let keys: Vec<String> = stream::iter(keys).buffer_unordered(16).collect().await;
    out.push_str(
        "\n| wrk, 2 threads, 10 s | connections | requests/s | gateway CPU-ms per request |\n\
         |---|---:|---:|---:|\n",
    );
    let auth = format!("Authorization: Bearer {}", gateway.token);
    for (name, path, connections, header) in [
        ("GET /heartbeat", "/heartbeat", 32, None),
        (
            "GET /files/list (1,000 objects)",
            "/files/list?prefix=list",
            8,
            Some(auth.as_str()),
        ),
    ] {
        eprintln!("bench: wrk {name}");
        let before = gateway.cpu();
        let mut wrk = std::process::Command::new("wrk");
        wrk.args(["-t2", &format!("-c{connections}"), "-d10s"]);
        if let Some(header) = header {
            wrk.args(["-H", header]);
        }
        let output = wrk
            .arg(format!("{}{path}", gateway.process.base_url))
            .output()
            .expect("wrk runs");
        let cpu = gateway.cpu() - before;
        let text = String::from_utf8_lossy(&output.stdout);
        let total: f64 = text
            .lines()
            .find_map(|line| line.trim().split_once(" requests in "))
            .and_then(|(count, _)| count.trim().parse().ok())
            .unwrap_or(0.0);
        let per_second: f64 = text
            .lines()
            .find_map(|line| line.strip_prefix("Requests/sec:"))
            .and_then(|rate| rate.trim().parse().ok())
            .unwrap_or(0.0);
        let non_2xx = text.lines().any(|line| line.contains("Non-2xx"));
        out.push_str(&format!(
            "| {name}{} | {connections} | {per_second:.0} | {:.3} |\n",
            if non_2xx { " (non-2xx answers!)" } else { "" },
            cpu * 1000.0 / total.max(1.0),
        ));
    }
    for key in keys {
        store.delete(&key).await;
    }
}
