#!/usr/bin/env python3
"""Checks of the shipped files that need no running service: the dashboards' JSON model, the
provisioning files, the compose file, the Kubernetes example and the Dockerfile, and that
every CINEVAULT_* variable they set is one the binary knows.

    check_static.py HELP_TEXT_FILE

HELP_TEXT_FILE holds `cinevault-analytics serve --help`. Prints what it checked; exits 1
naming every problem found."""

import re
import sys
from pathlib import Path

import yaml

import dashboards as dash

REPO = dash.REPO
JOB = "cinevault-analytics"
problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


def check_dashboard(path, ds_type):
    name = path.name
    d = dash.load(path)
    if d.get("schemaVersion", 0) < 39:
        problem(name, f"schemaVersion {d.get('schemaVersion')} is older than 39")
    if not d.get("uid") or d.get("id") is not None:
        problem(name, "needs a fixed uid and a null id (importable)")
    if "__inputs" in d:
        problem(name, "__inputs: the data source must come from the template variable")

    ds_vars = [v for v in dash.variables(d) if v.get("type") == "datasource"]
    if len(ds_vars) != 1 or ds_vars[0].get("name") != "datasource" or ds_vars[0].get("query") != ds_type:
        problem(name, f"needs one data-source variable 'datasource' of type {ds_type}")

    # Every data-source reference anywhere in the document is the variable (or Grafana's
    # own annotation source): no hard-coded uid, no data source given by name.
    def walk(node, where):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "datasource":
                    ok = isinstance(v, dict) and (
                        (v.get("uid") == "${datasource}" and v.get("type") == ds_type)
                        or (v.get("type") == "grafana" and v.get("uid") == "-- Grafana --")
                    )
                    if not ok:
                        problem(name, f"{where}: data source {v!r} is not ${{datasource}} of type {ds_type}")
                else:
                    walk(v, f"{where}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]")

    walk(d, "$")

    panels = dash.all_panels(d)
    ids = [p.get("id") for p in panels]
    dupes = sorted({i for i in ids if ids.count(i) > 1 or i is None}, key=str)
    if dupes:
        problem(name, f"panel ids not unique: {dupes}")
    cells, overlaps = {}, set()
    for p in panels:
        g = p.get("gridPos") or {}
        if not all(isinstance(g.get(k), int) for k in "hwxy") or g["x"] + g["w"] > 24:
            problem(name, f"panel {p.get('title')!r}: bad gridPos {g}")
            continue
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells and (cells[(x, y)], p.get("title")) not in overlaps:
                    overlaps.add((cells[(x, y)], p.get("title")))
                    problem(name, f"panels {cells[(x, y)]!r} and {p.get('title')!r} overlap")
                cells[(x, y)] = p.get("title")
        if p.get("type") == "row":
            continue
        targets = p.get("targets", [])
        refs = [t.get("refId") for t in targets]
        if not targets or len(set(refs)) != len(refs):
            problem(name, f"panel {p.get('title')!r}: no targets, or refIds repeat")
        for t in targets:
            if ds_type == dash.PROMETHEUS_TYPE and not t.get("expr"):
                problem(name, f"panel {p.get('title')!r}: target without expr")
            if ds_type == dash.POSTGRES_TYPE and not (t.get("rawQuery") and t.get("rawSql")):
                problem(name, f"panel {p.get('title')!r}: target without rawSql")
    n = len(dash.queries(d))
    print(f"    {name}: {len(panels)} panels, {n} queries; ids, layout and data sources checked")


def load_yaml(path, many=False):
    with open(path, encoding="utf-8") as f:
        return list(yaml.safe_load_all(f)) if many else yaml.safe_load(f)


def check_provisioning():
    ds = load_yaml(REPO / "grafana/provisioning/datasources/cinevault.yaml")
    types = {d["type"] for d in ds["datasources"]}
    for t in (dash.PROMETHEUS_TYPE, dash.POSTGRES_TYPE):
        if t not in types:
            problem("provisioning/datasources", f"no {t} data source for the dashboards")
    for d in ds["datasources"]:
        if "password" in d.get("secureJsonData", {}) and not d["secureJsonData"]["password"].startswith("$"):
            problem("provisioning/datasources", f"{d['name']}: password written in the file")
    prov = load_yaml(REPO / "grafana/provisioning/dashboards/cinevault.yaml")
    path = prov["providers"][0]["options"]["path"]
    print(f"    provisioning: data sources {sorted(types)}, dashboards from {path}")
    return path


def env_names(help_text):
    return set(re.findall(r"\[env:\s*([A-Z_]+)=", help_text))


def check_env(where, names, known):
    for n in sorted(names):
        if n.startswith("CINEVAULT_") or n == "DATABASE_URL":
            if n not in known:
                problem(where, f"{n} is not a setting of cinevault-analytics")


def check_compose(known_env, dashboards_path):
    base = REPO / "deploy/compose"
    c = load_yaml(base / "compose.yaml")
    services = c["services"]
    for s in ("postgres", "cinevault-analytics", "prometheus", "grafana"):
        if s not in services:
            problem("compose.yaml", f"no {s} service")
    build = services["cinevault-analytics"]["build"]
    if not (base / build["context"] / build["dockerfile"]).is_file():
        problem("compose.yaml", "the sidecar's Dockerfile is not where build points")
    check_env("compose.yaml cinevault-analytics", services["cinevault-analytics"]["environment"], known_env)
    mounts = {}
    for name, s in services.items():
        for v in s.get("volumes", []):
            src, dst = re.match(r"(\$\{[^}]*\}|[^:]+):([^:]+)", v).groups()
            mounts[dst] = src
            if src.startswith(".") and not (base / src).exists():
                problem("compose.yaml", f"{name} mounts {src}, which does not exist")
    if mounts.get(dashboards_path) != "../../grafana/dashboards":
        problem("compose.yaml", f"grafana does not mount grafana/dashboards at the provider's path {dashboards_path}")
    prom = load_yaml(base / "prometheus.yml")
    for rf in prom["rule_files"]:
        if f"/etc/prometheus/{rf}" not in mounts:
            problem("compose prometheus.yml", f"rule file {rf} is not mounted into the prometheus service")
    jobs = [j["job_name"] for j in prom["scrape_configs"]]
    if JOB not in jobs:
        problem("compose prometheus.yml", f"no {JOB} job (the health alerts need it)")
    print(f"    compose.yaml: services {sorted(services)}, mounts exist, settings known")


def check_kubernetes(known_env):
    docs = []
    for f in sorted((REPO / "deploy/kubernetes").glob("*.yaml")):
        for d in load_yaml(f, many=True):
            if not d:
                continue
            docs.append(d)
            if not (d.get("apiVersion") and d.get("kind") and d.get("metadata", {}).get("name")):
                problem(f.name, "a document without apiVersion, kind or metadata.name")
    sidecars = [
        c
        for d in docs
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
        if "cinevault-analytics" in c["image"]
    ]
    if len(sidecars) != 1:
        problem("kubernetes", "expected one cinevault-analytics container in the Deployment")
    for c in sidecars:
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        check_env("kubernetes sidecar", env, known_env)
        port = c["ports"][0]["containerPort"]
        if not env.get("CINEVAULT_LISTEN", "").endswith(f":{port}"):
            problem("kubernetes sidecar", "CINEVAULT_LISTEN does not listen on the container port")
        probe = c.get("livenessProbe", {}).get("httpGet", {}).get("path")
        if probe != "/healthz":
            problem("kubernetes sidecar", f"liveness probe {probe!r} is not /healthz")
        sc = c.get("securityContext", {})
        if not (sc.get("runAsNonRoot") and sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False):
            problem("kubernetes sidecar", "securityContext is not hardened")
    for d in docs:
        if d["kind"] == "PodMonitor":
            jobs = [r.get("replacement") for e in d["spec"]["podMetricsEndpoints"] for r in e.get("relabelings", []) if r.get("targetLabel") == "job"]
            if jobs != [JOB]:
                problem("podmonitor.yaml", f"job label is {jobs}, the alerts expect {JOB}")
    print(f"    kubernetes: {', '.join(d['kind'] for d in docs)}; sidecar settings, probe and securityContext checked")


def check_dockerfile(known_env):
    text = (REPO / "deploy/docker/Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    if len(stages) < 2:
        problem("Dockerfile", "not a multi-stage build")
    final = text[text.rindex("\nFROM ") :]
    user = re.findall(r"^USER\s+(\S+)", final, re.M)
    if not user or user[-1].split(":")[0] in ("root", "0"):
        problem("Dockerfile", "the final stage does not drop root")
    entry = re.search(r'^ENTRYPOINT \["([^"]+)"', final, re.M)
    copied = re.findall(r"^COPY --from=\S+ \S+ (\S+)", final, re.M)
    if not entry or entry.group(1) not in copied:
        problem("Dockerfile", "ENTRYPOINT is not the binary the final stage copies")
    check_env("Dockerfile", re.findall(r"\b(CINEVAULT_[A-Z_]+)=", final), known_env)
    print(f"    Dockerfile: {len(stages)} stages ({' -> '.join(stages)}), non-root, entrypoint {entry.group(1) if entry else '?'}")


def check_systemd(known_env):
    text = (REPO / "deploy/systemd/cinevault-analytics.service").read_text()
    check_env("systemd unit", re.findall(r"\b((?:CINEVAULT_[A-Z_]+)|DATABASE_URL)=", text), known_env)


def main():
    known = env_names(Path(sys.argv[1]).read_text())
    if len(known) < 20:
        sys.exit(f"only {len(known)} settings found in the help text")
    check_dashboard(dash.OPERATIONS, dash.PROMETHEUS_TYPE)
    check_dashboard(dash.HISTORY, dash.POSTGRES_TYPE)
    path = check_provisioning()
    check_compose(known, path)
    check_kubernetes(known)
    check_dockerfile(known)
    check_systemd(known)
    if problems:
        print("\n".join(["static checks failed:"] + [f"  - {p}" for p in problems]), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
