#!/usr/bin/env python3
"""The side-by-side performance report (issue 10): cinevault-analytics beside Debian's
prometheus-node-exporter on the same machine, in the same run. Run through scripts/bench-report,
which installs what this needs, builds the release binary, runs the ingest and analytics
benchmarks and then this; it writes bench/RESULTS.md.

Everything is measured here, from /proc and over loopback HTTP; nothing is copied from
elsewhere. Times are wall-clock on a shared machine: each comparison is made in the same run,
and medians and ratios are reported rather than single samples.
"""

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
ADMIN = "bench-admin-token-0123456789"
INGEST = "bench-ingest-token-0123456789"


def log(msg):
    print(f"==> {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=10.0, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def psql(url, sql):
    out = subprocess.run(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-qtAX", "-F", "\t", "-c", sql],
        check=True, capture_output=True, text=True,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def db_url(base, name):
    return re.sub(r"/[^/?]*(\?|$)", f"/{name}\\1", base, count=1) if base.count("/") >= 3 else base


def proc_cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Proc:
    def __init__(self, name, argv, env=None, log_path=None):
        self.name = name
        self.log = open(log_path or os.devnull, "wb")
        self.p = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        self.started = time.monotonic()

    @property
    def pid(self):
        return self.p.pid

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def wait_http(url, proc, deadline_s=120.0, want=200):
    """Seconds from the process start until `url` answers `want`."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.p.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.p.returncode}")
        try:
            status, _ = http_get(url, timeout=1.0)
            if status == want:
                return time.monotonic() - proc.started
        except Exception:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer {want} within {deadline_s} s")


def sidecar(binary, url, port, host, extra=(), log_path=None):
    argv = [binary, "serve", "--database-url", url, "--database-mode", "standalone",
            "--listen", f"127.0.0.1:{port}",
            "--admin-token", ADMIN, "--ingest-token", INGEST, "--media-path", "/",
            "--host-name", host, "--log-level", "warn", *extra]
    return Proc(f"sidecar ({host})", argv, log_path=log_path)


def wrk(url, seconds, threads=2, conns=8):
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", url],
                         check=True, capture_output=True, text=True).stdout

    def ms(label):
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    return {"p50": ms("50"), "p99": ms("99"), "rps": rps, "requests": total, "errors": errors}


def parse_prom(text):
    """name{labels} value lines -> list of (name, labels dict, value)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)', line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        try:
            out.append((m.group(1), labels, float(m.group(4))))
        except ValueError:
            pass
    return out


def node_sample(node_url):
    _, body = http_get(node_url)
    t = time.time()
    idle = total = 0.0
    mem = {}
    avail_root = None
    for name, labels, value in parse_prom(body.decode()):
        if name == "node_cpu_seconds_total":
            total += value
            if labels.get("mode") in ("idle", "iowait"):
                idle += value
        elif name in ("node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes"):
            mem[name] = value
        elif name == "node_filesystem_avail_bytes" and labels.get("mountpoint") == "/":
            avail_root = value
    return {"t": t, "idle": idle, "total": total,
            "mem_pct": 100 * (1 - mem["node_memory_MemAvailable_bytes"] / mem["node_memory_MemTotal_bytes"]),
            "avail_gb": avail_root / 1e9 if avail_root is not None else None}


def interpolate(samples, t, key):
    for a, b in zip(samples, samples[1:]):
        if a["t"] <= t <= b["t"]:
            f = (t - a["t"]) / (b["t"] - a["t"]) if b["t"] > a["t"] else 0
            return a[key] + f * (b[key] - a[key])
    return None


def nearest(samples, t, key):
    s = min(samples, key=lambda s: abs(s["t"] - t))
    return s[key], abs(s["t"] - t)


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--base-url", required=True, help="admin URL of the PostgreSQL server")
    ap.add_argument("--large-db", default="cinevault_large")
    ap.add_argument("--idle-seconds", type=int, default=300)
    ap.add_argument("--wrk-seconds", type=int, default=30)
    ap.add_argument("--compare-seconds", type=int, default=90)
    ap.add_argument("--out", required=True)
    ap.add_argument("--include", action="append", default=[],
                    help="markdown files (earlier benchmarks of this run) to append")
    ap.add_argument("--logs", default="target/bench-report")
    args = ap.parse_args()
    os.makedirs(args.logs, exist_ok=True)
    node_bin = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    procs = []
    try:
        return run(args, node_bin, procs)
    finally:
        for p in procs:
            p.stop()


def run(args, node_bin, procs):
    report = []
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cpus = os.cpu_count()
    with open("/proc/meminfo") as f:
        mem_total_gib = int(f.readline().split()[1]) / 1024 / 1024
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    node_version = subprocess.run([node_bin, "--version"], capture_output=True, text=True)
    node_version = (node_version.stdout + node_version.stderr).splitlines()[0]
    load = open("/proc/loadavg").read().split()[:3]

    # --- binary size and start-up -----------------------------------------------------------
    size_mib = os.path.getsize(args.binary) / 1024 / 1024
    empty = "cinevault_report"
    psql(args.base_url, f'DROP DATABASE IF EXISTS "{empty}" WITH (FORCE)')
    psql(args.base_url, f'CREATE DATABASE "{empty}"')
    empty_url = db_url(args.base_url, empty)
    starts = {}
    port = free_port()
    p = sidecar(args.binary, empty_url, port, "bench-empty", log_path=f"{args.logs}/start-empty.log")
    starts["empty database, first start (applies every migration)"] = wait_http(
        f"http://127.0.0.1:{port}/readyz", p)
    p.stop()
    times = []
    for i in range(5):
        port = free_port()
        p = sidecar(args.binary, empty_url, port, "bench-empty", log_path=f"{args.logs}/start-empty-{i}.log")
        times.append(wait_http(f"http://127.0.0.1:{port}/readyz", p))
        p.stop()
    starts["empty database, migrated (median of 5)"] = statistics.median(times)
    large_url = db_url(args.base_url, args.large_db)
    large_sessions = None
    try:
        large_sessions = int(psql(large_url, "SELECT count(*) FROM stream_sessions")[0][0])
    except subprocess.CalledProcessError:
        pass
    if large_sessions:
        times = []
        for i in range(5):
            port = free_port()
            p = sidecar(args.binary, large_url, port, "bench-large", log_path=f"{args.logs}/start-large-{i}.log")
            times.append(wait_http(f"http://127.0.0.1:{port}/readyz", p))
            p.stop()
        starts[f"{large_sessions:,} sessions, migrated (median of 5)"] = statistics.median(times)

    # --- idle: the sidecar at default intervals beside node_exporter, both scraped every 15 s
    log(f"idle window: {args.idle_seconds} s")
    s_port, n_port = free_port(), free_port()
    side = sidecar(args.binary, empty_url, s_port, "bench-idle", log_path=f"{args.logs}/idle.log")
    procs.append(side)
    node = Proc("node_exporter", [node_bin, f"--web.listen-address=127.0.0.1:{n_port}"],
                log_path=f"{args.logs}/node_exporter.log")
    procs.append(node)
    wait_http(f"http://127.0.0.1:{s_port}/readyz", side)
    wait_http(f"http://127.0.0.1:{n_port}/metrics", node)
    s_metrics = f"http://127.0.0.1:{s_port}/metrics"
    n_metrics = f"http://127.0.0.1:{n_port}/metrics"
    stop = threading.Event()

    def scrape_every_15s():
        while not stop.wait(15):
            for u in (s_metrics, n_metrics):
                try:
                    http_get(u)
                except Exception:
                    pass

    for u in (s_metrics, n_metrics):
        http_get(u)
    scraper = threading.Thread(target=scrape_every_15s, daemon=True)
    time.sleep(20)  # start-up work (first collection, catch-up rollup) is not idle
    scraper.start()
    cpu0 = {w.name: proc_cpu_seconds(w.pid) for w in (side, node)}
    rss = {w.name: [] for w in (side, node)}
    t0 = time.monotonic()
    while time.monotonic() - t0 < args.idle_seconds:
        for w in (side, node):
            rss[w.name].append(proc_rss_mib(w.pid))
        time.sleep(5)
    elapsed = time.monotonic() - t0
    cpu1 = {w.name: proc_cpu_seconds(w.pid) for w in (side, node)}
    stop.set()
    idle = {}
    for w in (side, node):
        used = cpu1[w.name] - cpu0[w.name]
        idle[w.name] = {"rss_median": statistics.median(rss[w.name]), "rss_max": max(rss[w.name]),
                        "cpu_per_min": used / elapsed * 60, "cpu_per_hour": used / elapsed * 3600}

    # --- /metrics under wrk ------------------------------------------------------------------
    log(f"/metrics under wrk: {args.wrk_seconds} s each")
    scrape = {}
    for w, u in ((side, s_metrics), (node, n_metrics)):
        _, body = http_get(u)
        before = proc_rss_mib(w.pid)
        peak = [before]
        done = threading.Event()

        def watch(pid=w.pid, peak=peak, done=done):
            while not done.wait(0.5):
                peak.append(proc_rss_mib(pid))

        t = threading.Thread(target=watch, daemon=True)
        t.start()
        res = wrk(u, args.wrk_seconds)
        done.set()
        t.join()
        time.sleep(10)
        res.update(size_kib=len(body) / 1024, rss_before=before, rss_peak=max(peak),
                   rss_after=proc_rss_mib(w.pid))
        scrape[w.name] = res
    # A second round for the sidecar: memory must not keep growing.
    res2 = wrk(s_metrics, args.wrk_seconds)
    time.sleep(10)
    scrape[side.name]["rss_after_second_round"] = proc_rss_mib(side.pid)
    scrape[side.name]["second_round_p99"] = res2["p99"]
    side.stop()
    procs.remove(side)

    # --- readings beside node_exporter -------------------------------------------------------
    log(f"readings beside node_exporter: {args.compare_seconds} s")
    c_port = free_port()
    cmp_side = sidecar(args.binary, empty_url, c_port, "bench-compare", ["--collect-interval", "5s"],
                       log_path=f"{args.logs}/compare.log")
    procs.append(cmp_side)
    wait_http(f"http://127.0.0.1:{c_port}/readyz", cmp_side)
    samples = []
    t_start = time.time()
    while time.time() - t_start < args.compare_seconds:
        samples.append(node_sample(n_metrics))
        time.sleep(0.25)
    rows = psql(empty_url,
                "SELECT extract(epoch FROM recorded_at), cpu_percent, memory_percent, disk_free_gb "
                "FROM system_metrics WHERE host = 'bench-compare' ORDER BY recorded_at")
    readings = [(float(r[0]), float(r[1]), float(r[2]), float(r[3])) for r in rows]
    diffs = {"cpu": [], "mem": [], "disk": []}
    detail = []
    for prev, cur in zip(readings, readings[1:]):
        t_prev, t_cur = prev[0], cur[0]
        if t_prev < samples[0]["t"] or t_cur > samples[-1]["t"]:
            continue
        i0, i1 = interpolate(samples, t_prev, "idle"), interpolate(samples, t_cur, "idle")
        a0, a1 = interpolate(samples, t_prev, "total"), interpolate(samples, t_cur, "total")
        node_cpu = 100 * (1 - (i1 - i0) / (a1 - a0)) if a1 > a0 else float("nan")
        node_mem, _ = nearest(samples, t_cur, "mem_pct")
        node_disk, _ = nearest(samples, t_cur, "avail_gb")
        diffs["cpu"].append(abs(cur[1] - node_cpu))
        diffs["mem"].append(abs(cur[2] - node_mem))
        diffs["disk"].append(abs(cur[3] - node_disk) / max(node_disk, 1e-9) * 100)
        detail.append((dt.datetime.fromtimestamp(t_cur, dt.timezone.utc).strftime("%H:%M:%S"),
                       f"{cur[1]:.1f}", f"{node_cpu:.1f}", f"{cur[2]:.2f}", f"{node_mem:.2f}",
                       f"{cur[3]:.3f}", f"{node_disk:.3f}"))
    cmp_side.stop()
    procs.remove(cmp_side)
    node.stop()
    procs.remove(node)
    psql(args.base_url, f'DROP DATABASE IF EXISTS "{empty}" WITH (FORCE)')

    # --- the report --------------------------------------------------------------------------
    s, n = idle[side.name], idle[node.name]
    ss, ns = scrape[side.name], scrape[node.name]

    def verdict(ok):
        return "yes" if ok else "**no**"

    report.append("# Performance report: cinevault-analytics beside node_exporter\n")
    report.append(
        f"Produced by `scripts/bench-report` on {now}. Machine: {cpus} CPUs ({model}), "
        f"{mem_total_gib:.1f} GiB memory, {platform.system()} {platform.release()}; load average "
        f"at the start {' '.join(load)} (the machine is shared: other work ran beside this). "
        f"node_exporter: `{node_version}` (Debian's prometheus-node-exporter, default collectors). "
        "Both ran on this machine at the same time; the sidecar with its default intervals "
        "(collector 60 s, alert evaluator 5 min, reaper 5 min) against an empty database on the "
        "same PostgreSQL server.\n")
    report.append("## Goals\n")
    report.append(md_table(
        ["goal", "sidecar", "node_exporter", "met"],
        [["resident memory at idle (median) no more than node_exporter's",
          f"{s['rss_median']:.1f} MiB", f"{n['rss_median']:.1f} MiB",
          verdict(s["rss_median"] <= n["rss_median"])],
         ["/metrics p99 under wrk no more than node_exporter's", f"{ss['p99']:.2f} ms",
          f"{ns['p99']:.2f} ms", verdict(ss["p99"] <= ns["p99"])],
         ["idle CPU under 1 CPU-second per minute", f"{s['cpu_per_min']:.3f} s/min",
          f"{n['cpu_per_min']:.3f} s/min", verdict(s["cpu_per_min"] < 1.0)],
         ["memory % within 1 point of node_exporter (max over readings)",
          f"{max(diffs['mem'], default=float('nan')):.2f} points", "",
          verdict(bool(diffs["mem"]) and max(diffs["mem"]) <= 1.0)],
         ["disk free within 1 % of node_exporter (max over readings)",
          f"{max(diffs['disk'], default=float('nan')):.3f} %", "",
          verdict(bool(diffs["disk"]) and max(diffs["disk"]) <= 1.0)],
         ["CPU % within 3 points of node_exporter (max over readings)",
          f"{max(diffs['cpu'], default=float('nan')):.2f} points", "",
          verdict(bool(diffs["cpu"]) and max(diffs["cpu"]) <= 3.0)]]))
    report.append("")
    report.append(f"## Idle ({args.idle_seconds} s window, both scraped every 15 s, as Prometheus would)\n")
    report.append(md_table(
        ["", "sidecar", "node_exporter"],
        [["resident memory, median", f"{s['rss_median']:.1f} MiB", f"{n['rss_median']:.1f} MiB"],
         ["resident memory, max", f"{s['rss_max']:.1f} MiB", f"{n['rss_max']:.1f} MiB"],
         ["CPU seconds per minute", f"{s['cpu_per_min']:.3f}", f"{n['cpu_per_min']:.3f}"],
         ["CPU seconds per hour", f"{s['cpu_per_hour']:.1f}", f"{n['cpu_per_hour']:.1f}"]]))
    report.append("\nCPU is utime + stime from `/proc/<pid>/stat` over the window; memory is VmRSS "
                  "sampled every 5 s. The sidecar's figure includes its collector writing a row "
                  "to PostgreSQL every minute; PostgreSQL's own work is not counted for either.\n")
    report.append(f"## `/metrics` under wrk ({args.wrk_seconds} s, 2 threads, 8 connections, loopback)\n")
    report.append(md_table(
        ["", "sidecar", "node_exporter"],
        [["answer size", f"{ss['size_kib']:.1f} KiB", f"{ns['size_kib']:.1f} KiB"],
         ["median latency", f"{ss['p50']:.2f} ms", f"{ns['p50']:.2f} ms"],
         ["p99 latency", f"{ss['p99']:.2f} ms", f"{ns['p99']:.2f} ms"],
         ["requests per second", f"{ss['rps']:.0f}", f"{ns['rps']:.0f}"],
         ["requests / errors", f"{ss['requests']} / {ss['errors']}", f"{ns['requests']} / {ns['errors']}"],
         ["memory before / peak / 10 s after", f"{ss['rss_before']:.1f} / {ss['rss_peak']:.1f} / {ss['rss_after']:.1f} MiB",
          f"{ns['rss_before']:.1f} / {ns['rss_peak']:.1f} / {ns['rss_after']:.1f} MiB"]]))
    report.append(f"\nA second wrk round on the sidecar: p99 {ss['second_round_p99']:.2f} ms, memory "
                  f"10 s after {ss['rss_after_second_round']:.1f} MiB (after the first: "
                  f"{ss['rss_after']:.1f} MiB).\n")
    report.append(f"## Readings beside node_exporter ({args.compare_seconds} s, sidecar collecting every 5 s)\n")
    report.append(
        "For each row the sidecar wrote to `system_metrics`, node_exporter's series at the same "
        "moments (polled every 0.25 s): CPU % = 1 − Δ(idle + iowait) / Δ(all modes) of "
        "`node_cpu_seconds_total` over the same interval as the sidecar's (between its two "
        "readings, counters interpolated to those instants); memory % = 1 − MemAvailable / "
        "MemTotal; disk free = `node_filesystem_avail_bytes{mountpoint=\"/\"}` (the media path "
        "is `/`).\n")
    if diffs["cpu"]:
        report.append(md_table(
            ["", "readings", "median difference", "max difference", "limit"],
            [["CPU %", len(diffs["cpu"]), f"{statistics.median(diffs['cpu']):.2f} points",
              f"{max(diffs['cpu']):.2f} points", "3 points"],
             ["memory %", len(diffs["mem"]), f"{statistics.median(diffs['mem']):.3f} points",
              f"{max(diffs['mem']):.3f} points", "1 point"],
             ["disk free", len(diffs["disk"]), f"{statistics.median(diffs['disk']):.4f} %",
              f"{max(diffs['disk']):.4f} %", "1 %"]]))
        report.append("\n<details><summary>Every reading</summary>\n")
        report.append(md_table(["time", "CPU % sidecar", "CPU % node", "memory % sidecar",
                                "memory % node", "disk free GB sidecar", "disk free GB node"], detail))
        report.append("\n</details>\n")
    else:
        report.append("No reading fell inside the polling window.\n")
    report.append("## Release binary and start-up\n")
    report.append(f"Release binary (`cargo build --release`, thin LTO, debug info stripped): "
                  f"{size_mib:.1f} MiB.\n")
    report.append(md_table(["start-up to `/readyz` 200", "seconds"],
                           [[k, f"{v:.3f}"] for k, v in starts.items()]))
    report.append("\nMeasured from spawning the process to the first 200 from `/readyz` (database "
                  "reachable and every migration applied), polling every 5 ms.\n")
    if not large_sessions:
        report.append(f"(No `{args.large_db}` database: the start-up on 10 million sessions was "
                      "not measured. `scripts/gen-dataset` makes it.)\n")
    for path in args.include:
        if os.path.exists(path):
            with open(path) as f:
                text = f.read().strip()
            report.append("\n" + re.sub(r"^# ", "## ", text, count=1) + "\n")
    with open(args.out, "w") as f:
        f.write("\n".join(report).rstrip() + "\n")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
