//! gongzhi-loadgen: a small HTTP load generator for gongzhi's API (see docs/benchmarks.md).
//!
//! It signs in once (or on every request, for the `login` scenario), then keeps `--connections`
//! HTTP/1.1 keep-alive connections busy for `--duration` seconds and prints throughput and latency
//! percentiles. Only loopback addresses are accepted.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::Request;
use hyper_util::rt::TokioIo;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
enum Scenario {
    /// Authenticated GET /api/v1/areas/{id}/children
    Children,
    /// POST /api/v1/auth/login
    Login,
    /// GET /healthz (the HTTP stack alone)
    Health,
}

#[derive(Parser, Debug)]
#[command(about = "Load generator for gongzhi (loopback only)")]
struct Args {
    /// Server address, host:port on loopback
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    #[arg(long, value_enum, default_value = "children")]
    scenario: Scenario,
    #[arg(long, default_value = "admin")]
    user: String,
    #[arg(long, env = "GONGZHI_BENCH_PASSWORD")]
    password: String,
    /// Concurrent connections
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds to run (after a 2 s warm-up)
    #[arg(long, default_value_t = 15)]
    duration: u64,
    /// Worker threads for the generator
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Target requests per second over all connections (0: as fast as possible)
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Print one JSON line instead of text
    #[arg(long)]
    json: bool,
}

struct Conn {
    sender: http1::SendRequest<Full<Bytes>>,
}

async fn connect(addr: &str) -> Result<Conn, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_nodelay(true).ok();
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(Conn { sender })
}

async fn send(c: &mut Conn, req: Request<Full<Bytes>>) -> Result<(u16, Bytes), String> {
    c.sender.ready().await.map_err(|e| e.to_string())?;
    let resp = c
        .sender
        .send_request(req)
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}

fn login_request(addr: &str, user: &str, password: &str) -> Request<Full<Bytes>> {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    Request::post("/api/v1/auth/login")
        .header("host", addr)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("request")
}

fn get_request(addr: &str, path: &str, token: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .header("host", addr)
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))
        .expect("request")
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let args = Args::parse();
    let host = args.addr.split(':').next().unwrap_or("");
    if !(host.starts_with("127.") || host == "localhost" || host == "[::1]") {
        eprintln!("gongzhi-loadgen: only loopback targets are allowed");
        std::process::exit(2);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .expect("runtime");
    if let Err(e) = rt.block_on(run(args)) {
        eprintln!("gongzhi-loadgen: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    // Sign in once and find an area with children.
    let mut c = connect(&args.addr).await?;
    let (status, body) = send(
        &mut c,
        login_request(&args.addr, &args.user, &args.password),
    )
    .await?;
    if status != 200 {
        return Err(format!(
            "login failed: {status} {}",
            String::from_utf8_lossy(&body)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let token = v["token"].as_str().ok_or("no token")?.to_string();
    let (_, body) = send(
        &mut c,
        get_request(&args.addr, "/api/v1/areas/roots", &token),
    )
    .await?;
    let roots: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let area = roots[0]["id"]
        .as_str()
        .ok_or("no visible area")?
        .to_string();
    let path = match args.scenario {
        Scenario::Children => format!("/api/v1/areas/{area}/children"),
        Scenario::Health => "/healthz".to_string(),
        Scenario::Login => "/api/v1/auth/login".to_string(),
    };

    let stop = Arc::new(AtomicBool::new(false));
    let recording = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = vec![];
    let per_conn_interval = if args.rate > 0 {
        Some(Duration::from_secs_f64(
            args.connections as f64 / args.rate as f64,
        ))
    } else {
        None
    };
    for _ in 0..args.connections {
        let (addr, token, path, user, password) = (
            args.addr.clone(),
            token.clone(),
            path.clone(),
            args.user.clone(),
            args.password.clone(),
        );
        let (stop, recording, errors) = (stop.clone(), recording.clone(), errors.clone());
        let scenario = args.scenario;
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<u32> = Vec::with_capacity(100_000);
            let mut conn = match connect(&addr).await {
                Ok(c) => c,
                Err(_) => {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return lat;
                }
            };
            let mut next = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                if let Some(iv) = per_conn_interval {
                    let now = Instant::now();
                    if next > now {
                        tokio::time::sleep(next - now).await;
                    }
                    next += iv;
                }
                let req = match scenario {
                    Scenario::Login => login_request(&addr, &user, &password),
                    _ => get_request(&addr, &path, &token),
                };
                // With a target rate, latency counts from when the request was due.
                let t0 = if per_conn_interval.is_some() {
                    next - per_conn_interval.unwrap_or_default()
                } else {
                    Instant::now()
                };
                match send(&mut conn, req).await {
                    Ok((200, _)) => {
                        if recording.load(Ordering::Relaxed) {
                            lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                        }
                    }
                    Ok(_) | Err(_) => {
                        if recording.load(Ordering::Relaxed) {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                        if let Ok(c) = connect(&addr).await {
                            conn = c;
                        }
                    }
                }
            }
            lat
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    recording.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    recording.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut all: Vec<u32> = vec![];
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    all.sort_unstable();
    let n = all.len();
    let rps = n as f64 / elapsed;
    let errs = errors.load(Ordering::Relaxed);
    let (p50, p90, p99, max) = (
        percentile(&all, 0.50),
        percentile(&all, 0.90),
        percentile(&all, 0.99),
        percentile(&all, 1.0),
    );
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "scenario": format!("{:?}", args.scenario).to_lowercase(), "connections": args.connections,
                "seconds": elapsed, "requests": n, "errors": errs, "rps": rps,
                "p50_ms": p50, "p90_ms": p90, "p99_ms": p99, "max_ms": max
            })
        );
    } else {
        println!(
            "{:?}: {n} ok, {errs} errors in {elapsed:.1} s with {} connections → {rps:.0} req/s; latency p50 {p50:.2} ms, p90 {p90:.2} ms, p99 {p99:.2} ms, max {max:.2} ms",
            args.scenario, args.connections
        );
    }
    Ok(())
}
