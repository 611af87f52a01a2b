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
    /// Generate a resident CSV of `--rows` rows and import it: dry run, then commit
    Import,
    /// Exact ID-number lookups, name searches and household files against a loaded registry
    Registry,
    /// POST /api/v1/cases: case intake (each with its own Idempotency-Key), spread over the
    /// grids under the user's first area
    Cases,
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
    /// Rows for the import scenario
    #[arg(long, default_value_t = 100_000)]
    rows: u64,
    /// Building code the imported residents live in (must be in the user's scope)
    #[arg(long, default_value = "130602001001001001")]
    building: String,
    /// Import scenario: the 6-digit region of the generated ID numbers (vary it to import more)
    #[arg(long, default_value = "110101")]
    region: String,
    /// Import scenario: leave the unit and room columns empty (residents only, no dwellings)
    #[arg(long)]
    no_rooms: bool,
    /// Server process id, to report its peak RSS (VmHWM)
    #[arg(long)]
    server_pid: Option<u32>,
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

/// One case intake: a category of the demo dictionary at a grid, with a unique idempotency key.
fn case_request(addr: &str, token: &str, grid: &str, n: u64, conn: usize) -> Request<Full<Bytes>> {
    const CODES: [&str; 6] = ["0101", "0201", "0301", "0402", "0602", "0901"];
    let body = serde_json::json!({
        "kind": "complaint",
        "category_code": CODES[(n % 6) as usize],
        "description": format!("压测诉求 {conn}-{n}：小区门口垃圾两天没有清运"),
        "location": {"area_id": grid},
        "requester": {"name": "压测", "phone": "13800000000"},
    })
    .to_string();
    Request::post("/api/v1/cases")
        .header("host", addr)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .header(
            "idempotency-key",
            format!("lg-{}-{conn}-{n}", std::process::id()),
        )
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

fn id_check(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| (b - b'0') as u32 * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

/// A resident CSV with `rows` distinct, valid rows (ID numbers from region 110101).
fn resident_csv(rows: u64, building: &str, rooms: bool, region: &str) -> Vec<u8> {
    let mut out = String::with_capacity(rows as usize * 120);
    out.push_str("姓名,证件号码,手机号码,居住类型,特殊人群,楼栋编码,单元,室号,与户主关系\n");
    let surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
    let given = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇"];
    for i in 0..rows {
        // A distinct (birth date, sequence) per row: 20,000 days from 1950 × 1,000 sequences.
        let day = i % 20_000;
        let seq = (i / 20_000) % 1000;
        let (y, rest) = (1950 + day / 336, day % 336);
        let (m, d) = (1 + rest / 28, 1 + rest % 28);
        let first17 = format!("{region}{y:04}{m:02}{d:02}{seq:03}");
        let id = format!("{first17}{}", id_check(&first17));
        let name = format!(
            "{}{}{}",
            surnames[(i % 10) as usize],
            given[((i / 10) % 10) as usize],
            given[((i / 100) % 10) as usize]
        );
        let mobile = format!("13{:09}", i % 1_000_000_000);
        let tag = if i % 50 == 0 {
            "低保"
        } else if i % 17 == 0 {
            "独居老人"
        } else {
            ""
        };
        // Every third row gets a dwelling: room numbers spread over units.
        let (unit, room, rel) = if rooms && i % 3 == 0 {
            ((i / 3) % 9 + 1, format!("{}", 10_000 + i / 3), "户主")
        } else {
            (0, String::new(), "")
        };
        let unit = if unit == 0 {
            String::new()
        } else {
            unit.to_string()
        };
        out.push_str(&format!(
            "{name},{id},{mobile},常住,{tag},{building},{unit},{room},{rel}\n"
        ));
    }
    out.into_bytes()
}

fn peak_rss(pid: Option<u32>) -> String {
    let Some(pid) = pid else { return "-".into() };
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| format!("{:.0} MB", kb / 1024.0))
        .unwrap_or_else(|| "-".into())
}

async fn import(args: &Args, token: &str) -> Result<(), String> {
    let t0 = Instant::now();
    let body = resident_csv(args.rows, &args.building, !args.no_rooms, &args.region);
    println!(
        "generated {} rows, {:.1} MB in {:.1} s",
        args.rows,
        body.len() as f64 / 1e6,
        t0.elapsed().as_secs_f64()
    );
    for mode in ["dry_run", "commit"] {
        let mut c = connect(&args.addr).await?;
        let req = Request::post(format!("/api/v1/import/persons?mode={mode}"))
            .header("host", &args.addr)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "text/csv; charset=utf-8")
            .body(Full::new(Bytes::from(body.clone())))
            .map_err(|e| e.to_string())?;
        let t = Instant::now();
        let (status, resp) = send(&mut c, req).await?;
        let secs = t.elapsed().as_secs_f64();
        let v: serde_json::Value = serde_json::from_slice(&resp).unwrap_or_default();
        println!(
            "import {mode}: HTTP {status} in {secs:.1} s → {:.0} rows/s; status {}, rows {}, errors {}, created {}, server peak RSS {}",
            args.rows as f64 / secs,
            v["status"],
            v["rows"],
            v["error_rows"],
            v["created"],
            peak_rss(args.server_pid)
        );
        if status != 200 || v["error_rows"].as_u64().unwrap_or(1) > 0 {
            return Err(format!(
                "import failed: {}",
                String::from_utf8_lossy(&resp[..resp.len().min(600)])
            ));
        }
    }
    Ok(())
}

/// p50/p99 of `n` sequential calls of `path(i)`.
async fn timed(
    addr: &str,
    token: &str,
    n: usize,
    mut path: impl FnMut(usize) -> String,
) -> Result<(f64, f64, f64), String> {
    let mut c = connect(addr).await?;
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let (status, body) = send(&mut c, get_request(addr, &path(i), token)).await?;
        if status != 200 {
            return Err(format!(
                "{}: {status} {}",
                path(i),
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ));
        }
        lat.push(t.elapsed().as_micros() as u32);
    }
    lat.sort_unstable();
    Ok((
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0),
    ))
}

async fn registry(args: &Args, token: &str) -> Result<(), String> {
    // Exact ID lookups of rows the import scenario made.
    let ids: Vec<String> = (0..500u64)
        .map(|k| {
            let i = (k * 7919) % args.rows.max(1);
            let day = i % 20_000;
            let seq = (i / 20_000) % 1000;
            let (y, rest) = (1950 + day / 336, day % 336);
            let (m, d) = (1 + rest / 28, 1 + rest % 28);
            let first17 = format!("110101{y:04}{m:02}{d:02}{seq:03}");
            format!("{first17}{}", id_check(&first17))
        })
        .collect();
    let (p50, p99, max) = timed(&args.addr, token, ids.len(), |i| {
        format!("/api/v1/persons?q={}&page_size=1", ids[i])
    })
    .await?;
    println!(
        "exact ID lookup ×{}: p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms",
        ids.len()
    );
    let words = [
        "%E7%8E%8B%E4%BC%9F",
        "%E6%9D%8E%E8%8A%B3",
        "%E5%BC%A0%E5%A8%9C",
        "%E5%88%98%E6%95%8F",
        "%E9%99%88%E9%9D%99",
    ]; // 王伟 李芳 张娜 刘敏 陈静
    let (p50, p99, max) = timed(&args.addr, token, 50, |i| {
        format!("/api/v1/persons?q={}&page_size=20", words[i % words.len()])
    })
    .await?;
    println!("Chinese name search ×50 (admin, whole city): p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms");
    // The same words as community workers of the demo (shequ: 朝阳社区, where the imports live;
    // shequ2: another community, whose search must skip every imported match).
    for user in ["shequ", "shequ2"] {
        let mut c = connect(&args.addr).await?;
        let (status, body) = send(&mut c, login_request(&args.addr, user, "Demo@2026")).await?;
        if status != 200 {
            return Err(format!("login {user}: {status}"));
        }
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let t = v["token"].as_str().ok_or("no token")?.to_string();
        let (p50, p99, max) = timed(&args.addr, &t, 50, |i| {
            format!("/api/v1/persons?q={}&page_size=20", words[i % words.len()])
        })
        .await?;
        println!(
            "Chinese name search ×50 ({user}): p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms"
        );
    }
    let mut c = connect(&args.addr).await?;
    let (_, body) = send(
        &mut c,
        get_request(&args.addr, "/api/v1/households?page_size=200", token),
    )
    .await?;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let hh: Vec<String> = v["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|h| h["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if hh.is_empty() {
        return Err("no households".into());
    }
    let (p50, p99, max) = timed(&args.addr, token, 300, |i| {
        format!("/api/v1/households/{}/file", hh[i % hh.len()])
    })
    .await?;
    println!("household file ×300: p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms");
    Ok(())
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
    match args.scenario {
        Scenario::Import => return import(&args, &token).await,
        Scenario::Registry => return registry(&args, &token).await,
        _ => {}
    }
    // Cases: the grids under the first area (a community: its children).
    let grids: Vec<String> = if args.scenario == Scenario::Cases {
        let (_, body) = send(
            &mut c,
            get_request(
                &args.addr,
                &format!("/api/v1/areas/{area}/children"),
                &token,
            ),
        )
        .await?;
        let kids: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let g: Vec<String> = kids
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|k| k["kind"] == "grid")
                    .filter_map(|k| k["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if g.is_empty() {
            vec![area.clone()]
        } else {
            g
        }
    } else {
        vec![]
    };
    let grids = Arc::new(grids);
    let path = match args.scenario {
        Scenario::Children => format!("/api/v1/areas/{area}/children"),
        Scenario::Health => "/healthz".to_string(),
        Scenario::Login | Scenario::Import | Scenario::Registry | Scenario::Cases => {
            "/api/v1/auth/login".to_string()
        }
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
    for conn_no in 0..args.connections {
        let grids = grids.clone();
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
            let mut n: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                if let Some(iv) = per_conn_interval {
                    let now = Instant::now();
                    if next > now {
                        tokio::time::sleep(next - now).await;
                    }
                    next += iv;
                }
                let req = match scenario {
                    Scenario::Login => login_request(&addr, &user, &password),
                    Scenario::Cases => {
                        let g = &grids[(n as usize + conn_no) % grids.len().max(1)];
                        case_request(&addr, &token, g, n, conn_no)
                    }
                    _ => get_request(&addr, &path, &token),
                };
                // With a target rate, latency counts from when the request was due.
                let t0 = if per_conn_interval.is_some() {
                    next - per_conn_interval.unwrap_or_default()
                } else {
                    Instant::now()
                };
                match send(&mut conn, req).await {
                    Ok((200 | 201, _)) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_residents_have_valid_distinct_id_numbers() {
        let csv =
            String::from_utf8(resident_csv(50_000, "130602001001001001", true, "110101")).unwrap();
        let mut seen = std::collections::HashSet::new();
        for line in csv.lines().skip(1) {
            let id = line.split(',').nth(1).unwrap();
            assert_eq!(id.len(), 18);
            assert_eq!(id_check(&id[..17]), id.chars().last().unwrap(), "{id}");
            assert!(seen.insert(id.to_string()), "duplicate {id}");
        }
        assert_eq!(seen.len(), 50_000);
        // The standard's own example.
        assert_eq!(id_check("11010519491231002"), 'X');
    }
}
