//! A real HTTP webhook receiver on 127.0.0.1:0: records every request and answers what the
//! test scripted (statuses, Retry-After, Discord's JSON rate limit, no answer, redirects, a
//! gate that holds answers until the test opens it, a slow answer, a huge body).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Hit {
    pub at: Instant,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Hit {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The text the alert is about, whatever the platform.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    /// A status with a `Retry-After` header.
    RetryAfter(u16, &'static str),
    /// A status with a JSON body (Discord's 429 carries `retry_after` there).
    Json(u16, Value),
    /// Never answers within any sane timeout.
    Hang,
    /// 307 to this location.
    Redirect(String),
    /// Answers 200 once the test calls [`Receiver::open_gate`].
    Gate,
    /// Answers 200 after this long.
    Delay(Duration),
    /// A status with a body of this many bytes.
    Huge(u16, usize),
}

struct Inner {
    hits: Mutex<Vec<Hit>>,
    script: Mutex<VecDeque<Reply>>,
    fallback: Mutex<Reply>,
    /// Fixed answers by path, before the script and the fallback.
    routes: Mutex<Vec<(String, Reply)>>,
    gate: watch::Sender<bool>,
}

pub struct Receiver {
    pub base: String,
    inner: Arc<Inner>,
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("receiver addr");
        let (gate, _) = watch::channel(false);
        let inner = Arc::new(Inner {
            hits: Mutex::new(Vec::new()),
            script: Mutex::new(VecDeque::new()),
            fallback: Mutex::new(Reply::Status(200)),
            routes: Mutex::new(Vec::new()),
            gate,
        });
        let app = Router::new().fallback(handle).with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base: format!("http://{addr}"),
            inner,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The next answers, in order; after them, the fallback.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.script.lock().expect("script").extend(replies);
    }

    pub fn always(&self, reply: Reply) {
        *self.inner.fallback.lock().expect("fallback") = reply;
    }

    /// Always answers requests to each path with its reply.
    pub fn route(&self, routes: impl IntoIterator<Item = (String, Reply)>) {
        self.inner.routes.lock().expect("routes").extend(routes);
    }

    pub fn open_gate(&self) {
        let _ = self.inner.gate.send(true);
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.inner.hits.lock().expect("hits").clone()
    }

    pub fn hits_on(&self, path: &str) -> Vec<Hit> {
        self.hits().into_iter().filter(|h| h.path == path).collect()
    }

    /// Polls until `n` requests matching `pred` arrived (no fixed sleeps).
    pub async fn wait_for(
        &self,
        n: usize,
        within: Duration,
        pred: impl Fn(&Hit) -> bool,
    ) -> Vec<Hit> {
        let deadline = Instant::now() + within;
        loop {
            let got: Vec<Hit> = self.hits().into_iter().filter(|h| pred(h)).collect();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "receiver got {} of {n} expected requests: {:?}",
                got.len(),
                self.hits().iter().map(Hit::text).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    inner.hits.lock().expect("hits").push(Hit {
        at: Instant::now(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        headers,
        body: body.to_vec(),
    });
    let routed = inner
        .routes
        .lock()
        .expect("routes")
        .iter()
        .find(|(p, _)| p == uri.path())
        .map(|(_, r)| r.clone());
    let next = routed.or_else(|| inner.script.lock().expect("script").pop_front());
    let reply = next.unwrap_or_else(|| inner.fallback.lock().expect("fallback").clone());
    let ok = || (StatusCode::OK, "{\"id\":\"1\"}").into_response();
    match reply {
        Reply::Status(s) => {
            (status(s), format!("status {s} from the test receiver")).into_response()
        }
        Reply::RetryAfter(s, after) => {
            (status(s), [("retry-after", after)], "slow down").into_response()
        }
        Reply::Json(s, v) => (status(s), axum::Json(v)).into_response(),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(600)).await;
            ok()
        }
        Reply::Redirect(to) => (StatusCode::TEMPORARY_REDIRECT, [("location", to)]).into_response(),
        Reply::Delay(d) => {
            tokio::time::sleep(d).await;
            ok()
        }
        Reply::Huge(s, n) => (status(s), vec![b'x'; n]).into_response(),
        Reply::Gate => {
            let mut open = inner.gate.subscribe();
            let _ = open.wait_for(|o| *o).await;
            ok()
        }
    }
}

fn status(s: u16) -> StatusCode {
    StatusCode::from_u16(s).expect("a valid status")
}
