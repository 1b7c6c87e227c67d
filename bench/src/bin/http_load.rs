//! A closed-loop HTTP/1.1 load generator for the eligibility benchmark
//! (`bench/eligibility/run.sh`): CONNECTIONS keep-alive connections, each
//! sending its next request as soon as the previous answer is read, for
//! SECONDS after a one-second warm-up. Prints one JSON line: requests per
//! second, latency percentiles, the mean response size, and the count of
//! answers that were not 200 (the run fails when there are any).
//!
//! Hand-written on tokio's sockets rather than a client library: the server
//! and this generator share two cores, and a client that only writes fixed
//! bytes and reads `Content-Length` bodies leaves the server the most CPU.
//!
//! usage: http_load URL METHOD CONNECTIONS SECONDS [BODY_FILE]

use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Tally {
    latencies_us: Vec<u32>,
    bytes: u64,
    not_ok: u64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, method, connections, seconds, rest @ ..] = args.as_slice() else {
        return Err("usage: http_load URL METHOD CONNECTIONS SECONDS [BODY_FILE]".into());
    };
    let (host, path) = url
        .strip_prefix("http://")
        .and_then(|u| u.split_once('/'))
        .ok_or("URL must be http://HOST:PORT/PATH")?;
    let body = match rest.first() {
        Some(file) => std::fs::read(file)?,
        None => Vec::new(),
    };
    let mut request = format!("{method} /{path} HTTP/1.1\r\nHost: {host}\r\n").into_bytes();
    if !body.is_empty() {
        request.extend_from_slice(
            format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            )
            .as_bytes(),
        );
    }
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(&body);
    let connections: usize = connections.parse()?;
    let run = Duration::from_secs(seconds.parse()?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let host = host.to_owned();
    let tallies = runtime.block_on(async move {
        let start = Instant::now() + Duration::from_secs(1);
        let end = start + run;
        let tasks: Vec<_> = (0..connections)
            .map(|_| tokio::spawn(connection(host.clone(), request.clone(), start, end)))
            .collect();
        let mut tallies = Vec::new();
        for task in tasks {
            tallies.push(task.await.expect("a connection task")?);
        }
        Ok::<_, std::io::Error>(tallies)
    })?;
    let mut latencies: Vec<u32> = tallies
        .iter()
        .flat_map(|t| t.latencies_us.clone())
        .collect();
    latencies.sort_unstable();
    let count = latencies.len().max(1);
    let at = |q: f64| {
        latencies
            .get(((count as f64 * q) as usize).min(count - 1))
            .copied()
            .unwrap_or(0)
    };
    let bytes: u64 = tallies.iter().map(|t| t.bytes).sum();
    let not_ok: u64 = tallies.iter().map(|t| t.not_ok).sum();
    println!(
        "{}",
        serde_json::json!({
            "url": url, "connections": connections, "seconds": run.as_secs(),
            "requests": latencies.len(),
            "rps": (latencies.len() as f64 / run.as_secs_f64()).round(),
            "p50_ms": f64::from(at(0.50)) / 1000.0,
            "p99_ms": f64::from(at(0.99)) / 1000.0,
            "max_ms": f64::from(at(1.0)) / 1000.0,
            "mean_response_bytes": bytes / count as u64,
            "not_200": not_ok,
        })
    );
    if not_ok > 0 {
        return Err(format!("{not_ok} answers were not 200").into());
    }
    Ok(())
}

/// One keep-alive connection: requests back to back until `end`; only those
/// sent after `start` are counted.
async fn connection(
    host: String,
    request: Vec<u8>,
    start: Instant,
    end: Instant,
) -> std::io::Result<Tally> {
    let stream = TcpStream::connect(&host).await?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::with_capacity(64 * 1024, read);
    let mut tally = Tally {
        latencies_us: Vec::with_capacity(1 << 16),
        bytes: 0,
        not_ok: 0,
    };
    let (mut line, mut body) = (String::new(), Vec::new());
    loop {
        let sent = Instant::now();
        if sent >= end {
            return Ok(tally);
        }
        write.write_all(&request).await?;
        line.clear();
        read.read_line(&mut line).await?;
        let ok = line.starts_with("HTTP/1.1 200");
        let mut length = 0;
        loop {
            line.clear();
            if read.read_line(&mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        body.resize(length, 0);
        read.read_exact(&mut body).await?;
        if sent >= start {
            let micros = sent.elapsed().as_micros();
            tally
                .latencies_us
                .push(u32::try_from(micros).unwrap_or(u32::MAX));
            tally.bytes += length as u64;
            tally.not_ok += u64::from(!ok);
        }
    }
}
