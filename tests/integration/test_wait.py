# SPDX-License-Identifier: GPL-2.0
"""Where the time went: run-queue wait, block I/O wait and other off-CPU time per
execution, against what the workloads read from /proc/self just before they exit."""

import os
import subprocess
import threading
import time

from lib import _LABEL as LABEL
from lib import Agent, http_get, unescape
from test_trace import json_events, of_tool, start

MS = 1000000
WINDOW_S = 2
ANOMALY_FLAGS = ["--anomaly.window=%ds" % WINDOW_S, "--anomaly.min-windows=8",
                 "--anomaly.min-samples=50", "--state.save-interval=0"]
DELAYACCT = "/proc/sys/kernel/task_delayacct"


def delayacct():
    with open(DELAYACCT) as f:
        return f.read().strip() == "1"


def pinned(cpu):
    return lambda: os.sched_setaffinity(0, {cpu})


def hog(ctx, cpu):
    """A CPU-bound process pinned to cpu, to wait behind."""
    proc = subprocess.Popen([ctx.work.tool("tw_cpu"), "60000"], stdout=subprocess.DEVNULL,
                            preexec_fn=pinned(cpu))
    time.sleep(0.2)
    return proc


def run_tool(tool, args, cpu=None):
    """Runs tool (optionally pinned); returns its own (run_delay_ns, blkio_ns)."""
    out = subprocess.run([tool] + args, check=True, capture_output=True, text=True,
                         preexec_fn=pinned(cpu) if cpu is not None else None).stdout
    delay, ticks = out.split()
    return int(delay), int(ticks) * 10 * MS  # USER_HZ is 100


def close(got, want, rel=0.10):
    """Within rel of want. Above it, also up to 10 ms more: the tool cannot see its own
    wait between the exec and main (the dynamic loader), which a loaded host makes a few
    ms; it is never less than what the tool saw."""
    return want - max(rel * want, 1 * MS) <= got <= want + max(rel * want, 10 * MS)


def contention(ctx, extra_env=None):
    """trace --json around a contended and a lone run; returns [(event, own run_delay)]."""
    cpu = max(os.sched_getaffinity(0))
    tool = ctx.work.tool("tw_wait")
    env = dict(os.environ, **(extra_env or {}))
    t = start_with_env(ctx, env, "--json")
    h = hog(ctx, cpu)
    try:
        busy = run_tool(tool, ["cpu", "300"], cpu)[0]
    finally:
        h.kill()
        h.wait()
    alone = run_tool(tool, ["cpu", "100"], cpu)[0]
    rc, out = t.finish(2)
    assert rc == 0, (rc, t.stderr())
    runs = sorted(of_tool(json_events(out), tool), key=lambda e: e["time"])
    assert len(runs) == 2, runs
    return [(runs[0], busy), (runs[1], alone)]


def start_with_env(ctx, env, *args):
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return start(ctx, *args)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def check_contention(pairs):
    (busy_ev, busy), (alone_ev, alone) = pairs
    for e, own in pairs:
        print("  runq %.1f ms vs schedstat %.1f ms" % (e["runq_wait_ns"] / MS, own / MS))
        assert close(e["runq_wait_ns"], own), (e, own)
    # sharing one CPU with a hog for 300 ms of CPU: it waited a large part of that
    assert busy_ev["runq_wait_ns"] >= 100 * MS, busy_ev
    assert alone_ev["runq_wait_ns"] < busy_ev["runq_wait_ns"] / 2, (alone_ev, busy_ev)
    cpu = busy_ev["cpu_user_ns"] + busy_ev["cpu_system_ns"]
    # the wait is not counted as CPU, and duration ~ CPU + run-queue wait
    assert cpu < 400 * MS, busy_ev
    assert busy_ev["other_ns"] <= 0.1 * busy_ev["duration_ns"], busy_ev


def register(r):
    register_causes(r)

    @r.test
    def test_wait_runqueue_matches_schedstat(ctx):
        check_contention(contention(ctx))

    @r.test
    def test_wait_runqueue_raw_tracepoints(ctx):
        check_contention(contention(ctx, {"TOOLWATCH_FORCE_RAW_TP": "1"}))

    @r.test
    def test_wait_threads_summed(ctx):
        # four threads sharing one CPU wait behind each other; each exits before main
        cpu = max(os.sched_getaffinity(0))
        tool = ctx.work.tool("tw_wait")
        t = start(ctx, "--json")
        own = run_tool(tool, ["threads", "4", "100"], cpu)[0]
        rc, out = t.finish(2)
        assert rc == 0, (rc, t.stderr())
        runs = of_tool(json_events(out), tool)
        assert len(runs) == 1, runs
        e = runs[0]
        print("  runq %.1f ms vs the threads' schedstat %.1f ms" % (e["runq_wait_ns"] / MS,
                                                                   own / MS))
        assert own >= 100 * MS, own
        assert close(e["runq_wait_ns"], own), (e, own)

    @r.test
    def test_wait_live_for_running_executions(ctx):
        # the sampler credits wait of executions still running, before their exit
        cpu = max(os.sched_getaffinity(0))
        tool = ctx.work.tool("tw_wait")
        name = os.path.basename(tool)
        # an agent of its own: the suite's may have reached --tools.max by now
        agent = Agent(ctx.binary).start()
        h = hog(ctx, cpu)
        try:
            proc = subprocess.Popen([tool, "cpu", "1500"], stdout=subprocess.PIPE, text=True,
                                    preexec_fn=pinned(cpu))
            deadline = time.time() + 2.5
            live = 0
            while time.time() < deadline and live < 0.2:
                time.sleep(0.2)
                m = agent.scrape()
                if m.get("tool_running", tool=name) == 1:
                    live = m.get("tool_wait_seconds_total", tool=name, reason="runqueue")
            assert proc.poll() is None, "ended before the live reading"
            assert live >= 0.2, live
        finally:
            h.kill()
            h.wait()
        own = int(proc.communicate()[0].split()[0])
        m = agent.wait_value("tool_executions_total", 1, tool=name)
        got = m.get("tool_wait_seconds_total", tool=name, reason="runqueue") * 1e9
        assert got >= live * 1e9 and close(got, own), (got, own, live)
        assert agent.stop() == 0

    @r.test
    def test_wait_sleep_is_other(ctx):
        tool = ctx.work.tool_from("/bin/sleep", "twsleep_%d" % os.getpid())
        t = start(ctx, "--json")
        subprocess.run([tool, "0.2"], check=True)
        rc, out = t.finish(2)
        assert rc == 0, (rc, t.stderr())
        runs = of_tool(json_events(out), tool)
        assert len(runs) == 1, runs
        e = runs[0]
        print("  other %.1f ms, cpu %.2f ms, runq %.2f ms" % (
            e["other_ns"] / MS, (e["cpu_user_ns"] + e["cpu_system_ns"]) / MS,
            e["runq_wait_ns"] / MS))
        assert 195 * MS <= e["other_ns"] <= 260 * MS, e
        assert e["cpu_user_ns"] + e["cpu_system_ns"] < 20 * MS, e
        assert e["runq_wait_ns"] < 20 * MS, e

    @r.test
    def test_wait_series_without_delay_accounting(ctx):
        assert not delayacct(), "kernel.task_delayacct is on: cannot test it off"
        tool = ctx.work.tool("tw_wait")
        name = os.path.basename(tool)
        agent = Agent(ctx.binary).start()  # the suite's may have reached --tools.max
        own, _ = run_tool(tool, ["cpu", "50"])
        m = agent.wait_value("tool_executions_total", 1, tool=name)
        assert agent.stop() == 0
        assert m.get("toolwatch_delay_accounting_enabled") == 0
        assert m.get("toolwatch_probe_enabled", probe="delayacct") == 0
        keys = [dict(k[1]) for k in m.samples if k[0] == "tool_wait_seconds_total"]
        assert {"tool": name, "reason": "runqueue"} in keys, keys
        # absent, not zero: nothing measures block I/O wait while accounting is off
        assert not [k for k in keys if k["reason"] == "blkio"], keys
        got = m.get("tool_wait_seconds_total", tool=name, reason="runqueue") * 1e9
        assert close(got, own), (got, own)

    @r.test
    def test_wait_blkio_with_delayacct_probe(ctx):
        assert not delayacct(), "kernel.task_delayacct is on already"
        agent = Agent(ctx.binary, ["--probe.enable=delayacct"]).start()
        try:
            assert delayacct(), "--probe.enable=delayacct did not turn accounting on"
            tool = ctx.work.tool("tw_wait")
            name = os.path.basename(tool)
            path = os.path.join(ctx.work.dir, "twsync.%d" % os.getpid())
            own_runq, own_blkio = run_tool(tool, ["sync", path, "4000"])
            m = agent.wait_value("tool_executions_total", 1, tool=name)
            assert m.get("toolwatch_delay_accounting_enabled") == 1
            assert m.get("toolwatch_probe_enabled", probe="delayacct") == 1
            got = m.get("tool_wait_seconds_total", tool=name, reason="blkio") * 1e9
            print("  blkio %.1f ms vs delayacct_blkio_ticks %.1f ms" % (got / MS, own_blkio / MS))
            assert own_blkio >= 100 * MS, "too little block I/O wait to compare: %d" % own_blkio
            # the ticks are truncated to 10 ms: allow one tick on top of 10%
            assert abs(got - own_blkio) <= 0.10 * own_blkio + 10 * MS, (got, own_blkio)
            got = m.get("tool_wait_seconds_total", tool=name, reason="runqueue") * 1e9
            assert close(got, own_runq), (got, own_runq)
        finally:
            rc = agent.stop()
        assert rc == 0, agent.read_log()[-2000:]
        assert not delayacct(), "kernel.task_delayacct not restored at exit"
        assert "delay accounting restored" in agent.read_log()


class CpuLoop(threading.Thread):
    """Runs `tw_wait cpu MS` over and over, pinned to one CPU; ms may change meanwhile."""

    def __init__(self, tool, ms, cpu):
        super().__init__(daemon=True)
        self.tool, self.ms, self.cpu = tool, ms, cpu
        self.stop = False

    def run(self):
        while not self.stop:
            subprocess.run([self.tool, "cpu", str(self.ms)], stdout=subprocess.DEVNULL,
                           preexec_fn=pinned(self.cpu))


def wait_causes(agent, tools, timeout):
    """{tool: cause} of LATENCY_DEGRADATION flags raised on tools, once all are or time is up.
    Reads only the cause lines, split at \\n alone: other processes on the host may have
    names holding characters that str.splitlines() would break at."""
    got = {}
    deadline = time.time() + timeout
    while time.time() < deadline and len(got) < len(tools):
        status, _, body = http_get(agent.url + "/metrics")
        assert status == 200, status
        for line in body.decode("utf-8").split("\n"):
            if not line.startswith("tool_anomaly_cause{") or not line.endswith("} 1"):
                continue
            labels = {k: unescape(v) for k, v in LABEL.findall(line)}
            if labels.get("tool") in tools and labels.get("kind") == "LATENCY_DEGRADATION":
                got[labels["tool"]] = labels["cause"]
        time.sleep(0.25)
    return got


def register_causes(r):
    @r.test
    def test_wait_anomaly_cause_runqueue_and_cpu(ctx):
        cpus = sorted(os.sched_getaffinity(0))
        assert len(cpus) >= 2, "needs two CPUs: one contended, one not"
        contended = ctx.work.tool("tw_wait")
        compute = ctx.work.tool("tw_wait")
        c_name, p_name = os.path.basename(contended), os.path.basename(compute)
        agent = Agent(ctx.binary, ANOMALY_FLAGS).start()
        loops = [CpuLoop(contended, 20, cpus[0]), CpuLoop(compute, 10, cpus[1])]
        h = None
        try:
            for lp in loops:
                lp.start()
            time.sleep(8 * WINDOW_S + 5)  # learn
            m = agent.scrape()
            assert m.get("tool_anomaly", tool=c_name, kind="LATENCY_DEGRADATION",
                         severity="high") == 0
            # first the one computes 4x more (its CPU is as busy as before) ...
            loops[1].ms = 40
            got = wait_causes(agent, [p_name], 6 * WINDOW_S + 5)
            # ... then the same work of the other waits behind three hogs on its CPU (they
            # push everything else onto the other CPU: hence one after the other): about
            # four times its usual duration, well past the latency ratio even where
            # process start-up is a large share of it
            h = [hog(ctx, cpus[0]) for _ in range(3)]
            got.update(wait_causes(agent, [c_name], 10 * WINDOW_S + 5))
            print("  causes: %s" % got)
            assert got.get(c_name) == "runqueue", (got, agent.read_log()[-2000:])
            assert got.get(p_name) == "cpu", (got, agent.read_log()[-2000:])
            log = agent.read_log()
            assert "tool='%s' kind=LATENCY_DEGRADATION severity=high" % c_name in log, log
            assert "cause=runqueue" in log, log
        finally:
            for p in h or []:
                p.kill()
                p.wait()
            for lp in loops:
                lp.stop = True
            for lp in loops:
                lp.join()
            assert agent.stop() == 0
