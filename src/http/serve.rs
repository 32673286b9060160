//! The HTTP/1 server loop, with the client time limits `axum::serve` does not set.
//!
//! `axum::serve` builds hyper without a timer, so hyper's header-read timeout is never in
//! force: a client that sends its request head one byte at a time, or opens a connection
//! and sends nothing, holds it (and a task) forever. Here hyper gets a timer and
//! `client_timeout` as its header-read timeout, which also closes a keep-alive connection
//! left idle that long. Reading a body in time is [`read_body`]'s job. Shutdown is as with
//! `axum::serve`: stop accepting, let in-flight requests finish, close idle connections.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::error::AppError;
use crate::state::AppState;

/// Serves `app` on `listener` until `shutdown` fires, then drains as described above.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    client_timeout: Duration,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(client_timeout)
        .keep_alive(true);
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that went away or took too long: nothing to answer, nobody to tell.
            if let Err(err) = conn.await {
                tracing::debug!(error = %err, "connection closed with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// As `axum::serve`: a connection that failed before it was accepted is skipped; anything
/// else (out of file descriptors, say) is logged and waited out, not a reason to stop.
async fn accept_failed(err: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %err, "cannot accept a connection; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Reads a request's whole body within `--client-timeout` before the handler runs (on the
/// routes behind a credential, after the credential check): a client that trickles its body
/// gets a 408 and its connection closed, instead of holding a task until the request time
/// limit. Bodies over `--body-limit` are refused here with the 413 the extractors would give.
pub async fn read_body(State(state): State<AppState>, req: Request, next: Next) -> Response {
    use axum::body::HttpBody;
    if req.body().size_hint().exact() == Some(0) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let limit = state.config.body_limit;
    let read = axum::body::to_bytes(body, limit);
    let bytes = match tokio::time::timeout(state.config.client_timeout, read).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(err)) => return body_error(&err).into_response(),
        Err(_) => return too_slow(),
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn body_error(err: &axum::Error) -> AppError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is larger than the configured limit",
            );
        }
        source = e.source();
    }
    AppError::bad_request("body", "the request body could not be read")
}

fn too_slow() -> Response {
    let mut resp = AppError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "the request body did not arrive in time",
    )
    .into_response();
    // The rest of the body may still be on its way: do not keep the connection.
    resp.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    resp
}
