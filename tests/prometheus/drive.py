"""Makes a demo sidecar produce every series the dashboards read: ingest events (sessions of
each playback type, progress, transcodes on a GPU encoder and in software, a failure, stream
errors) and alert deliveries to a local webhook receiver (a test message that is delivered,
one that is refused, and alerts fired by the built-in evaluator)."""

import json
import threading
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def call(method, url, token=None, body=None, expect=(200, 201, 202, 204)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, text = resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    if status not in expect:
        raise RuntimeError(f"{method} {url}: HTTP {status}: {text}")
    return json.loads(text) if text.strip() else None


class Receiver:
    """A webhook receiver on loopback: /ok answers 204, /refuse answers 400 (not retried)."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append((self.path, json.loads(body or b"null")))
                self.send_response(204 if self.path == "/ok" else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


class Driver:
    def __init__(self, base, ingest_token, admin_token):
        self.base = base.rstrip("/")
        self.ingest_token = ingest_token
        self.admin_token = admin_token
        self.user = str(uuid.uuid4())
        self.item = str(uuid.uuid4())
        self.sessions = {}

    def ingest(self, method, path, body=None, expect=(200, 201, 202, 204)):
        return call(method, f"{self.base}/api/v1/ingest{path}", self.ingest_token, body, expect)

    def admin(self, method, path, body=None):
        return call(method, f"{self.base}/api/v1{path}", self.admin_token, body)

    def catalogue(self):
        library = str(uuid.uuid4())
        self.ingest("PUT", "/users", {"id": self.user, "username": "prometheus-check"})
        self.ingest("PUT", "/libraries", {"id": library, "name": "Check films", "media_type": "movies"})
        self.ingest("PUT", "/media-items", {
            "id": self.item, "library_id": library, "title": "The Prometheus Check",
            "media_type": "movies", "duration_seconds": 5400, "file_size": 4_000_000_000,
        })

    def start_sessions(self):
        for kind in ("direct_play", "direct_stream", "transcode"):
            sid = str(uuid.uuid4())
            self.sessions[kind] = sid
            self.ingest("POST", "/sessions", {
                "id": sid, "user_id": self.user, "media_item_id": self.item,
                "playback_type": kind, "resolution": "1080p", "client_info": "check",
            })

    def progress(self, step):
        """Absolute figures that grow with `step`, sent as one batch (the batch path)."""
        events = [
            {"type": "session_progress", "session_id": sid,
             "bytes_served": 25_000_000 * step * (i + 1), "duration_seconds": 10 * step}
            for i, sid in enumerate(self.sessions.values())
        ]
        self.ingest("POST", "/batch", {"events": events})

    def transcodes(self):
        """Two on NVENC that succeed, one in software that fails, one left running."""
        for hw, ok in (("h264_nvenc", True), (None, False), ("h264_nvenc", True)):
            tid = str(uuid.uuid4())
            start = {"id": tid, "media_item_id": self.item, "user_id": self.user,
                     "input_codec": "hevc", "output_codec": "h264"}
            if hw:
                start["hw_accel"] = hw
            self.ingest("POST", "/transcodes", start)
            done = {"success": ok, "duration_seconds": 30, "file_size_bytes": 700_000_000}
            if not ok:
                done["error_message"] = "encoder exited with status 1"
            self.ingest("POST", f"/transcodes/{tid}/complete", done)
        self.ingest("POST", "/transcodes", {"id": str(uuid.uuid4()), "media_item_id": self.item,
                                            "user_id": self.user, "hw_accel": "hevc_nvenc"})

    def stream_errors(self, n):
        for _ in range(n):
            self.ingest("POST", "/stream-errors", {"session_id": self.sessions["direct_stream"],
                                                   "message": "client buffer underrun"})

    def stop_one(self):
        self.ingest("POST", f"/sessions/{self.sessions.pop('direct_play')}/stop")

    def alerting(self, receiver_url):
        """A delivered and a refused test message, and two rules the evaluator fires at once:
        stream errors above 0 and a GPU (the stub NVML's) above 0 °C."""
        ok = self.admin("POST", "/notifications/channels", {
            "name": "check receiver", "channel_type": "generic", "webhook_url": f"{receiver_url}/ok"})
        refused = self.admin("POST", "/notifications/channels", {
            "name": "check refusing receiver", "channel_type": "generic",
            "webhook_url": f"{receiver_url}/refuse"})
        outcomes = [self.admin("POST", f"/notifications/channels/{c['id']}/test") for c in (ok, refused)]
        if [o["delivered"] for o in outcomes] != [True, False]:
            raise RuntimeError(f"test messages: expected delivered, refused; got {outcomes}")
        for condition in ("stream_error", "gpu_temp_high"):
            self.admin("POST", "/notifications/alerts", {
                "name": f"check {condition}", "condition_type": condition, "threshold": 0,
                "cooldown_minutes": 60, "channel_id": ok["id"]})
