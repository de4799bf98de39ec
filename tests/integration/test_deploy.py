# SPDX-License-Identifier: GPL-2.0
"""The deployment files are valid and speak of metrics the agent really exports."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

try:
    import yaml
except ImportError:  # a python3 other than Debian's: use Debian's python3-yaml (make deps)
    sys.path.append("/usr/lib/python3/dist-packages")
    import yaml

from lib import Skip, free_port, http_get

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
# exported only with an opt-in probe or once a baseline exists
CONDITIONAL = {"toolwatch_runqueue_latency_seconds"}


def metric_names(text):
    names = set(re.findall(r"\b((?:tool|toolwatch|host)_[a-z_]+)", text))
    # histogram series suffixes name the family
    return {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}


def register(r):
    register_server(r)

    @r.test
    def test_deploy_prometheus_files_valid(ctx):
        if not shutil.which("promtool"):
            raise Skip("promtool not installed (make deps)")
        cfg = os.path.join(ROOT, "deploy", "prometheus", "prometheus.yml")
        p = subprocess.run(["promtool", "check", "config", cfg], capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "SUCCESS: 12 rules found" in p.stdout + p.stderr, p.stdout + p.stderr

    @r.test
    def test_deploy_files_use_exported_metrics(ctx):
        dash = json.load(open(os.path.join(ROOT, "deploy", "grafana",
                                           "toolwatch-dashboard.json")))
        exprs = " ".join(t["expr"] for p in dash["panels"] for t in p["targets"])
        alerts = open(os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")).read()
        # recording rules (the threshold table: level:metric:operation) are no exports
        used = metric_names(re.sub(r"\b\w+:\w+:\w+\b", "", exprs + " " + alerts))
        exported = metric_names(ctx.agent.scrape().text)
        # anomaly families appear once a baseline exists: check them by name
        exported |= {"tool_anomaly", "tool_anomaly_deviation_ratio", "tool_anomalies_total",
                     "tool_anomaly_cause"}
        # exported with --metrics.labels or --kubernetes.enable only (not the suite's agent):
        # the exposition's source names them
        source = set()
        for name in ("exposition.c", "exposition_self.c"):
            with open(os.path.join(ROOT, "exporter", name)) as f:
                source |= metric_names(f.read())
        optional = {n for n in used - exported
                    if n.startswith(("toolwatch_series_", "toolwatch_kubernetes_"))}
        assert optional <= source, optional - source
        missing = used - exported - CONDITIONAL - optional
        assert not missing, "deploy files use metrics the agent does not export: %s" % missing


# What Grafana substitutes for the dashboard's variables when "All" is selected
GRAFANA_VARS = {"$__rate_interval": "1m", "$job": ".*", "$instance": ".*", "$tool": ".*",
                "$topk": "10", "$cluster": ".*", "$node": ".*", "$namespace": ".*",
                "$pod": ".*", "$container": ".*"}


def dashboard_exprs():
    dash = json.load(open(os.path.join(ROOT, "deploy", "grafana", "toolwatch-dashboard.json")))
    out = []
    for p in dash["panels"]:
        for t in p["targets"]:
            e = t["expr"]
            for k in sorted(GRAFANA_VARS, key=len, reverse=True):
                e = e.replace(k, GRAFANA_VARS[k])
            assert "$" not in e.replace('"$1"', ""), "unknown variable in %r" % e
            out.append((p["title"], e))
    return out


def rule_exprs():
    with open(os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")) as f:
        groups = yaml.safe_load(f)["groups"]
    return [(r["alert"], r["expr"]) for g in groups for r in g["rules"]]


def prom_query(port, expr):
    url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (port, urllib.parse.quote(expr))
    status, _, body = http_get(url, timeout=10)
    return status, json.loads(body)


def register_server(r):
    @r.test
    def test_deploy_expressions_evaluate_on_prometheus(ctx):
        """Every dashboard panel's and every alert rule's expression, sent to a real
        Prometheus that scrapes the agent (job="toolwatch", rules loaded), evaluates
        without error; the rules report health "ok" after evaluation."""
        if not shutil.which("prometheus"):
            raise Skip("prometheus not installed (make deps)")
        tmp = tempfile.mkdtemp(prefix="twprom.")
        port = free_port()
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "rule_files:\n  - %s\n"
                    "scrape_configs:\n  - job_name: toolwatch\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n"
                    % (os.path.join(ROOT, "deploy", "prometheus", "alerts.yml"), ctx.agent.port))
        prom = subprocess.Popen(["prometheus", "--config.file=" + cfg,
                                 "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                                 "--web.listen-address=127.0.0.1:%d" % port],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            tool = ctx.work.tool("tw_exit")
            deadline = time.time() + 60
            while True:  # three scrapes at least, so rates have points
                ctx.work.spawn(3, [tool, "1"])
                try:
                    status, body = prom_query(port, 'count_over_time(up{job="toolwatch"}[1m])')
                    res = body["data"]["result"] if status == 200 else []
                    if res and float(res[0]["value"][1]) >= 3:
                        break
                except OSError:
                    pass
                assert time.time() < deadline, "prometheus did not scrape the agent in 60s"
                time.sleep(0.5)
            exprs = dashboard_exprs() + rule_exprs()
            for name, expr in exprs:
                status, body = prom_query(port, expr)
                assert status == 200 and body["status"] == "success", (name, expr, body)
            # the per-tool panels see the tool just run (variables interpolate to data)
            rate = next(e for _, e in dashboard_exprs()
                        if e.startswith("topk(10, sum by (tool) (rate(tool_executions_total"))
            status, body = prom_query(port, rate)
            tools = {s["metric"].get("tool") for s in body["data"]["result"]}
            assert os.path.basename(tool) in tools or len(tools) == 10, tools
            # every rule evaluated, healthy
            deadline = time.time() + 10
            while True:
                status, _, body = http_get("http://127.0.0.1:%d/api/v1/rules" % port)
                rules = [x for g in json.loads(body)["data"]["groups"] for x in g["rules"]]
                evaluated = [x for x in rules if not x["lastEvaluation"].startswith("0001")]
                if len(evaluated) == len(rules) or time.time() > deadline:
                    break
                time.sleep(0.5)
            assert len(rules) == len(rule_exprs()), rules
            bad = [(x["name"], x.get("lastError")) for x in rules if x["health"] != "ok"]
            assert len(evaluated) == len(rules) and not bad, (bad, evaluated)
        finally:
            prom.terminate()
            prom.wait(timeout=30)
            shutil.rmtree(tmp, ignore_errors=True)
