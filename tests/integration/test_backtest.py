# SPDX-License-Identifier: GPL-2.0
"""`toolwatch backtest` against a real Prometheus that scraped the live agent, and its
refusals of bad input."""

import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse

from lib import Agent, Skip, free_port, http_get

WINDOW_S = 6
# the same --anomaly.* flags for the agent and the backtest: short windows, quick learning
ANOMALY = ["--anomaly.window=%ds" % WINDOW_S, "--anomaly.min-windows=8",
           "--anomaly.min-samples=50"]


class Loop(threading.Thread):
    """Runs a tool over and over, each run sleeping sleep_ms."""

    def __init__(self, tool, sleep_ms):
        super().__init__(daemon=True)
        self.tool, self.sleep_ms, self.stop = tool, sleep_ms, False

    def run(self):
        while not self.stop:
            subprocess.run([self.tool, "0", str(self.sleep_ms)])


def start_prometheus(target_port):
    tmp = tempfile.mkdtemp(prefix="twprom.")
    port = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: toolwatch\n    static_configs:\n"
                "      - targets: ['127.0.0.1:%d']\n" % target_port)
    prom = subprocess.Popen(["prometheus", "--config.file=" + cfg,
                             "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                             "--web.listen-address=127.0.0.1:%d" % port],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d" % port
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if http_get(url + "/-/ready", timeout=1)[0] == 200:
                return prom, url, tmp
        except OSError:
            pass
        time.sleep(0.2)
    prom.kill()
    raise AssertionError("prometheus not ready within 30s")


def raise_time(agent, tool, kind):
    """The agent's log time (Unix seconds) of the first raise of kind for tool, or None."""
    pat = re.compile(r"^ts=(\S+) .*anomaly raised: tool='%s' kind=%s" % (re.escape(tool), kind))
    for line in agent.read_log().splitlines():
        m = pat.search(line)
        if m:
            ts = m.group(1).rstrip("Z")
            sec, _, ms = ts.partition(".")
            t = time.strptime(sec, "%Y-%m-%dT%H:%M:%S")
            return __import__("calendar").timegm(t) + int(ms or 0) / 1000.0
    return None


def backtest(ctx, *args):
    return subprocess.run([ctx.binary, "backtest"] + list(args), capture_output=True,
                          text=True, timeout=120)


def register(r):
    @r.test
    def test_backtest_prometheus_raises_in_the_agents_window(ctx):
        if not shutil.which("prometheus"):
            raise Skip("prometheus not installed (make deps-test)")
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        started = time.time()
        agent = Agent(ctx.binary, ANOMALY + ["--state.save-interval=0",
                                             "--log.format=logfmt"]).start()
        prom, url, tmp = start_prometheus(agent.port)
        loop = Loop(tool, 10)
        try:
            loop.start()
            time.sleep(8 * WINDOW_S + 8)  # learn: 8 windows, and slack for the first
            assert raise_time(agent, name, "LATENCY_DEGRADATION") is None
            loop.sleep_ms = 60  # 10 ms -> 60 ms
            deadline = time.time() + 6 * WINDOW_S
            raised = None
            while raised is None and time.time() < deadline:
                time.sleep(0.5)
                raised = raise_time(agent, name, "LATENCY_DEGRADATION")
            assert raised, "the agent did not raise LATENCY_DEGRADATION for %s" % name
            time.sleep(WINDOW_S + 3)  # Prometheus scrapes what the agent closed
            # window ends on the agent's grid: its close times are the raise time - k x W,
            # at whole seconds (Prometheus answers at the latest scrape up to each)
            end = math.ceil(raised)
            back = int((end - started) // WINDOW_S) - 1
            start = end - back * WINDOW_S
            out = backtest(ctx, "--prometheus.url=" + url, "--tool=" + name,
                           "--start=%d" % start, "--end=%d" % (end + WINDOW_S),
                           "--json", *ANOMALY)
            assert out.returncode == 0, out.stderr
            res = json.loads(out.stdout)
            ups = [e for e in res["events"]
                   if e["kind"] == "LATENCY_DEGRADATION" and e["state"] == "raised"]
            assert ups, "backtest raised no LATENCY_DEGRADATION: %s" % out.stdout
            off = (ups[0]["unix"] - end) / WINDOW_S
            print("  agent raised at window end %d, backtest at %d (%+.0f windows), ratio %.3g"
                  % (end, ups[0]["unix"], off, ups[0]["ratio"]))
            # the same window; one off only when a scrape straddles the agent's close
            assert abs(off) <= 1, (off, out.stdout)
            assert len(ups) == 1, out.stdout
            text = backtest(ctx, "--prometheus.url=" + url, "--tool=" + name,
                            "--start=%d" % start, "--end=%d" % (end + WINDOW_S), *ANOMALY)
            assert text.returncode == 0 and "raised   LATENCY_DEGRADATION" in text.stdout, \
                text.stdout + text.stderr
        finally:
            loop.stop = True
            loop.join(timeout=5)
            prom.terminate()
            prom.wait(timeout=30)
            agent.stop()
            shutil.rmtree(tmp, ignore_errors=True)

    @r.test
    def test_backtest_bad_input_one_line_and_status(ctx):
        tmp = tempfile.mkdtemp(prefix="twbt.")
        try:
            port = free_port()  # nothing listens there
            out = backtest(ctx, "--prometheus.url=http://127.0.0.1:%d" % port, "--tool=x")
            assert out.returncode == 1, out
            assert out.stderr.count("\n") == 1 and "cannot query" in out.stderr, out.stderr
            bad = os.path.join(tmp, "bad.csv")
            with open(bad, "w") as f:
                f.write("timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,x\n")
            out = backtest(ctx, "--file=" + bad)
            assert out.returncode == 1 and out.stderr.count("\n") == 1, out
            assert "line 3" in out.stderr, out.stderr
            out = backtest(ctx, "--file=" + bad, "--anomaly.bogus=1")
            assert out.returncode == 2 and out.stderr.count("\n") == 1, out
            good = os.path.join(tmp, "good.csv")
            with open(good, "w") as f:
                f.write("timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,2\n")
            out = backtest(ctx, "--file=" + good, "--anomaly.window=1m")
            assert out.returncode == 2 and "cannot resolve" in out.stderr, out
            assert out.stderr.count("\n") == 1, out
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
