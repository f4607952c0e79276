//! `bench`: upload throughput through Hoist against the same bytes sent straight to the same
//! s3s-fs store, side by side in one run, and Hoist's peak memory and CPU. A benchmark, not a
//! test: it prints a Markdown report (the source of `BENCHMARKS.md`).
//!
//! ```sh
//! cargo build --release -p hoist-server -p hoist-tests --bin hoist-server --bin bench
//! target/release/bench            # $CARGO_TARGET_DIR/release/bench when that is set
//! ```
//!
//! Two release `hoist-server` processes on loopback: the **store**, whose embedded s3s-fs is
//! the S3 endpoint (its endpoint and keys are read from its start-up log), and the
//! **gateway** under test, pointed at that endpoint through `[aws] endpoint` like a
//! production Hoist at S3. Keeping the store in its own process keeps its memory and CPU out
//! of the gateway's numbers. Per size it compares:
//! - **direct PUT**: one presigned PUT of the whole body to the store;
//! - **direct multipart**: what an S3 client does with a large file: 8 MiB parts, 4 in
//!   flight, CreateMultipartUpload … CompleteMultipartUpload, straight to the store;
//! - **Hoist**: `PUT /files/object` with the same body, through the gateway.
//!
//! Peak RSS is the kernel's high-water mark (`VmHWM`) of a fresh gateway per scenario.
//!
//! `bench tus` instead compares tus uploads (8 MiB and 1 MiB PATCHes) with `PUT /files/object`
//! of the same 256 MiB through the same gateway.
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
            http: reqwest::Client::new(),
            _data: data,
        }
    }

    fn cpu(&self) -> f64 {
        cpu_seconds(self.process.pid())
    }

    async fn put(&self, key: &str, body: Bytes) {
        let presigned = self
            .s3
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .presigned(PresigningConfig::expires_in(Duration::from_secs(3600)).expect("config"))
            .await
            .expect("presigned PUT");
        let response = self
            .http
            .put(presigned.uri())
            .body(body)
            .send()
            .await
            .expect("s3s-fs answers");
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap_or_default()
        );
    }

    async fn multipart(&self, key: &str, body: Bytes) {
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
    async fn start(store: &Store) -> Self {
        let data = tempfile::tempdir().expect("a work dir");
        let process = BinaryServer::start(
            data.path(),
            &[
                ("HOIST_AWS__ENDPOINT", store.endpoint.as_str()),
                ("HOIST_AWS__FORCE_PATH_STYLE", "true"),
                ("HOIST_AWS__ACCESS_KEY_ID", store.access_key.as_str()),
                ("HOIST_AWS__SECRET_ACCESS_KEY", store.secret_key.as_str()),
                ("HOIST_AWS__ATTEMPT_TIMEOUT", "300s"),
                ("HOIST_STORAGE__EMBEDDED__ENABLED", "false"),
                // The defaults a production server runs with, spelled out.
                ("HOIST_UPLOAD__PART_SIZE", &PART.to_string()),
                ("HOIST_UPLOAD__MAX_BUFFER_BYTES", &(256 * MIB).to_string()),
                (
                    "HOIST_UPLOAD__PARTS_IN_FLIGHT",
                    &PARTS_IN_FLIGHT.to_string(),
                ),
            ],
        );
        let http = reqwest::Client::new();
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

    async fn put(&self, key: &str, body: Bytes) {
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
    DirectPut,
    DirectMultipart,
    Hoist,
}

/// One measured upload: wall time, and CPU seconds of the gateway and of the store.
#[derive(Default, Clone, Copy)]
struct Run {
    seconds: f64,
    gateway_cpu: f64,
    store_cpu: f64,
}

async fn measure(store: &Store, gateway: &Gateway, way: Way, key: &str, body: Bytes) -> Run {
    let (gateway_before, store_before) = (gateway.cpu(), store.cpu());
    let started = Instant::now();
    match way {
        Way::DirectPut => store.put(key, body).await,
        Way::DirectMultipart => store.multipart(key, body).await,
        Way::Hoist => gateway.put(key, body).await,
    }
    let seconds = started.elapsed().as_secs_f64();
    let run = Run {
        seconds,
        gateway_cpu: gateway.cpu() - gateway_before,
        store_cpu: store.cpu() - store_before,
    };
    store.delete(key).await;
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
        let gateway = Gateway::start(&store).await;
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
    eprintln!("bench: generating 1 GiB of test data");
    let data = test_bytes(1024 * MIB, 42);
    let store = Store::start();
    let mut out = format!(
        "{} cores, load average before the run {}; {repetitions} repetitions, medians.\n\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
    );

    // Throughput, the three ways interleaved so they share the machine's conditions.
    if std::env::var_os("BENCH_ONLY_MEMORY").is_none() {
        throughput(&store, &data, repetitions, &mut out).await;
    }
    memory_peaks(&store, &data, &mut out).await;
    println!("{out}");
}

/// tus uploads against `PUT /files/object` of the same 256 MiB through the same gateway,
/// interleaved: PATCHes of 8 MiB (a part each) and of 1 MiB (what tus-js-client and tuspy
/// send by default, gathered into parts through the bucket's tail object).
async fn tus_throughput(store: &Store, data: &Bytes, repetitions: usize, out: &mut String) {
    let gateway = Gateway::start(store).await;
    let size = 256 * MIB;
    let body = data.slice(..size);
    let ways = [
        ("PUT /files/object", 0),
        ("tus, 8 MiB PATCHes", 8 * MIB),
        ("tus, 1 MiB PATCHes", MIB),
    ];
    let mut runs: Vec<(usize, Run)> = Vec::new();
    for rep in 0..repetitions {
        eprintln!("bench: tus, repetition {}", rep + 1);
        for (way, (_, chunk)) in ways.iter().enumerate() {
            let key = format!("bench-tus-{way}-{rep}");
            let (gateway_before, store_before) = (gateway.cpu(), store.cpu());
            let started = Instant::now();
            if *chunk == 0 {
                gateway.put(&key, body.clone()).await;
            } else {
                gateway.tus(&key, body.clone(), *chunk).await;
            }
            runs.push((
                way,
                Run {
                    seconds: started.elapsed().as_secs_f64(),
                    gateway_cpu: gateway.cpu() - gateway_before,
                    store_cpu: store.cpu() - store_before,
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
    out.push_str(
        "| 256 MiB through Hoist | MiB/s | / PUT /files/object | gateway CPU-s per GiB | store CPU-s per GiB |\n|---|---:|---:|---:|---:|\n",
    );
    for (way, (name, _)) in ways.iter().enumerate() {
        out.push_str(&format!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.2} |\n",
            rate(way),
            rate(way) / rate(0),
            of(way, |run| run.gateway_cpu) / gib,
            of(way, |run| run.store_cpu) / gib,
        ));
    }
    out.push('\n');
}

async fn throughput(store: &Store, data: &Bytes, repetitions: usize, out: &mut String) {
    let gateway = Gateway::start(store).await;
    out.push_str(
        "| size | direct PUT MiB/s | direct multipart MiB/s | Hoist MiB/s | Hoist / direct PUT \
         | Hoist / direct multipart |\n|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut cpu_rows = String::new();
    for size in [64 * MIB, 256 * MIB, 1024 * MIB] {
        let body = data.slice(..size);
        let mut runs: Vec<(Way, Run)> = Vec::new();
        for rep in 0..repetitions {
            eprintln!("bench: {} MiB, repetition {}", size / MIB, rep + 1);
            for way in [Way::DirectPut, Way::DirectMultipart, Way::Hoist] {
                let key = format!("bench/{size}-{rep}");
                runs.push((way, measure(store, &gateway, way, &key, body.clone()).await));
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
        let rate = |way| (size / MIB) as f64 / of(way, |run| run.seconds);
        let (put, multipart, hoist) = (
            rate(Way::DirectPut),
            rate(Way::DirectMultipart),
            rate(Way::Hoist),
        );
        out.push_str(&format!(
            "| {} MiB | {put:.0} | {multipart:.0} | {hoist:.0} | {:.2} | {:.2} |\n",
            size / MIB,
            hoist / put,
            hoist / multipart
        ));
        let gib = size as f64 / (1024 * MIB) as f64;
        cpu_rows.push_str(&format!(
            "| {} MiB | {:.1} | {:.1} | {:.1} | {:.1} |\n",
            size / MIB,
            of(Way::DirectPut, |run| run.store_cpu) / gib,
            of(Way::DirectMultipart, |run| run.store_cpu) / gib,
            of(Way::Hoist, |run| run.store_cpu) / gib,
            of(Way::Hoist, |run| run.gateway_cpu) / gib,
        ));
    }

    // 16 concurrent uploads of 256 MiB, direct and through Hoist.
    let body = data.slice(..256 * MIB);
    let mut rates = Vec::new();
    for way in [Way::DirectPut, Way::Hoist] {
        eprintln!("bench: 16 concurrent 256 MiB uploads");
        let started = Instant::now();
        let uploads = (0..16).map(|i| {
            let body = body.clone();
            let gateway = &gateway;
            async move {
                let key = format!("bench/concurrent-{i}");
                match way {
                    Way::Hoist => gateway.put(&key, body).await,
                    _ => store.put(&key, body).await,
                }
                key
            }
        });
        let keys = futures_util::future::join_all(uploads).await;
        let rate = (16 * 256) as f64 / started.elapsed().as_secs_f64();
        for key in keys {
            store.delete(&key).await;
        }
        rates.push(rate);
    }
    out.push_str(&format!(
        "| 16 × 256 MiB at once (aggregate) | {:.0} | – | {:.0} | {:.2} | – |\n\n",
        rates[0],
        rates[1],
        rates[1] / rates[0]
    ));
    drop(gateway);

    out.push_str(
        "CPU seconds per GiB uploaded (medians):\n\n| size | store, direct PUT | store, direct \
         multipart | store, via Hoist | Hoist gateway |\n|---:|---:|---:|---:|---:|\n",
    );
    out.push_str(&cpu_rows);
}

/// Peak memory of a fresh gateway per scenario.
async fn memory_peaks(store: &Store, data: &Bytes, out: &mut String) {
    let body = data.slice(..256 * MIB);
    out.push_str("\n| scenario | gateway RSS idle | gateway peak RSS (VmHWM) |\n|---|---:|---:|\n");
    eprintln!("bench: peak RSS, one 1 GiB upload");
    let gateway = Gateway::start(store).await;
    let (idle, _) = gateway.memory();
    gateway.put("bench/rss-single", data.clone()).await;
    let (_, peak) = gateway.memory();
    out.push_str(&format!(
        "| one 1 GiB upload | {idle:.0} MiB | {peak:.0} MiB |\n"
    ));
    store.delete("bench/rss-single").await;
    drop(gateway);

    eprintln!("bench: peak RSS, 16 concurrent 256 MiB uploads");
    let gateway = Gateway::start(store).await;
    let (idle, _) = gateway.memory();
    let uploads = (0..16).map(|i| {
        let (gateway, body) = (&gateway, body.clone());
        async move { gateway.put(&format!("bench/rss-{i}"), body).await }
    });
    futures_util::future::join_all(uploads).await;
    let (_, peak) = gateway.memory();
    out.push_str(&format!(
        "| 16 concurrent 256 MiB uploads (buffer cap 256 MiB) | {idle:.0} MiB | {peak:.0} MiB |\n"
    ));
    for i in 0..16 {
        store.delete(&format!("bench/rss-{i}")).await;
    }
    drop(gateway);
}
