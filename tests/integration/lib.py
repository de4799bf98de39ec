# SPDX-License-Identifier: GPL-2.0
"""Shared pieces of the root integration tests: the agent under test, scraping and
parsing /metrics, workloads with unique tool names, and a small PASS/FAIL/SKIP runner."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request


class Skip(Exception):
    """A test that cannot run here; under CI=true it counts as a failure."""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    """The resident set of process pid, KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def is_asan(binary):
    """Whether binary was built with AddressSanitizer (its quarantine holds freed memory)."""
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def http_get(url, method="GET", timeout=5.0, data=None):
    """Returns (status, headers, body) without raising on HTTP errors."""
    req = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def unescape(v):
    out, i = [], 0
    while i < len(v):
        if v[i] == "\\" and i + 1 < len(v):
            out.append({"n": "\n", "\\": "\\", '"': '"'}.get(v[i + 1], v[i + 1]))
            i += 2
        else:
            out.append(v[i])
            i += 1
    return "".join(out)


def parse_metrics(text):
    """{(name, frozenset(labels)): float} of a text-format scrape."""
    out = {}
    # lines end at "\n" only: str.splitlines() would also split inside a label value at
    # U+2028, \x1c, \x85 ... (a host-wide agent sees every name any process on the host uses)
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise AssertionError("unparsable exposition line: %r" % line)
        labels = frozenset((k, unescape(v)) for k, v in _LABEL.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


class Metrics:
    def __init__(self, text):
        self.text = text
        self.samples = parse_metrics(text)

    def get(self, name, **labels):
        """Value of the series with exactly these labels, 0 when absent."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def series(self, name):
        return {dict(k[1]).get("tool", ""): v for k, v in self.samples.items() if k[0] == name}

    def tools(self):
        return set(self.series("tool_executions_total"))


class Agent:
    """The real agent, started as a child process on a free loopback port."""

    def __init__(self, binary, args=(), log_path=None, state_dir=None, env=None):
        self.binary = binary
        self.env = env  # None: the test's own environment
        self.port = free_port()
        # never touch the host's /var/lib/toolwatch from a test
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="twstate.")
        self.args = ["--web.listen-address=127.0.0.1:%d" % self.port,
                     "--state.dir=" + self.state_dir] + list(args)
        # a test's agent sees every execution on a shared machine: a series budget far above
        # the default keeps other workloads' tools and pods from folding the test's own into
        # "other" (tests of the budget give --metrics.max-series themselves)
        if not any(a.startswith("--metrics.max-series") for a in self.args):
            self.args.append("--metrics.max-series=100000000")
        self.log_path = log_path or tempfile.mktemp(prefix="toolwatch-agent-", suffix=".log")
        self.proc = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def healthy(self):
        """True once /healthz answers 200."""
        try:
            return http_get(self.url + "/healthz", timeout=1)[0] == 200
        except OSError:
            return False

    def start(self, timeout=20.0):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([self.binary] + self.args, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=self.env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("agent exited with %d: %s" % (self.proc.returncode,
                                                                   self.read_log()[-2000:]))
            if self.healthy():
                return self
            time.sleep(0.05)
        raise AssertionError("agent not healthy after %.0fs: %s" % (timeout, self.read_log()))

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def scrape(self):
        try:
            status, headers, body = http_get(self.url + "/metrics")
        except OSError as e:
            # a reset or early close: say whether the agent lives and what it last said
            alive = self.proc is not None and self.proc.poll() is None
            try:  # the server's own account: cut at the header deadline, refused...
                own = [ln for ln in http_get(self.url + "/metrics")[2].decode().split("\n")
                       if ln.startswith("toolwatch_http_")]
            except OSError as again:
                own = ["a second scrape failed too: %r" % again]
            raise AssertionError("scrape of %s failed: %r; agent %s; %s; its log ends:\n%s"
                                 % (self.url, e, "alive" if alive else "exited %s"
                                    % (self.proc and self.proc.returncode),
                                    ", ".join(own), self.read_log()[-2000:])) from e
        assert status == 200, "scrape returned %d" % status
        return Metrics(body.decode("utf-8"))

    def stop(self):
        """SIGTERM; returns the exit status."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise AssertionError("agent ignored SIGTERM for 15s")
        self.log.close()
        return rc

    def wait_value(self, name, expected, timeout=10.0, **labels):
        """Scrapes until the series reaches expected (or more); returns the last scrape."""
        deadline = time.time() + timeout
        while True:
            m = self.scrape()
            if m.get(name, **labels) >= expected or time.time() > deadline:
                return m
            time.sleep(0.05)


class Workdir:
    """A temp dir holding helper binaries copied under unique names (unique tools)."""

    def __init__(self, helpers):
        self.helpers = helpers
        self.dir = tempfile.mkdtemp(prefix="twtest.")
        self.seq = 0

    def tool(self, helper, stem=None):
        """Copies helper to a uniquely named executable; returns its path."""
        self.seq += 1
        name = stem if stem is not None else "%s_%d_%d" % (helper, os.getpid(), self.seq)
        path = os.path.join(self.dir, name)
        shutil.copy(os.path.join(self.helpers, helper), path)
        os.chmod(path, 0o755)
        return path

    def tool_from(self, src, name):
        """Copies any executable src to name in the work dir; returns its path."""
        path = os.path.join(self.dir, name)
        shutil.copy(src, path)
        os.chmod(path, 0o755)
        return path

    def spawn(self, count, argv):
        """Runs argv count times through tw_spawn; returns its own measurements."""
        out = subprocess.run([os.path.join(self.helpers, "tw_spawn"), str(count)] + list(argv),
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Runner:
    def __init__(self):
        self.tests = []

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def run(self, ctx, only=None):
        ci = os.environ.get("CI") == "true"
        passed = failed = skipped = 0
        for fn in self.tests:
            if only and not any(o in fn.__name__ for o in only):
                continue
            t0 = time.time()
            try:
                fn(ctx)
            except Skip as e:
                if ci:
                    failed += 1
                    print("FAIL %s (skipped under CI=true: %s)" % (fn.__name__, e), flush=True)
                else:
                    skipped += 1
                    print("SKIP %s: %s" % (fn.__name__, e), flush=True)
                continue
            except Exception:  # noqa: BLE001 - any exception is a failed test
                failed += 1
                print("FAIL %s" % fn.__name__, flush=True)
                traceback.print_exc(file=sys.stdout)
                continue
            passed += 1
            print("PASS %s (%.1fs)" % (fn.__name__, time.time() - t0), flush=True)
        print("integration: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
        return failed == 0
