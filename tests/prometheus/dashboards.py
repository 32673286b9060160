"""The Grafana dashboards as scripts/test-prometheus sees them: their panels, queries and
template variables, and Grafana's interpolation of variables and macros, so a query can be
run the way Grafana would run it."""

import json
import re
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = REPO / "grafana" / "dashboards"
OPERATIONS = DASHBOARDS / "cinevault-operations.json"
HISTORY = DASHBOARDS / "cinevault-history.json"

PROMETHEUS_TYPE = "prometheus"
POSTGRES_TYPE = "grafana-postgresql-datasource"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def all_panels(dashboard):
    """Every panel, including those inside (collapsed) rows."""
    out = []
    for p in dashboard.get("panels", []):
        out.append(p)
        out.extend(p.get("panels", []))
    return out


def queries(dashboard):
    """(panel title, target) for every target of every panel, hidden ones excluded."""
    return [
        (p.get("title", f"panel {p.get('id')}"), t)
        for p in all_panels(dashboard)
        for t in p.get("targets", [])
        if not t.get("hide")
    ]


def variables(dashboard):
    return dashboard.get("templating", {}).get("list", [])


def variable_query(var):
    q = var.get("query")
    return q.get("query", "") if isinstance(q, dict) else (q or "")


def seconds(interval):
    m = re.fullmatch(r"'?(\d+)(ms|s|m|h|d|w)'?", interval.strip())
    if not m:
        raise ValueError(f"not a Grafana interval: {interval!r}")
    n, unit = int(m.group(1)), m.group(2)
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]


def interpolate_promql(expr, values):
    """Grafana's variable interpolation for Prometheus: `values` maps names (job, instance,
    __rate_interval, ...) to text; longer names first so $__range never eats
    $__range_s. Fails on a variable it does not know."""
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace("${" + name + "}", values[name]).replace("$" + name, values[name])
    left = re.findall(r"\$\{?\w+", expr)
    if left:
        raise ValueError(f"unexpanded variables {left} in {expr}")
    return expr


def rfc3339(t):
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _macro_args(sql, name):
    """Yields (start, end, [args]) of each $__name(...) call, parentheses balanced."""
    token = f"$__{name}("
    i = sql.find(token)
    while i >= 0:
        depth, j = 1, i + len(token)
        while depth:
            if j >= len(sql):
                raise ValueError(f"unbalanced $__{name}( in {sql}")
            depth += {"(": 1, ")": -1}.get(sql[j], 0)
            j += 1
        inner = sql[i + len(token) : j - 1]
        yield i, j, [a.strip() for a in inner.split(",")] if inner.strip() else []
        i = sql.find(token, i + 1)


def expand_sql(sql, start, end, variables_text):
    """Grafana's PostgreSQL data source: template variables first (`variables_text` maps a
    name to its already-quoted text, e.g. host -> "'a','b'", __interval -> "1h"), then the
    time macros, expanded as Grafana's postgres macro engine writes them."""
    for name in sorted(variables_text, key=len, reverse=True):
        sql = sql.replace("${" + name + "}", variables_text[name])
        sql = re.sub(r"\$" + re.escape(name) + r"\b", variables_text[name], sql)
    frm, to = f"'{rfc3339(start)}'", f"'{rfc3339(end)}'"

    def group(args, alias):
        col, step = args[0], int(seconds(args[1]))
        text = f"floor(extract(epoch from {col})/{step})*{step}"
        return text + (' AS "time"' if alias else "")

    expanders = {
        "timeFilter": lambda a: f"{a[0]} BETWEEN {frm} AND {to}",
        "timeFrom": lambda a: frm,
        "timeTo": lambda a: to,
        "timeGroupAlias": lambda a: group(a, True),
        "timeGroup": lambda a: group(a, False),
        "unixEpochFilter": lambda a: f"{a[0]} >= {int(start)} AND {a[0]} <= {int(end)}",
    }
    for name, expand in expanders.items():
        while True:
            calls = list(_macro_args(sql, name))
            if not calls:
                break
            s, e, args = calls[0]
            sql = sql[:s] + expand(args) + sql[e:]
    left = re.findall(r"\$\{?\w+", sql)
    if left:
        raise ValueError(f"unexpanded variables or macros {left} in {sql}")
    return sql


def label_values_query(text):
    """label_values(selector, label) -> (selector, label); label_values(label) -> (None, label)."""
    m = re.fullmatch(r"\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*", text)
    if not m:
        raise ValueError(f"unsupported variable query: {text}")
    return m.group(1), m.group(2)
