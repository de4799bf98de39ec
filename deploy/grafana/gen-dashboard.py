#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes deploy/grafana/toolwatch-dashboard.json: one place for its variables, selectors
and panels, so that every panel filters the same way.
usage: gen-dashboard.py [--check]   (--check: exit 1 when the file differs)"""

import json
import os
import sys

TARGET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "toolwatch-dashboard.json")
DS = {"type": "prometheus", "uid": "${datasource}"}

# The agent's own series (one per node) and the tool series (per tool, and per pod with
# --metrics.labels). An "All" selection is ".*", which also matches an absent label (a
# single-cluster Prometheus has no cluster label; a host execution has no pod).
AGENT = 'cluster=~"$cluster",job=~"$job",node=~"$node",instance=~"$instance"'
PER_TOOL = AGENT + ',tool=~"$tool"'  # anomaly flags are per tool, not per pod
TOOL = PER_TOOL + ',namespace=~"$namespace",pod=~"$pod",container=~"$container"'
RATE = "[$__rate_interval]"


def rate(metric, sel=TOOL):
    return "rate(%s{%s}%s)" % (metric, sel, RATE)


def quantile(q, family, by="tool", sel=TOOL):
    """q-quantile from native histograms when the agent is scraped with them (protobuf
    negotiated), else from the classic buckets."""
    native = "histogram_quantile(%s, sum by (%s) (%s))" % (q, by, rate(family, sel))
    classic = "histogram_quantile(%s, sum by (%s, le) (%s))" % (
        q, by, rate(family + "_bucket", sel))
    return "%s or %s" % (native, classic)


def topk(expr):
    return "topk($topk, %s)" % expr


def query_var(name, label, metric, sel, title=None):
    q = "label_values(%s{%s}, %s)" % (metric, sel, label) if sel else \
        "label_values(%s, %s)" % (metric, label)
    return {"name": name, "label": title or name, "type": "query", "datasource": DS,
            "query": q, "definition": q, "includeAll": True, "allValue": ".*", "multi": True,
            "refresh": 2, "sort": 1,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]}}


VARIABLES = [
    {"name": "datasource", "label": "data source", "type": "datasource", "query": "prometheus"},
    query_var("cluster", "cluster", "toolwatch_build_info", ""),
    query_var("job", "job", "toolwatch_build_info", 'cluster=~"$cluster"'),
    query_var("node", "node", "toolwatch_build_info", 'cluster=~"$cluster",job=~"$job"'),
    query_var("instance", "instance", "toolwatch_build_info",
              'cluster=~"$cluster",job=~"$job",node=~"$node"'),
    query_var("namespace", "namespace", "tool_executions_total", AGENT),
    query_var("pod", "pod", "tool_executions_total", AGENT + ',namespace=~"$namespace"'),
    query_var("container", "container", "tool_executions_total",
              AGENT + ',namespace=~"$namespace",pod=~"$pod"'),
    query_var("tool", "tool", "tool_executions_total",
              AGENT + ',namespace=~"$namespace",pod=~"$pod",container=~"$container"'),
    {"name": "topk", "label": "top tools", "type": "custom", "query": "5,10,20,50",
     "current": {"text": "10", "value": "10"},
     "options": [{"text": v, "value": v, "selected": v == "10"} for v in ("5", "10", "20", "50")]},
]

# (title, description, unit, [(expr, legend)], kind): kind timeseries or table
PANELS = [
    ("Executions per second (top $topk tools)",
     "Executions that ended per second, by tool, over the selected nodes and pods.",
     "ops", [(topk("sum by (tool) (%s)" % rate("tool_executions_total")), "{{tool}}")],
     "timeseries"),
    ("Duration p50, p95, p99 (selected tools)",
     "Percentiles of execution duration over every selected tool, node and pod together: "
     "from native histograms when Prometheus scrapes them, else from the classic buckets.",
     "s", [(quantile(q, "tool_execution_duration_seconds", by="job"), "p%s" % p)
           for q, p in (("0.5", "50"), ("0.95", "95"), ("0.99", "99"))], "timeseries"),
    ("p95 duration by tool (top $topk tools)",
     "95th percentile of execution duration per tool (native histograms when present, else "
     "classic buckets); the slowest $topk tools.",
     "s", [(topk(quantile("0.95", "tool_execution_duration_seconds")), "{{tool}}")],
     "timeseries"),
    ("Failure ratio by error type",
     "Failed executions as a share of all selected executions, by how they failed: "
     "exit_code (non-zero exit, often normal: grep finding nothing), signal, core_dump, "
     "exec_failed (needs the exec_failed overlay), oom_kill.",
     "percentunit",
     [("sum by (error_type) (%s) / ignoring (error_type) group_left sum (%s)"
       % (rate("tool_execution_failure_total"), rate("tool_executions_total")),
       "{{error_type}}")], "timeseries"),
    ("Failure ratio (top $topk tools)",
     "Failed executions as a share of each tool's executions, every error type together.",
     "percentunit",
     [(topk("sum by (tool) (%s) / sum by (tool) (%s)"
            % (rate("tool_execution_failure_total"), rate("tool_executions_total"))),
       "{{tool}}")], "timeseries"),
    ("Peak memory per execution, p95 (top $topk tools)",
     "95th percentile of each ended execution's peak resident set size, per tool.",
     "bytes", [(topk(quantile("0.95", "tool_peak_memory_bytes")), "{{tool}}")], "timeseries"),
    ("CPU per execution (top $topk tools)",
     "CPU seconds (user and system) per ended execution, per tool: CPU counted while "
     "executions run, divided by the executions that ended in the interval.",
     "s",
     [(topk("sum by (tool) (%s) / sum by (tool) (%s)"
            % (rate("tool_cpu_seconds_total"), rate("tool_executions_total"))), "{{tool}}")],
     "timeseries"),
    ("Waits per execution",
     "Seconds an execution and its children waited, by reason: runqueue (for a CPU) and "
     "blkio (block I/O; only while delay accounting is on), per ended execution.",
     "s",
     [("sum by (reason) (%s) / ignoring (reason) group_left sum (%s)"
       % (rate("tool_wait_seconds_total"), rate("tool_executions_total")), "{{reason}}")],
     "timeseries"),
    ("Network bytes (top $topk tools)",
     "Bytes sent (tx) and received (rx) per second by each tool's executions.",
     "Bps", [(topk("sum by (tool, direction) (%s)" % rate("tool_network_bytes_total")),
              "{{tool}} {{direction}}")], "timeseries"),
    ("TCP connections and retransmits (top $topk tools)",
     "TCP connections opened with connect() and the retransmits on them, per second, by "
     "tool: retransmits rising against connections point at the network, not the tool.",
     "ops",
     [(topk("sum by (tool) (%s)" % rate("tool_tcp_connections_total")), "{{tool}} connects"),
      (topk("sum by (tool) (%s)" % rate("tool_tcp_retransmits_total")),
       "{{tool}} retransmits")], "timeseries"),
    ("Disk bytes (top $topk tools)",
     "Bytes read and written per second by each tool's executions.",
     "Bps", [(topk("sum by (tool, direction) (%s)" % rate("tool_disk_bytes_total")),
              "{{tool}} {{direction}}")], "timeseries"),
    ("Running and their memory (top $topk tools)",
     "Executions running now per tool, and the resident memory they hold together.",
     "short",
     [(topk("sum by (tool) (tool_running{%s})" % TOOL), "{{tool}} running"),
      (topk("sum by (tool) (tool_memory_usage_bytes{%s})" % TOOL), "{{tool}} bytes")],
     "timeseries"),
    ("Anomalies raised: kind, severity, cause, ratio",
     "Anomaly flags raised now against each tool's own baseline (per tool, on each node; "
     "not per pod): kind and severity, the likely cause (cpu, runqueue, blkio, other) and "
     "the current/baseline ratio.",
     "short",
     [("max by (node, instance, tool, kind, severity) (tool_anomaly{%s} == 1)" % PER_TOOL,
       ""),
      ("max by (node, instance, tool, kind, cause) (tool_anomaly_cause{%s} == 1)" % PER_TOOL,
       ""),
      ("max by (node, instance, tool, kind) (tool_anomaly_deviation_ratio{%s})" % PER_TOOL,
       "")], "table"),
    ("Anomaly ratio over time (top $topk)",
     "Current/baseline ratio of each raised anomaly kind per tool (1 = as usual).",
     "short",
     [(topk("max by (tool, kind) (tool_anomaly_deviation_ratio{%s})" % PER_TOOL),
       "{{tool}} {{kind}}")], "timeseries"),
    ("Overflow and losses",
     "What the agent could not count exactly, per second: executions under tool=\"other\" "
     "(--tools.max reached), executions in the \"other\" series (--metrics.max-series "
     "reached), events dropped in the kernel (by reason). Any of these above 0 makes counts "
     "too low: see the runbooks.",
     "ops",
     [("sum by (instance) (%s)" % rate("toolwatch_tools_overflow_total", AGENT),
       "{{instance}} tools overflow"),
      ("sum by (instance) (%s)" % rate("toolwatch_series_overflow_total", AGENT),
       "{{instance}} series overflow"),
      ("sum by (instance, reason) (%s)" % rate("toolwatch_events_lost_total", AGENT),
       "{{instance}} lost {{reason}}")], "timeseries"),
    ("Agent CPU",
     "CPU the agent's own process uses, per node (cores); the BPF programs' own run time is "
     "in toolwatch_bpf_program_run_seconds_total when --bpf.stats is on.",
     "short",
     [("sum by (instance) (%s)" % rate("process_cpu_seconds_total", AGENT), "{{instance}}")],
     "timeseries"),
    ("Agent memory",
     "Resident memory of the agent's own process per node (BPF maps are charged to its "
     "cgroup besides: compare with the pod's memory limit).",
     "bytes",
     [("sum by (instance) (process_resident_memory_bytes{%s})" % AGENT, "{{instance}}")],
     "timeseries"),
    ("Kubernetes API",
     "Pod lists the agent asked the Kubernetes API for, per second, by result: failures "
     "leave new pods without names (namespace, pod, container).",
     "ops",
     [("sum by (instance, result) (%s)" % rate("toolwatch_kubernetes_requests_total", AGENT),
       "{{instance}} {{result}}")], "timeseries"),
    ("Run-queue latency p99 (needs --probe.enable=runqlat)",
     "99th percentile of the time the node's tasks waited for a CPU.",
     "s",
     [("histogram_quantile(0.99, sum by (instance, le) (%s))"
       % rate("toolwatch_runqueue_latency_seconds_bucket", AGENT), "{{instance}}")],
     "timeseries"),
]


def panel(i, title, description, unit, targets, kind):
    p = {"id": i + 1, "type": kind, "title": title, "description": description,
         "datasource": DS, "gridPos": {"x": (i % 2) * 12, "y": (i // 2) * 8, "w": 12, "h": 8},
         "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
         "targets": [{"refId": chr(ord("A") + k), "expr": e, "legendFormat": legend}
                     for k, (e, legend) in enumerate(targets)]}
    if kind == "table":
        for t in p["targets"]:
            t.update({"instant": True, "format": "table"})
            del t["legendFormat"]
        p["transformations"] = [{"id": "merge", "options": {}}]
    return p


def render():
    d = {"title": "toolwatch", "uid": "toolwatch",
         "description": "Tool executions per node, pod and tool (toolwatch).",
         "schemaVersion": 38, "version": 2, "refresh": "30s",
         "time": {"from": "now-6h", "to": "now"}, "tags": ["toolwatch"],
         "templating": {"list": VARIABLES},
         "panels": [panel(i, *p) for i, p in enumerate(PANELS)]}
    return json.dumps(d, indent=1) + "\n"


def main():
    text = render()
    if sys.argv[1:] == ["--check"]:
        with open(TARGET) as f:
            if f.read() != text:
                print("%s differs from gen-dashboard.py: run it" % TARGET)
                return 1
        return 0
    if sys.argv[1:]:
        print("usage: gen-dashboard.py [--check]", file=sys.stderr)
        return 2
    with open(TARGET, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
