# SPDX-License-Identifier: GPL-2.0
"""The deployment files are valid and speak of metrics the agent really exports."""

import json
import os
import re
import shutil
import subprocess

from lib import Skip

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
# exported only with an opt-in probe or once a baseline exists
CONDITIONAL = {"toolwatch_runqueue_latency_seconds"}


def metric_names(text):
    names = set(re.findall(r"\b((?:tool|toolwatch|host)_[a-z_]+)", text))
    # histogram series suffixes name the family
    return {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}


def register(r):
    @r.test
    def test_deploy_prometheus_files_valid(ctx):
        if not shutil.which("promtool"):
            raise Skip("promtool not installed (make deps)")
        cfg = os.path.join(ROOT, "deploy", "prometheus", "prometheus.yml")
        p = subprocess.run(["promtool", "check", "config", cfg], capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "SUCCESS: 6 rules found" in p.stdout + p.stderr, p.stdout + p.stderr

    @r.test
    def test_deploy_files_use_exported_metrics(ctx):
        dash = json.load(open(os.path.join(ROOT, "deploy", "grafana",
                                           "toolwatch-dashboard.json")))
        exprs = " ".join(t["expr"] for p in dash["panels"] for t in p["targets"])
        alerts = open(os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")).read()
        used = metric_names(exprs + " " + alerts)
        exported = metric_names(ctx.agent.scrape().text)
        # anomaly families appear once a baseline exists: check them by name
        exported |= {"tool_anomaly", "tool_anomaly_deviation_ratio", "tool_anomalies_total"}
        missing = used - exported - CONDITIONAL
        assert not missing, "deploy files use metrics the agent does not export: %s" % missing
