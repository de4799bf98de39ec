#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Static checks of deploy/ that no schema expresses: the PrometheusRule has not drifted
from alerts.yml and its generator refuses bad options, every alert has a standard severity
(or its threshold row's), summary, description and an absolute runbook_url whose anchor
exists in docs/runbooks.md, nothing pages by default, every alert is tested firing and not
firing, the dashboard's variables and queries, the overlays, and the DaemonSet's least
privilege.
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
            for r in g["rules"] if "alert" in r]


def gen_prometheusrule(*args):
    return subprocess.run([sys.executable, os.path.join(DEPLOY, "gen-prometheusrule.py")]
                          + list(args), capture_output=True, text=True)


def runbook_base():
    m = re.search(r'^RUNBOOK_BASE = "([^"]+)"$', load("gen-prometheusrule.py"), re.M)
    return m.group(1)


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
    p = gen_prometheusrule("--check")
    assert p.returncode == 0, p.stdout + p.stderr
    generated = yaml.safe_load(load("kubernetes", "base", "prometheusrule.yaml"))
    assert generated["spec"] == yaml.safe_load(load("prometheus", "alerts.yml"))


@check
def prometheusrule_generator_options():
    out = os.path.join(ROOT, "build", "deploy", "prometheusrule-options.yaml")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    p = gen_prometheusrule("--runbook-base", "https://wiki.example.com/toolwatch/runbooks",
                           "--label", "release=my-kps", "-o", out)
    assert p.returncode == 0, p.stderr
    with open(out) as f:
        o = yaml.safe_load(f)
    assert o["metadata"]["labels"]["release"] == "my-kps", o["metadata"]
    urls = [r["annotations"]["runbook_url"] for g in o["spec"]["groups"] for r in g["rules"]
            if "alert" in r]
    assert urls and all(u == "https://wiki.example.com/toolwatch/runbooks#" + u.split("#")[1]
                        for u in urls), urls
    # a wrong base or an unknown option: exit 2, one line naming it
    for args, word in [(["--runbook-base", "docs/runbooks.md"], "docs/runbooks.md"),
                       (["--runbook-base=https://x.example/rb#top"], "#anchor"),
                       (["--runbook-base=ftp://x.example/rb"], "ftp://"),
                       (["--overlay=kube-prometheus-stack"], "--overlay"),
                       (["--relase", "x"], "--relase"), (["--label", "release"], "release")]:
        p = gen_prometheusrule(*(args + ["-o", out]))
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and word in p.stderr, \
            (args, p.returncode, p.stderr)
        assert not p.stdout, p.stdout


@check
def alerts_have_severity_and_annotations():
    anchors = runbook_anchors()
    base = runbook_base()
    assert re.fullmatch(r"https://[^/#?\s]+/\S*docs/runbooks\.md", base), base
    for r in rules():
        # a fixed-threshold alert takes its severity from the operator's row
        if "severity" not in r.get("labels", {}):
            assert re.search(r"group_left \(severity\)\s+max by \([^)]*severity\) "
                             r"\(toolwatch:\w+:threshold\)", r["expr"]), r["alert"]
        else:
            assert r["labels"]["severity"] in ("critical", "warning", "info"), r
        a = r["annotations"]
        assert a.get("summary") and a.get("description"), r["alert"]
        url = a.get("runbook_url", "")
        assert url == "%s#%s" % (base, r["alert"].lower()), (r["alert"], url)
        assert r["alert"].lower() in anchors, "docs/runbooks.md has no heading for %s" \
            % r["alert"]


@check
def nothing_pages_by_default():
    groups = yaml.safe_load(load("prometheus", "alerts.yml"))["groups"]
    # only an operator's threshold row makes an alert critical; none is shipped
    assert [r.get("labels", {}).get("severity") for r in rules()].count("critical") == 0
    table = [g for g in groups if g["name"] == "toolwatch-thresholds"]
    assert table and table[0]["rules"] == [], table
    text = load("prometheus", "alerts.yml")
    assert "toolwatch:tool_failure_ratio:threshold" in text and \
        "toolwatch:tool_duration_p95_seconds:threshold" in text


@check
def inhibitions_name_real_alerts():
    inhibit = yaml.safe_load(load("prometheus", "alertmanager-inhibit.yml"))["inhibit_rules"]
    names = {r["alert"] for r in rules()}
    with open(os.path.join(ROOT, "user", "events", "snapshot.c")) as f:
        kinds = set(re.findall(r'\] = "([A-Z_]+)"', f.read()))
    for rule in inhibit:
        assert set(rule) == {"source_matchers", "target_matchers", "equal"}, rule
        for m in rule["source_matchers"] + rule["target_matchers"]:
            key, op, value = re.fullmatch(r"(\w+) (=) (\S+)", m).groups()
            assert key in ("alertname", "kind"), m
            assert value in (names if key == "alertname" else kinds), m
    # every threshold alert silences its anomaly twin
    assert {r["source_matchers"][0] for r in inhibit} >= {
        "alertname = ToolFailureRatioAboveThreshold", "alertname = ToolDurationP95AboveThreshold"}


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
    p = subprocess.run([sys.executable, os.path.join(DEPLOY, "grafana", "gen-dashboard.py"),
                        "--check"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    d = json.loads(load("grafana", "toolwatch-dashboard.json"))
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    for name in ("cluster", "job", "node", "instance", "namespace", "pod", "container", "tool"):
        v = variables[name]
        assert v["includeAll"] and v["allValue"] == ".*" and v["multi"], v
    for p in d["panels"]:
        assert p.get("description"), "panel %r has no description" % p["title"]
        for t in p["targets"]:
            e = t["expr"]
            assert not re.search(r"\[\d+[smh]\]", e), "fixed rate window in %r" % e
            if "rate(" in e:
                assert "[$__rate_interval]" in e, e
            for v in ("cluster", "job", "node", "instance"):
                assert '%s=~"$%s"' % (v, v) in e, (v, e)
            # tool series filter by pod too, except the per-tool anomaly flags
            if re.search(r"\btool_(?!anomaly)", e):
                for v in ("namespace", "pod", "container", "tool"):
                    assert '%s=~"$%s"' % (v, v) in e, (v, e)
            if re.search(r"\bby \(tool\b", e):
                assert e.startswith("topk($topk, "), "per-tool panel without topk: %r" % e


@check
def daemonset_least_privilege():
    docs = list(yaml.safe_load_all(load("kubernetes", "base", "toolwatch.yaml")))
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
    # Linux nodes only; the host's cgroup tree, read-only, in place of the pod's own; no
    # tracefs unless the exec_failed overlay asks for it (default probes do not read it)
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}, pod.get("nodeSelector")
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert mounts["cgroup"] == {"name": "cgroup", "mountPath": "/sys/fs/cgroup",
                                "readOnly": True}, mounts["cgroup"]
    assert volumes["cgroup"]["hostPath"] == {"path": "/sys/fs/cgroup", "type": "Directory"}
    assert not [v for v in volumes.values()
                if v.get("hostPath", {}).get("path") == "/sys/kernel/tracing"], volumes
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
    env = {e["name"]: e for e in c["env"]}
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    pm = kinds["PodMonitor"]["spec"]
    assert pm["jobLabel"] in kinds["DaemonSet"]["spec"]["template"]["metadata"]["labels"]
    targets = {r["targetLabel"] for r in pm["podMetricsEndpoints"][0]["relabelings"]
               if r.get("sourceLabels") == ["__meta_kubernetes_pod_node_name"]}
    assert targets == {"node", "instance"}, targets
    # every added capability is in the deployment page's table
    page = doc("docs", "deployment.md")
    for cap in sc["capabilities"]["add"]:
        assert re.search(r"^\| `CAP_%s` \|" % cap, page, re.M), \
            "docs/deployment.md lacks CAP_%s" % cap


def kustomize(rel):
    """The objects `kubectl apply -k deploy/kubernetes/REL` would apply, by kind."""
    p = subprocess.run(["kubectl", "kustomize", os.path.join(DEPLOY, "kubernetes", rel)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    out = {}
    for d in yaml.safe_load_all(p.stdout):
        out.setdefault(d["kind"], []).append(d)
    return out


@check
def overlays_add_what_they_say():
    base = kustomize("base")
    kps = kustomize("overlays/kube-prometheus-stack")
    for kind in ("PodMonitor", "PrometheusRule"):
        for o in base.get(kind, []):
            assert "release" not in o["metadata"]["labels"], o["metadata"]
        for o in kps.get(kind, []):
            assert o["metadata"]["labels"]["release"] == "kube-prometheus-stack", o["metadata"]
    assert kps["PodMonitor"], "no PodMonitor in the kube-prometheus-stack overlay"
    cm = kps["ConfigMap"][0]
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1", cm["metadata"]
    assert json.loads(cm["data"]["toolwatch-dashboard.json"]) == \
        json.loads(load("grafana", "toolwatch-dashboard.json"))
    # kubectl apply keeps the whole object in an annotation of at most 256 KiB
    assert len(cm["data"]["toolwatch-dashboard.json"]) < 200 * 1024
    ds = kustomize("overlays/exec-failed")["DaemonSet"][0]
    c = ds["spec"]["template"]["spec"]["containers"][0]
    assert "--probe.enable=exec_failed" in c["args"], c["args"]
    assert {"name": "tracefs", "mountPath": "/sys/kernel/tracing", "readOnly": True} in \
        c["volumeMounts"], c["volumeMounts"]
    assert {"name": "tracefs", "hostPath": {"path": "/sys/kernel/tracing",
                                            "type": "Directory"}} in \
        ds["spec"]["template"]["spec"]["volumes"]
    # everything else as in base
    c["args"].remove("--probe.enable=exec_failed")
    base_c = base["DaemonSet"][0]["spec"]["template"]["spec"]["containers"][0]
    assert c["args"] == base_c["args"], (c["args"], base_c["args"])


@check
def rbac_reads_pods_only():
    docs = [d for d in yaml.safe_load_all(load("kubernetes", "base", "toolwatch.yaml")) if d]
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
