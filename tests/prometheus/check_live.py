#!/usr/bin/env python3
"""The live half of scripts/test-prometheus: with a demo sidecar and a Prometheus scraping it
already running, drives events into the sidecar, waits until Prometheus holds them, then runs

  - every query of every panel of the operations dashboard (template variables and
    $__rate_interval, $__range, $__interval expanded as Grafana would) through Prometheus's
    HTTP API: range queries for graphs, instant queries where the target asks for one; each
    must succeed and return at least one series with a finite value;
  - the dashboard's variable queries (label_values) through the label API;
  - every recording rule's expression (must return data) and every alert expression (must
    evaluate), and the rule groups as Prometheus evaluates them (all healthy, every
    recorded series present);
  - every SQL query of the history dashboard, Grafana's macros expanded for the dashboard's
    default range, against the demo database as the read-only Grafana role; each must
    return rows holding a value.

    check_live.py --prometheus URL --sidecar URL --ingest-token T --admin-token T \
                  --reader-url POSTGRES_URL --rules FILE

Exits 1 naming every query that failed."""

import argparse
import csv
import io
import json
import math
import re
import subprocess
import sys
import time
import urllib.parse

import yaml

import dashboards as dash
from drive import Driver, Receiver, call

SCRAPE_INTERVAL = 1  # seconds; what scripts/test-prometheus configures
failures = []


class Prometheus:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def get(self, path, **params):
        q = urllib.parse.urlencode(params, doseq=True)
        out = call("GET", f"{self.url}{path}?{q}", expect=(200, 400, 422))
        if out.get("status") != "success":
            raise RuntimeError(f"{out.get('errorType')}: {out.get('error')}")
        return out["data"]

    def instant(self, expr, at=None):
        return self.get("/api/v1/query", query=expr, **({"time": at} if at else {}))["result"]

    def range(self, expr, start, end, step):
        return self.get("/api/v1/query_range", query=expr, start=start, end=end, step=step)["result"]

    def holds(self, expr):
        try:
            return bool(self.instant(expr))
        except RuntimeError:
            return False


def finite(result):
    """True when some sample of an instant or range result is a finite number."""
    for series in result:
        values = series.get("values") or [series.get("value")]
        if any(v and math.isfinite(float(v[1])) for v in values):
            return True
    return False


def wait_for(prom, conditions, within):
    deadline = time.time() + within
    while time.time() < deadline:
        missing = [c for c in conditions if not prom.holds(c)]
        if not missing:
            return
        time.sleep(0.5)
    raise SystemExit(f"Prometheus never saw: {missing}")


def drive(args, prom):
    receiver = Receiver()
    d = Driver(args.sidecar, args.ingest_token, args.admin_token)
    d.catalogue()
    d.start_sessions()
    d.progress(1)
    d.transcodes()
    d.stream_errors(3)
    d.alerting(receiver.url)
    # Progress keeps coming while Prometheus catches up, so rates have more than one point.
    conditions = [
        'cinevault_analytics_alert_deliveries_total{channel_type="generic",outcome="delivered"} >= 3',
        'cinevault_analytics_alert_deliveries_total{channel_type="generic",outcome="failed"} >= 1',
        "cinevault_analytics_alert_rules_firing >= 2",
        'cinevault_analytics_transcodes_completed_total{hw_accel="h264_nvenc",result="success"} >= 2',
        "count(cinevault_analytics_gpu_temperature_celsius) == 2",
        "job:cinevault_analytics_stream_errors:increase1h > 0",
        "job:cinevault_analytics_transcode_failures:increase1h > 0",
        "sum(cinevault_analytics_active_streams) >= 2",
    ]
    for step in range(2, 8):
        time.sleep(1)
        d.progress(step)
        if step == 4:
            d.stream_errors(2)
    d.stop_one()
    wait_for(prom, conditions, within=60)
    time.sleep(3 * SCRAPE_INTERVAL)  # the stop and the last progress in a scrape or two
    receiver.stop()
    print(f"    drove: 3 sessions (one stopped), 7 progress batches, 4 transcodes (one failed, one "
          f"open), 5 stream errors, 2 test messages, 2 rules; the receiver got "
          f"{len(receiver.received)} webhooks")


def run_dashboard(prom, start):
    d = dash.load(dash.OPERATIONS)
    end = time.time()
    values = {"__interval": f"{SCRAPE_INTERVAL}s",
              "__rate_interval": f"{4 * SCRAPE_INTERVAL}s",
              "__range": f"{int(end - start)}s",
              "__range_s": str(int(end - start))}
    for var in dash.variables(d):
        if var["type"] != "query":
            continue
        selector, label = dash.label_values_query(dash.variable_query(var))
        selector = dash.interpolate_promql(selector, values) if selector else None
        found = prom.get(f"/api/v1/label/{label}/values", start=start, end=end,
                         **({"match[]": selector} if selector else {}))
        if not found:
            failures.append(f"variable ${var['name']}: label_values found nothing")
            continue
        # $job: the first value, as Grafana selects it; $instance: All (its allValue).
        values[var["name"]] = var.get("allValue") if var.get("includeAll") else found[0]
        print(f"    variable ${var['name']} = {values[var['name']]!r} (of {found})")
    n = 0
    for title, t in dash.queries(d):
        expr = dash.interpolate_promql(t["expr"], values)
        try:
            if t.get("instant"):
                result = prom.instant(expr, end)
            else:
                result = prom.range(expr, start, end, SCRAPE_INTERVAL)
        except RuntimeError as e:
            failures.append(f"panel {title!r} {t['refId']}: {e}\n        {expr}")
            continue
        if not finite(result):
            failures.append(f"panel {title!r} {t['refId']}: no data\n        {expr}")
        n += 1
    print(f"    operations dashboard: {n} panel queries run")


def run_rules(prom, rules_file):
    with open(rules_file, encoding="utf-8") as f:
        groups = yaml.safe_load(f)["groups"]
    records = alerts = 0
    for g in groups:
        for r in g["rules"]:
            try:
                result = prom.instant(r["expr"])
            except RuntimeError as e:
                failures.append(f"rule {r.get('record') or r.get('alert')}: {e}")
                continue
            if "record" in r:
                records += 1
                if not finite(result):
                    failures.append(f"recording rule {r['record']}: expression returned no data")
                if not finite(prom.instant(r["record"])):
                    failures.append(f"recording rule {r['record']}: no recorded series in Prometheus")
            else:
                alerts += 1
    loaded = prom.get("/api/v1/rules")["groups"]
    for g in loaded:
        for r in g["rules"]:
            if r.get("health") != "ok":
                failures.append(f"rule {r['name']}: health {r.get('health')}: {r.get('lastError')}")
    names = sorted({g["name"] for g in loaded})
    firing = sorted({a["labels"]["alertname"] for a in prom.get("/api/v1/alerts")["alerts"]})
    print(f"    rules: {records} recording expressions returned data and were recorded, {alerts} alert "
          f"expressions evaluated; groups {names} healthy; pending or firing now: {firing or 'none'}")


def psql_csv(url, sql):
    out = subprocess.run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--csv", "-c", sql],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    rows = list(csv.reader(io.StringIO(out.stdout)))
    return rows[0], rows[1:]


def run_sql(reader_url):
    d = dash.load(dash.HISTORY)
    end = time.time()
    start = end - dash.seconds(d["time"]["from"].removeprefix("now-"))
    texts = {"__interval": "1h", "__interval_ms": "3600000"}
    for var in dash.variables(d):
        if var["type"] != "query":
            continue
        _, rows = psql_csv(reader_url, dash.expand_sql(dash.variable_query(var), start, end, texts))
        if not rows:
            failures.append(f"variable ${var['name']}: its query returned no rows")
            continue
        # All: Grafana quotes each value for SQL.
        texts[var["name"]] = ",".join("'" + r[0].replace("'", "''") + "'" for r in rows)
        print(f"    variable ${var['name']} = {texts[var['name']]}")
    n = 0
    for title, t in dash.queries(d):
        sql = dash.expand_sql(t["rawSql"], start, end, texts)
        try:
            header, rows = psql_csv(reader_url, sql)
        except RuntimeError as e:
            failures.append(f"panel {title!r} {t['refId']}: {e}")
            continue
        n += 1
        values = [i for i, h in enumerate(header) if h not in ("time", "metric")]
        if t.get("format") == "time_series" and "time" not in header:
            failures.append(f"panel {title!r} {t['refId']}: a time series without a time column")
        if not rows or not any(r[i] not in ("", "0") for r in rows for i in values):
            failures.append(f"panel {title!r} {t['refId']}: no rows with a value\n        {sql}")
    print(f"    history dashboard: {n} SQL queries run over {d['time']['from']}..now as the read-only role")


def main():
    p = argparse.ArgumentParser()
    for a in ("--prometheus", "--sidecar", "--ingest-token", "--admin-token", "--reader-url", "--rules"):
        p.add_argument(a, required=True)
    args = p.parse_args()
    prom = Prometheus(args.prometheus)
    wait_for(prom, ['up{job="cinevault-analytics"} == 1',
                    'count_over_time(up{job="cinevault-analytics"}[1m]) >= 3'], within=30)
    start = time.time() - 2 * SCRAPE_INTERVAL
    drive(args, prom)
    run_dashboard(prom, start)
    run_rules(prom, args.rules)
    run_sql(args.reader_url)
    if failures:
        print("\n".join(["live checks failed:"] + [f"  - {f}" for f in failures]), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
