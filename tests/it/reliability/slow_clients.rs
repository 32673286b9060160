//! Slow clients cannot hold connections: a request head sent a byte at a time, a connection
//! that sends nothing, a keep-alive connection left idle, and a body that trickles are all
//! cut off after `--client-timeout`, while ordinary clients are served as before.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{test_config, TestApp, TestDb, INGEST_TOKEN};

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.base.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connect")
}

/// Reads until the server closes the connection; what it sent, and when it closed.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(
            within.saturating_sub(started.elapsed()),
            stream.read(&mut buf),
        )
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the server kept the connection open for {within:?}; got {:?}",
                String::from_utf8_lossy(&got)
            )
        })
        .unwrap_or(0);
        if n == 0 {
            return (
                String::from_utf8_lossy(&got).into_owned(),
                started.elapsed(),
            );
        }
        got.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn slow_and_idle_clients_are_disconnected_after_the_client_timeout() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &["--client-timeout", "1s"])).await;
    let limit = Duration::from_secs(5);

    // A connection that never sends a byte.
    let mut silent = connect(&app).await;
    let (_, after) = read_until_closed(&mut silent, limit).await;
    assert!(
        after >= Duration::from_millis(900),
        "closed too early: {after:?}"
    );

    // Slowloris: the request head one byte every 200 ms, never finished in time.
    let mut slow = connect(&app).await;
    let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    let started = Instant::now();
    let mut cut = false;
    for b in head {
        if slow.write_all(&[*b]).await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        if started.elapsed() > limit {
            break;
        }
    }
    if !cut {
        let (answer, _) = read_until_closed(&mut slow, limit).await;
        assert!(!answer.contains("200 OK"), "{answer}");
    }
    assert!(
        started.elapsed() < limit + Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // A keep-alive connection: one request answered, then closed once idle.
    let mut idle = connect(&app).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let (answer, after) = read_until_closed(&mut idle, limit).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(after >= Duration::from_millis(900), "{after:?}");

    // A body that stops halfway: a JSON 408, and the connection is closed.
    let mut trickle = connect(&app).await;
    let request = format!(
        "PUT /api/v1/ingest/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {INGEST_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"id\": \"7d6a"
    );
    trickle.write_all(request.as_bytes()).await.expect("write");
    let (answer, after) = read_until_closed(&mut trickle, limit).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert!(after < Duration::from_secs(3), "{after:?}");

    // Without a credential the body is never waited for: 401 at once.
    let mut anonymous = connect(&app).await;
    let started = Instant::now();
    anonymous
        .write_all(
            b"PUT /api/v1/ingest/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 1000000\r\n\r\n{\"id\"",
        )
        .await
        .expect("write");
    let mut buf = [0u8; 12];
    anonymous.read_exact(&mut buf).await.expect("an answer");
    assert_eq!(&buf, b"HTTP/1.1 401", "{:?}", String::from_utf8_lossy(&buf));
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );

    // Ordinary clients are not affected.
    let r = app
        .http
        .put(app.url("/api/v1/ingest/users"))
        .bearer_auth(INGEST_TOKEN)
        .json(&serde_json::json!({"id": uuid::Uuid::new_v4(), "username": "prompt"}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413_before_the_handler() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(
        &db.url,
        &["--body-limit", "4KiB", "--client-timeout", "2s"],
    ))
    .await;
    let huge = format!(
        "{{\"id\": \"{}\", \"username\": \"{}\"}}",
        uuid::Uuid::new_v4(),
        "x".repeat(8192)
    );
    // Once with a length, once chunked (no length known up front).
    let r = app
        .http
        .put(app.url("/api/v1/ingest/users"))
        .bearer_auth(INGEST_TOKEN)
        .header("content-type", "application/json")
        .body(huge.clone())
        .send()
        .await
        .expect("request");
    let (status, code, _) = crate::common::error_of(r).await;
    assert_eq!((status, code.as_str()), (413, "payload_too_large"));
    let mut chunked = connect(&app).await;
    let mut request = format!(
        "PUT /api/v1/ingest/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {INGEST_TOKEN}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    for chunk in huge.as_bytes().chunks(1000) {
        request.push_str(&format!(
            "{:x}\r\n{}\r\n",
            chunk.len(),
            String::from_utf8_lossy(chunk)
        ));
    }
    request.push_str("0\r\n\r\n");
    // The server may answer and close before it has read everything we send.
    let _ = chunked.write_all(request.as_bytes()).await;
    let (answer, _) = read_until_closed(&mut chunked, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    app.stop().await;
}
