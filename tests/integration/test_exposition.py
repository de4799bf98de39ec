# SPDX-License-Identifier: GPL-2.0
"""/metrics is valid and reads right: promtool, the HTTP endpoints, cumulative
histogram buckets, label values of hostile and colliding tool names (one series per
distinct name), and a real Prometheus computing histogram_quantile."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from lib import Agent, Skip, http_get
from test_trace import Trace, json_events

# Distinct names that a lossy encoding (U+FFFD for invalid bytes, controls dropped) would
# render alike: the first four would all read U+FFFD U+FFFD.
COLLIDING = [b"\xff\xfe", b"\xfe\xff", b"\xff\xff", "\ufffd\ufffd".encode(),
             b"\\xff\\xfe", b"\\\\xff\\xfe", b"tw\x1b[31mred", b"tw\ttab", b"tw\rcr",
             b"tw\\tab", "tw\u202eevil".encode()]


def visible(name):
    """The label value docs/naming.md promises for the bytes of name."""
    out, i = [], 0
    while i < len(name):
        b = name[i]
        if b == 0x5c:
            out.append("\\\\")
            i += 1
            continue
        if b in (0x09, 0x0a, 0x0d):
            out.append({0x09: "\\t", 0x0a: "\\n", 0x0d: "\\r"}[b])
            i += 1
            continue
        if 0x20 <= b < 0x7f:
            out.append(chr(b))
            i += 1
            continue
        n = 2 if 0xc2 <= b <= 0xdf else 3 if 0xe0 <= b <= 0xef else 4 if 0xf0 <= b <= 0xf4 else 0
        for n in (n,) if n else ():
            try:
                ch = name[i:i + n].decode("utf-8")
            except UnicodeDecodeError:
                continue
            cp = ord(ch)
            hazard = (0x80 <= cp <= 0x9f or cp in (0x61c, 0x200e, 0x200f)
                      or 0x2028 <= cp <= 0x202e or 0x2066 <= cp <= 0x2069)
            out.append("".join("\\x%02x" % c for c in name[i:i + n]) if hazard else ch)
            i += n
            break
        else:
            out.append("\\x%02x" % b)
            i += 1
    return "".join(out)


def register(r):
    @r.test
    def test_promtool_check_metrics(ctx):
        if not shutil.which("promtool"):
            raise Skip("promtool not installed (make deps)")
        text = ctx.agent.scrape().text
        p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True)
        assert p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(), \
            (p.returncode, p.stdout, p.stderr)

    @r.test
    def test_http_endpoints(ctx):
        status, headers, body = http_get(ctx.agent.url + "/metrics")
        assert status == 200
        assert headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"), headers
        assert b"# TYPE tool_execution_duration_seconds histogram" in body
        status, headers, body = http_get(ctx.agent.url + "/")
        assert status == 200 and b'href="/metrics"' in body
        assert http_get(ctx.agent.url + "/healthz")[0] == 200
        assert http_get(ctx.agent.url + "/nope")[0] == 404
        status, headers, _ = http_get(ctx.agent.url + "/metrics", method="POST", data=b"x=1")
        assert status == 405 and "GET" in headers.get("Allow", ""), (status, headers)
        assert http_get(ctx.agent.url + "/metrics", method="HEAD")[0] == 200

    @r.test
    def test_histogram_buckets_cumulative_and_end_in_count(ctx):
        m = ctx.agent.scrape()
        by_tool = {}
        for (name, labels), v in m.samples.items():
            if name == "tool_execution_duration_seconds_bucket":
                d = dict(labels)
                le = float("inf") if d["le"] == "+Inf" else float(d["le"])
                by_tool.setdefault(d["tool"], []).append((le, v))
        assert by_tool
        for tool, buckets in by_tool.items():
            buckets.sort()
            values = [v for _, v in buckets]
            assert values == sorted(values), tool
            assert buckets[-1][0] == float("inf")
            assert values[-1] == m.get("tool_execution_duration_seconds_count", tool=tool)
            assert buckets[-2][0] >= 600, "buckets must reach 10 minutes"
            assert buckets[0][0] <= 0.0001

    @r.test
    def test_hostile_tool_name(ctx):
        stem = b'tw"q\\b\nl\xff_%d' % os.getpid()
        path = os.path.join(ctx.work.dir.encode(), stem)
        shutil.copy(os.path.join(ctx.work.helpers, "tw_exit"), path)
        os.chmod(path, 0o755)
        ctx.work.spawn(2, [path.decode("utf-8", "surrogateescape")])
        # the visible form: \ doubled, newline as \n, the invalid byte as \xff
        expected = 'tw"q\\\\b\\nl\\xff_%d' % os.getpid()
        m = ctx.agent.wait_value("tool_executions_total", 2, tool=expected)
        assert m.get("tool_executions_total", tool=expected) == 2, sorted(m.tools())[:20]
        assert 'tool="tw\\"q\\\\\\\\b\\\\nl\\\\xff_' in m.text
        if shutil.which("promtool"):
            p = subprocess.run(["promtool", "check", "metrics"], input=m.text,
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stdout + p.stderr

    @r.test
    def test_prometheus_server_histogram_quantile(ctx):
        if not shutil.which("prometheus"):
            raise Skip("prometheus not installed (make deps)")
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        tmp = tempfile.mkdtemp(prefix="twprom.")
        port = __import__("lib").free_port()
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: toolwatch\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % ctx.agent.port)
        prom = subprocess.Popen(["prometheus", "--config.file=" + cfg,
                                 "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                                 "--web.listen-address=127.0.0.1:%d" % port],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        load = subprocess.Popen(["/bin/sh", "-c", "while :; do %s 0 3; done" % tool])
        try:
            query = ('histogram_quantile(0.95, rate(tool_execution_duration_seconds_bucket'
                     '{tool="%s"}[1m]))' % name)
            deadline = time.time() + 60
            result = None
            while time.time() < deadline:
                time.sleep(1)
                url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (
                    port, __import__("urllib.parse").parse.quote(query))
                try:
                    status, _, body = http_get(url, timeout=3)
                except OSError:
                    continue
                if status != 200:
                    continue
                data = json.loads(body)["data"]["result"]
                if data and data[0]["value"][1] not in ("NaN",):
                    result = data
                    break
            assert result, "no histogram_quantile series for %s within 60s" % name
            p95 = float(result[0]["value"][1])
            assert 0.003 <= p95 <= 0.025, p95  # runs sleep 3 ms
        finally:
            load.kill()
            prom.terminate()
            prom.wait(timeout=30)
            shutil.rmtree(tmp, ignore_errors=True)

    @r.test
    def test_colliding_names_distinct_series(ctx):
        values = [visible(n) for n in COLLIDING]
        assert len(set(values)) == len(values), values
        workdir = tempfile.mkdtemp(prefix=b"twnames.")
        # its own agent: the suite's may be at --tools.max by now
        agent = Agent(ctx.binary).start()
        try:
            paths = []
            for name in COLLIDING:
                path = os.path.join(workdir, name)
                shutil.copy(os.path.join(ctx.helpers, "tw_exit").encode(), path)
                os.chmod(path, 0o755)
                paths.append(path)
            before = agent.scrape()
            t = Trace(ctx, ["--json", "--events", "exit"]).wait_ready()
            spawn = os.path.join(ctx.helpers, "tw_spawn").encode()
            for k, path in enumerate(paths):
                subprocess.run([spawn, str(k + 1).encode(), path, b"0"], check=True,
                               capture_output=True)
            for k, value in enumerate(values):
                agent.wait_value("tool_executions_total",
                                 before.get("tool_executions_total", tool=value) + k + 1,
                                 tool=value)
            rc, out = t.finish(signal.SIGINT)
            after = agent.scrape()
            for k, value in enumerate(values):
                got = (after.get("tool_executions_total", tool=value)
                       - before.get("tool_executions_total", tool=value))
                assert got == k + 1, (value, got, k + 1)
            assert rc == 0, (rc, t.stderr())
            seen = {}
            for e in json_events(out):
                if e["tool"] in values:
                    seen[e["tool"]] = seen.get(e["tool"], 0) + 1
            assert seen == {v: k + 1 for k, v in enumerate(values)}, seen
            # no raw control character reaches the exposition
            assert not any(c in after.text for c in "\x1b\r\t\u202e"), "raw control in scrape"
            if not shutil.which("promtool"):
                raise Skip("promtool not installed (make deps)")
            p = subprocess.run(["promtool", "check", "metrics"], input=after.text,
                               capture_output=True, text=True)
            assert p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(), \
                (p.returncode, p.stdout, p.stderr)
        finally:
            assert agent.stop() == 0, agent.read_log()[-2000:]
            shutil.rmtree(workdir, ignore_errors=True)
