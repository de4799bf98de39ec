#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Static checks of deploy/ that no schema expresses: the PrometheusRule has not drifted
from alerts.yml, every alert has a standard severity, summary, description and a runbook
anchor that exists in docs/runbooks.md, every alert is tested firing and not firing, the
dashboard's variables and queries, and the DaemonSet's least privilege.
Prints one PASS/FAIL line per check and a closing count; exit 1 on any failure."""

import json
import os
import re
import subprocess
import sys

try:
    import yaml
except ImportError:  # a python3 other than Debian's: use Debian's python3-yaml (make deps)
    sys.path.append("/usr/lib/python3/dist-packages")
    import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def load(*path):
    with open(os.path.join(DEPLOY, *path)) as f:
        return f.read()


def rules():
    return [r for g in yaml.safe_load(load("prometheus", "alerts.yml"))["groups"]
            for r in g["rules"]]


def doc(*path):
    with open(os.path.join(ROOT, *path)) as f:
        return f.read()


def runbook_anchors():
    """GitHub's heading anchors: lowercase, punctuation dropped, spaces to dashes."""
    with open(os.path.join(ROOT, "docs", "runbooks.md")) as f:
        heads = re.findall(r"^#+ (.*)$", f.read(), re.M)
    return {re.sub(r"[^a-z0-9 _-]", "", h.strip().lower()).replace(" ", "-") for h in heads}


@check
def prometheusrule_matches_alerts():
    p = subprocess.run([sys.executable, os.path.join(DEPLOY, "gen-prometheusrule.py"),
                        "--check"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    generated = yaml.safe_load(load("kubernetes", "prometheusrule.yaml"))
    assert generated["spec"] == yaml.safe_load(load("prometheus", "alerts.yml"))


@check
def alerts_have_severity_and_annotations():
    anchors = runbook_anchors()
    for r in rules():
        assert r["labels"]["severity"] in ("critical", "warning", "info"), r
        a = r["annotations"]
        assert a.get("summary") and a.get("description"), r["alert"]
        m = re.fullmatch(r"docs/runbooks\.md#([a-z0-9_-]+)", a.get("runbook_url", ""))
        assert m, (r["alert"], a.get("runbook_url"))
        assert m.group(1) in anchors, "docs/runbooks.md has no heading for #%s" % m.group(1)


@check
def every_alert_tested_firing_and_not():
    tests = yaml.safe_load(load("prometheus", "alerts_test.yml"))["tests"]
    fired, quiet = set(), set()
    for t in tests:
        for case in t.get("alert_rule_test", []):
            (fired if case.get("exp_alerts") else quiet).add(case["alertname"])
    for sev in ("critical", "warning", "info"):
        assert any(c.get("exp_alerts") and
                   any(a["exp_labels"]["severity"] == sev for a in c["exp_alerts"])
                   for t in tests for c in t.get("alert_rule_test", [])), sev
    names = {r["alert"] for r in rules()}
    assert names <= fired, "never tested firing: %s" % (names - fired)
    assert names <= quiet, "never tested not firing: %s" % (names - quiet)


@check
def toolwatchdown_covers_down_and_vanished_targets():
    down = [r for r in rules() if r["alert"] == "ToolwatchDown"]
    exprs = " ".join(r["expr"] for r in down)
    assert 'up{job="toolwatch"} == 0' in exprs and 'absent(up{job="toolwatch"})' in exprs


@check
def dashboard_variables_and_queries():
    d = json.loads(load("grafana", "toolwatch-dashboard.json"))
    variables = {v["name"]: v for v in d["templating"]["list"]}
    for name in ("job", "instance", "tool"):
        v = variables[name]
        assert v["includeAll"] and v["allValue"] == ".*" and v["multi"], v
    for p in d["panels"]:
        for t in p["targets"]:
            e = t["expr"]
            assert not re.search(r"\[\d+[smh]\]", e), "fixed rate window in %r" % e
            if "rate(" in e:
                assert "[$__rate_interval]" in e, e
            assert 'job=~"$job"' in e, e
            if re.search(r"\bby \(tool\b", e):
                assert e.startswith("topk($topk, "), "per-tool panel without topk: %r" % e


@check
def daemonset_least_privilege():
    docs = list(yaml.safe_load_all(load("kubernetes", "toolwatch.yaml")))
    kinds = {d["kind"]: d for d in docs if d}
    pod = kinds["DaemonSet"]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    sc = c["securityContext"]
    assert not sc.get("privileged") and sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"], "add": ["BPF", "PERFMON"]}, sc
    # the token is mounted into the agent's pod only (it lists pods), not for the account
    assert pod["automountServiceAccountToken"] is True
    assert kinds["ServiceAccount"]["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == kinds["ServiceAccount"]["metadata"]["name"]
    assert kinds["Namespace"]["metadata"]["labels"][
        "pod-security.kubernetes.io/enforce"] == "privileged"
    tracefs = [v for v in pod["volumes"] if v["name"] == "tracefs"][0]
    assert tracefs["hostPath"]["type"] == "Directory"
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
    env = {e["name"]: e for e in c["env"]}
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    pm = kinds["PodMonitor"]["spec"]
    assert pm["jobLabel"] in kinds["DaemonSet"]["spec"]["template"]["metadata"]["labels"]
    targets = {r["targetLabel"] for r in pm["podMetricsEndpoints"][0]["relabelings"]
               if r["sourceLabels"] == ["__meta_kubernetes_pod_node_name"]}
    assert targets == {"node", "instance"}, targets
    # every added capability is in the deployment page's table
    page = doc("docs", "deployment.md")
    for cap in sc["capabilities"]["add"]:
        assert re.search(r"^\| `CAP_%s` \|" % cap, page, re.M), \
            "docs/deployment.md lacks CAP_%s" % cap


@check
def rbac_reads_pods_only():
    docs = [d for d in yaml.safe_load_all(load("kubernetes", "toolwatch.yaml")) if d]
    kinds = {d["kind"]: d for d in docs}
    assert not [d for d in docs if d["kind"] in ("Role", "RoleBinding")]
    role, binding, sa = kinds["ClusterRole"], kinds["ClusterRoleBinding"], kinds["ServiceAccount"]
    # read-only, pods only: what the Kubernetes API client needs (docs/configuration.md, RBAC)
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"],
                              "verbs": ["get", "list", "watch"]}], role["rules"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                                  "kind": "ClusterRole", "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                    "namespace": sa["metadata"]["namespace"]}]
    c = kinds["DaemonSet"]["spec"]["template"]["spec"]["containers"][0]
    assert "--kubernetes.enable" in c["args"] or \
        any(a.startswith("--metrics.labels=") for a in c["args"]), c["args"]
    page = doc("docs", "configuration.md")
    assert "`--kubernetes.enable`" in page and "ClusterRole" in page


def main():
    failed = 0
    for fn in CHECKS:
        try:
            fn()
            print("PASS %s" % fn.__name__)
        except Exception as e:  # noqa: BLE001 - any exception fails the check
            failed += 1
            print("FAIL %s: %r" % (fn.__name__, e))
    print("deploy: %d passed, %d failed" % (len(CHECKS) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
