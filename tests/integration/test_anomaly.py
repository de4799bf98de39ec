# SPDX-License-Identifier: GPL-2.0
"""Baselines learned by the real agent, anomaly flags raised and cleared, persistence."""

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from lib import Agent

WINDOW_S = 2
FLAGS = ["--anomaly.window=%ds" % WINDOW_S, "--anomaly.min-windows=8",
         "--anomaly.min-samples=50", "--state.save-interval=0"]


class Loop(threading.Thread):
    """Runs a tool over and over: sleep_ms per run, every fail_every-th run exits 1."""

    def __init__(self, work, tool, sleep_ms, fail_every=0):
        super().__init__(daemon=True)
        self.work, self.tool = work, tool
        self.sleep_ms, self.fail_every = sleep_ms, fail_every
        self.stop = False

    def run(self):
        n = 0
        while not self.stop:
            n += 1
            code = "1" if self.fail_every and n % self.fail_every == 0 else "0"
            subprocess.run([self.tool, code, str(self.sleep_ms)])


def flag(agent, tool, kind):
    return agent.scrape().get("tool_anomaly", tool=tool, kind=kind,
                              severity={"LATENCY_DEGRADATION": "high",
                                        "FAILURE_RATE": "critical"}[kind])


def wait_flag(agent, tool, kind, want, timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if flag(agent, tool, kind) == want:
            return time.time() - t0
        time.sleep(0.25)
    raise AssertionError("%s %s did not become %d within %.0fs" % (tool, kind, want, timeout))


def register(r):
    @r.test
    def test_anomaly_latency_failure_and_persistence(ctx):
        slow = ctx.work.tool("tw_exit")
        flaky = ctx.work.tool("tw_exit")
        s_name, f_name = os.path.basename(slow), os.path.basename(flaky)
        agent = Agent(ctx.binary, FLAGS).start()
        loops = [Loop(ctx.work, slow, 10), Loop(ctx.work, flaky, 4)]
        try:
            for lp in loops:
                lp.start()
            # learn: 8 windows of 2 s, plus slack for the first partial window
            time.sleep(8 * WINDOW_S + 5)
            assert flag(agent, s_name, "LATENCY_DEGRADATION") == 0
            assert flag(agent, f_name, "FAILURE_RATE") == 0
            assert "tool_anomaly_deviation_ratio" in agent.scrape().text

            # the slow tool now takes ~50 ms, the flaky one fails 20% of its runs
            loops[0].sleep_ms = 50
            loops[1].fail_every = 5
            changed = time.time()
            delay = wait_flag(agent, s_name, "LATENCY_DEGRADATION", 1, 3 * WINDOW_S + 3)
            print("  LATENCY_DEGRADATION raised %.1fs (%.1f windows) after the change"
                  % (delay, delay / WINDOW_S))
            wait_flag(agent, f_name, "FAILURE_RATE", 1, 4 * WINDOW_S + 3)
            print("  FAILURE_RATE raised within %.1fs of the change" % (time.time() - changed))
            m = agent.scrape()
            assert m.get("tool_anomalies_total", tool=s_name, kind="LATENCY_DEGRADATION") >= 1
            assert m.get("tool_anomaly_deviation_ratio", tool=s_name,
                         kind="LATENCY_DEGRADATION") > 1.5
            assert "anomaly raised: tool='%s' kind=LATENCY_DEGRADATION" % s_name \
                in agent.read_log()
            # it sleeps longer: neither CPU nor a wait for a CPU or the disk
            assert m.get("tool_anomaly_cause", tool=s_name, kind="LATENCY_DEGRADATION",
                         cause="other") == 1, [k for k in m.samples if k[0] ==
                                               "tool_anomaly_cause"]

            # recovery
            loops[0].sleep_ms = 10
            loops[1].fail_every = 0
            delay = wait_flag(agent, s_name, "LATENCY_DEGRADATION", 0, 8 * WINDOW_S + 3)
            print("  LATENCY_DEGRADATION cleared %.1fs after recovery" % delay)
            wait_flag(agent, f_name, "FAILURE_RATE", 0, 8 * WINDOW_S + 3)
        finally:
            for lp in loops:
                lp.stop = True
            for lp in loops:
                lp.join()
            assert agent.stop() == 0
        assert os.path.exists(os.path.join(agent.state_dir, "baselines.v1"))
        # flags all cleared at this save: keep a copy for the trace below
        recovered = tempfile.mkdtemp(prefix="twstate.")
        shutil.copy(os.path.join(agent.state_dir, "baselines.v1"), recovered)

        # restart on the same state: the baseline is there, no re-learning period
        agent2 = Agent(ctx.binary, FLAGS, state_dir=agent.state_dir).start()
        lp = Loop(ctx.work, slow, 50)
        try:
            assert "loaded baselines of" in agent2.read_log(), agent2.read_log()
            m = agent2.scrape()
            assert ("tool_anomaly", frozenset({"tool": s_name, "kind": "LATENCY_DEGRADATION",
                                               "severity": "high"}.items())) in m.samples
            lp.start()
            delay = wait_flag(agent2, s_name, "LATENCY_DEGRADATION", 1, 3 * WINDOW_S + 3)
            print("  after restart, LATENCY_DEGRADATION raised %.1fs after start" % delay)
        finally:
            lp.stop = True
            lp.join()
            assert agent2.stop() == 0

        # toolwatch trace judges its own windows against the same saved baselines
        state = os.path.join(recovered, "baselines.v1")
        before = open(state, "rb").read()
        trace = subprocess.Popen(
            [ctx.binary, "trace", "--events", "anomaly", "--json", "--duration", "12s",
             "--state.dir=" + recovered] + [f for f in FLAGS if "save" not in f],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        lp = Loop(ctx.work, slow, 50)
        lp.start()
        try:
            out, err = trace.communicate(timeout=30)
        finally:
            lp.stop = True
            lp.join()
        assert trace.returncode == 0, err
        assert "baselines of" in err, err
        events = [json.loads(line) for line in out.splitlines()]
        # learning from scratch would take 8 windows (16 s), longer than the trace ran
        raised = [e for e in events if e["event"] == "anomaly" and e["tool"] == s_name and
                  e["kind"] == "LATENCY_DEGRADATION" and e["state"] == "raised"]
        assert raised, (events, err)
        assert raised[0]["severity"] == "high" and raised[0]["deviation_ratio"] > 1.5, raised
        assert raised[0]["cause"] == "other", raised
        assert open(state, "rb").read() == before, "trace must not write the agent's state"

    @r.test
    def test_corrupt_state_file_is_ignored(ctx):
        agent = Agent(ctx.binary, FLAGS)
        with open(os.path.join(agent.state_dir, "baselines.v1"), "wb") as f:
            f.write(b"\x00garbage" * 100)
        agent.start()
        try:
            assert "ignoring saved baselines" in agent.read_log(), agent.read_log()
            m = agent.scrape()
            assert any(k[0] == "toolwatch_build_info" and ("version", "0.1.0") in k[1] and v == 1
                       for k, v in m.samples.items()), m.text[-2000:]
        finally:
            assert agent.stop() == 0
        # a fresh, valid file replaced it at exit
        with open(os.path.join(agent.state_dir, "baselines.v1"), "rb") as f:
            assert not f.read().startswith(b"\x00garbage")
