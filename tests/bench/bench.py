#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""toolwatch benchmark: overhead, capacity, cost and freshness, side by side.

usage: bench.py --bin build/toolwatch --helpers build/helpers --out build/bench.json [--quick]
               [--floor build/floor] [--only SECTION ...] [--base-bin B --base-name REF]

Modes compared on the same workloads, alternating A B A B ... over rounds (medians):
  none       no BPF of ours attached
  floor      build/floor: empty programs on exactly the agent's tracepoints
  base       with --base-bin (make bench BASE=<git ref>): the agent built from another
             commit, run alternately with the current one in the same rounds ("before")
  agent      build/toolwatch with default settings, scraped every second
  exitsnoop  libbpf-tools exitsnoop > /dev/null             (exec storm only)
  bpftrace   a process-age-at-exit histogram one-liner        (exec storm only)
Overheads are medians of per-round ratios against the none run of the same round: absolute
times drift on shared machines, back-to-back ratios hold. Beside wall-clock figures, the CPU
time per unit of work (workload plus the monitor's own process) and, from the kernel's BPF
run-time statistics, the in-kernel time per exec / round trip / MB: the latter does not
depend on what else the machine is doing; with them, the ring-buffer bytes per execution
(the producer position of the agent's ring buffer, before and after each workload).
Nothing here asserts a timing; targets are printed
as OK/MISS beside the figures. A peer that cannot run is printed as n/a with the reason and
written as null, never estimated. Other processes with BPF on tracepoints (another agent)
skew every mode: runs wait briefly for them to go, and are flagged and left out if they
stay (while two clean rounds remain).
  rules      --tools.rules with 50 process-exporter rules: the user-space naming cost per
             execution (build/bench_rules, same code as the agent's), and the agent's CPU
             per exec with and without the file
  idle, execfail: see sections_sleep.py (agent CPU at 1 s and 15 s scrape intervals;
             failed-exec families' per-syscall cost and coverage)
Sections: overhead capacity cost scrape bpf_cost peers rules labels net idle execfail
(all by default).
"""

import argparse
import ctypes
import http.client
import json
import math
import mmap
import os
import platform
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from lib import Agent, free_port  # noqa: E402
import sections_sleep  # noqa: E402

FULL = dict(
    rounds=3,               # at least; more while the overhead budget allows
    rounds_max=5,
    overhead_budget_s=380.0,
    storm_n=20000,          # executions per exec storm
    tcp_s=3.0,              # seconds per ping-pong / bulk run
    cap_rates=[500, 1000, 2000, 5000, 0],  # exec/s ramp; 0 = as fast as the machine goes
    cap_step_s=3.0,
    rss_tools=(1000, 10000),
    series=10000,
    scrape_idle=300,
    scrape_storm_s=6.0,
    fresh=200,
    stats_storm=5000,
    stats_tcp_s=2.0,
    net_rounds=7,           # rounds of the network-path section (noisy: ratios per round)
    net_tcp_s=1.5,
    peer_n=1000,
    idle_s=3,               # agent CPU while idle (scraped every second)
    quiet_wait_s=5.0,       # wait this long for other processes' BPF to go before a run
)
QUICK = dict(FULL, rounds=3, rounds_max=4, overhead_budget_s=55.0, storm_n=2000, tcp_s=1.0,
             cap_rates=[500, 2000, 5000, 0], cap_step_s=1.0, scrape_idle=100, scrape_storm_s=2.0, fresh=50, stats_storm=1000,
             stats_tcp_s=1.0, net_rounds=3, net_tcp_s=1.0, peer_n=300, idle_s=2,
             quiet_wait_s=0.5)

TARGETS = {  # the minimum bar (docs/performance.md); printed, never asserted
    "exec_storm": 2.0, "tcp_pingpong": 3.0, "tcp_bulk": 1.0, "no_loss_rate": 5000,
    "cpu_s_per_1000_exec": 0.05, "rss_1000_tools": 32 << 20, "scrape_p99_ms": 10.0,
    "freshness_p99_ms": 100.0, "rules_50_added_us": 2.0,
}
SMALL_RINGBUF = 4096
# the hooks an execution's life runs through: their BPF time per execution is the exec
# path's cost, whatever else (other processes' traffic) hits the other hooks meanwhile
EXEC_PATH_TPS = {"sched_process_exec", "sched_process_exit", "sched_process_fork",
                 "sched_process_free", "sched_switch", "sys_enter_execve", "sys_exit_execve",
                 "sys_enter_execveat", "sys_exit_execveat", "sched_prepare_exec", "exit_timer"}
BPFTRACE_PROG = ("tracepoint:sched:sched_process_exit "
                 "{ @age_us = hist((nsecs - curtask->start_time) / 1000); }")
NCPU = os.cpu_count() or 1
CLK_TCK = os.sysconf("SC_CLK_TCK")


def rules50_yaml():
    """50 rules in process-exporter's format: comm, exe and cmdline (regex) selectors."""
    lines = ["process_names:"]
    for i in range(20):
        lines += ['  - name: "svc%d:{{.Comm}}"' % i, "    comm: [daemon%d, worker%d]" % (i, i)]
    for i in range(15):
        lines += ["  - exe: [/opt/app%d/bin/server, app%d-cli]" % (i, i)]
    for i in range(15):
        lines += ['  - name: "job%d:{{.Matches.queue}}"' % i,
                  "    cmdline: ['--queue[= ](?P<queue>q%d\\w*)']" % i]
    return "\n".join(lines) + "\n"


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---- processes and /proc ------------------------------------------------------------------

def cpu_seconds(pid):
    """CPU time of a process in seconds: nanoseconds from its live threads' schedstat
    (utime/stime tick at 1/CLK_TCK, too coarse for short runs); stat when that is larger
    (it also holds threads that have exited)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = (int(fields[11]) + int(fields[12])) / CLK_TCK
    ns = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                ns += int(f.read().split()[0])
    except OSError:
        return ticks
    return max(ns / 1e9, ticks) if ticks - ns / 1e9 > 2.0 / CLK_TCK else ns / 1e9


def rss_bytes(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def run_json(argv, timeout):
    """Runs a driver that prints one JSON object; raises with its stderr on failure."""
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    lines = p.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError("%s failed (%d): %s" % (os.path.basename(argv[0]), p.returncode,
                                                   p.stderr.strip()[-500:]))
    return json.loads(lines[-1])


def bpftool_json(*args):
    p = subprocess.run(["bpftool", "-j"] + list(args), capture_output=True, text=True,
                       timeout=30)
    if p.returncode:
        raise RuntimeError("bpftool %s: %s" % (" ".join(args), p.stderr.strip()))
    return json.loads(p.stdout or "[]")


def attachments(pid=None):
    """{pid: {tracepoint: prog_id}} of tracepoint-attached programs (bpftool perf show)."""
    out = {}
    for e in bpftool_json("perf", "show"):
        if "tracepoint" in e and (pid is None or e["pid"] == pid):
            out.setdefault(e["pid"], {})[e["tracepoint"]] = e["prog_id"]
    return out


def progs_by_id():
    return {p["id"]: p for p in bpftool_json("prog", "show")}


def prog_fds(pid):
    """Ids of the BPF programs a process holds file descriptors to."""
    ids = set()
    d = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as f:
                m = re.search(r"^prog_id:\s*(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m:
            ids.add(int(m.group(1)))
    return ids


def comm_of(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


# ---- ring-buffer bytes --------------------------------------------------------------------

BPF_MAP_GET_FD_BY_ID = 14
BPF_MAP_TYPE_RINGBUF = 27
NR_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
PAGE = mmap.PAGESIZE
_libc = ctypes.CDLL(None, use_errno=True)


def ringbuf_ids(pid):
    """Ids of the BPF ring buffers a process holds file descriptors to."""
    ids = []
    d = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as f:
                info = f.read()
        except OSError:
            continue
        if re.search(r"^map_type:\s*%d$" % BPF_MAP_TYPE_RINGBUF, info, re.M):
            ids.append(int(re.search(r"^map_id:\s*(\d+)", info, re.M).group(1)))
    return ids


def ring_produced(pid):
    """Bytes ever written to pid's BPF ring buffers, the 8-byte record headers and the
    rounding to 8 included: each buffer's producer position, read from its read-only
    mmap'ed producer page. The same for any build of the agent: no cooperation needed."""
    if NR_BPF is None:
        raise Unavailable("no bpf(2) number for %s" % platform.machine())
    total = 0
    for map_id in ringbuf_ids(pid):
        attr = (ctypes.c_uint32 * 4)(map_id, 0, 0, 0)
        fd = _libc.syscall(ctypes.c_long(NR_BPF), ctypes.c_long(BPF_MAP_GET_FD_BY_ID),
                           ctypes.byref(attr), ctypes.c_long(ctypes.sizeof(attr)))
        if fd < 0:
            raise OSError(ctypes.get_errno(), "BPF_MAP_GET_FD_BY_ID %d" % map_id)
        try:
            with mmap.mmap(fd, 2 * PAGE, mmap.MAP_SHARED, mmap.PROT_READ) as m:
                total += struct.unpack_from("<Q", m, PAGE)[0]
        finally:
            os.close(fd)
    return total


# ---- HTTP ---------------------------------------------------------------------------------

def fetch(port, path="/metrics", timeout=30.0, headers=None):
    """GET on 127.0.0.1:port; returns (seconds, body as sent)."""
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
    finally:
        c.close()
    if r.status != 200:
        raise RuntimeError("GET %s returned %d" % (path, r.status))
    return time.monotonic() - t0, body


def series_count(body):
    return sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#"))


def sample(body, name, **labels):
    """Value of one series in a scrape, found by regex (fast on huge scrapes); 0 if absent."""
    lab = ",".join('%s="%s"' % kv for kv in labels.items())
    m = re.search(rb"^" + re.escape((name + ("{%s}" % lab if lab else "")).encode()) +
                  rb" (\S+)$", body, re.M)
    return float(m.group(1)) if m else 0.0


def lost_total(body):
    return sum(float(v) for v in
               re.findall(rb"^toolwatch_events_lost_total\{[^}]*\} (\S+)$", body, re.M))


def lost_by_reason(body):
    return {k.decode(): float(v) for k, v in re.findall(
        rb'^toolwatch_events_lost_total\{reason="([^"]*)"\} (\S+)$', body, re.M)}


class Scraper(threading.Thread):
    """Scrapes a /metrics endpoint every interval seconds, like a Prometheus server."""

    def __init__(self, port, interval=1.0):
        super().__init__(daemon=True)
        self.port, self.interval = port, interval
        self.done = threading.Event()
        self.latencies, self.errors, self.last = [], 0, None

    def run(self):
        due = time.monotonic()
        while not self.done.is_set():
            try:
                dt, self.last = fetch(self.port)
                self.latencies.append(dt)
            except (OSError, RuntimeError, http.client.HTTPException):
                self.errors += 1
            due += self.interval
            self.done.wait(max(0.0, due - time.monotonic()))

    def stop(self):
        self.done.set()
        self.join(timeout=60)


# ---- modes --------------------------------------------------------------------------------

class Unavailable(Exception):
    """A mode or peer that cannot run here; the reason is printed as n/a."""


class Mode:
    name = "none"
    pid = None

    def start(self):
        return self

    def stop(self):
        pass


class FloorMode(Mode):
    name = "floor"

    def __init__(self, binary, stats=False, ring=False):
        self.binary, self.stats, self.ring = binary, stats, ring
        self.attached, self.missing, self.failed = [], [], []
        self.records = None  # with ring: the records floor consumed ("records N")

    def start(self):
        if not os.access(self.binary, os.X_OK):
            raise Unavailable("no %s (make %s)" % (self.binary, self.binary))
        # the agent's default leaves run-queue latency (runqlat) and per-call socket
        # bytes (netcalls) off; on BTF kernels its exits need neither sched_switch (a
        # timer) nor sched_process_free (sched_wakeup_new it has: its clock for exact CPU)
        skips = ["--skip", "sched_wakeup", "--skip",
                 "sched_switch", "--skip", "sched_process_free", "--skip",
                 "sock_send_length", "--skip", "sock_recv_length"]
        # failed execs (syscall tracepoints) are opt-in too
        skips += ["--skip", "sys_enter_execve", "--skip", "sys_enter_execveat",
                  "--skip", "sys_exit_execve", "--skip", "sys_exit_execveat"]
        self.proc = subprocess.Popen([self.binary] + (["--stats"] if self.stats else []) +
                                     (["--ring"] if self.ring else []) + skips,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        for line in self.proc.stdout:
            word, _, rest = line.strip().partition(" ")
            if word == "attached":
                self.attached.append(rest)
            elif word == "missing":
                self.missing.append(rest)
            elif word == "failed":
                self.failed.append(rest)
            elif word == "ready":
                return self
        raise Unavailable("floor exited: %s" % self.proc.stderr.read().strip()[-300:])

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        for line in out.splitlines():
            if line.startswith("records "):
                self.records = int(line.split()[1])


class AgentMode(Mode):
    """The agent on a free port, scraped every second by a background thread."""
    name = "agent"

    def __init__(self, binary, args=(), workdir=None, scrape_interval=1.0, name="agent"):
        self.binary, self.args, self.workdir = binary, list(args), workdir
        self.scrape_interval = scrape_interval
        self.name = name  # "base" for the agent built from --base-bin

    def start(self):
        log_path = tempfile.mktemp(prefix="agent-", suffix=".log", dir=self.workdir)
        self.agent = Agent(self.binary, self.args, log_path=log_path)
        try:
            self.agent.start()
        except AssertionError as e:
            raise Unavailable("agent did not start: %s" % str(e)[-400:])
        self.pid, self.port = self.agent.proc.pid, self.agent.port
        self.scraper = None
        if self.scrape_interval:
            self.scraper = Scraper(self.port, self.scrape_interval)
            self.scraper.start()
        return self

    def settled(self, body0, expected, tool="static_true", timeout=1.0):
        """Scrapes until tool's executions since body0 reach expected (an exit reaches
        /metrics a timer round, ~10 ms, after the task ends) or timeout; the last body."""
        deadline = time.time() + timeout
        while True:
            body = self.scrape()
            got = (sample(body, "tool_executions_total", tool=tool) -
                   sample(body0, "tool_executions_total", tool=tool))
            if got >= expected or time.time() > deadline:
                return body
            time.sleep(0.02)

    def scrape(self):
        try:
            return fetch(self.port)[1]
        except (OSError, http.client.HTTPException) as e:
            raise RuntimeError("agent unreachable (%s; %s): %s" % (
                e, "running" if self.agent.proc.poll() is None else
                "exited with %s" % self.agent.proc.returncode,
                self.agent.read_log().strip()[-300:]))

    def stop(self):
        if self.scraper:
            self.scraper.stop()
        rc = self.agent.stop()
        if rc:
            log("agent exited with status %d: %s" % (rc, self.agent.read_log()[-500:]))


class ExitsnoopMode(Mode):
    name = "exitsnoop"

    def start(self):
        exe = shutil.which("exitsnoop") or ("/usr/sbin/exitsnoop"
                                            if os.access("/usr/sbin/exitsnoop", os.X_OK) else None)
        if not exe:
            raise Unavailable("exitsnoop not installed (Debian package libbpf-tools)")
        self.proc = subprocess.Popen([exe], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        self.pid = self.proc.pid
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Unavailable("exitsnoop exited: %s" % self.proc.stderr.read().strip()[-300:])
            if attachments(self.pid):
                return self
            time.sleep(0.1)
        self.stop()
        raise Unavailable("exitsnoop attached nothing within 20s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class BpftraceMode(Mode):
    name = "bpftrace"

    def start(self):
        exe = shutil.which("bpftrace")
        if not exe:
            raise Unavailable("bpftrace not installed")
        self.proc = subprocess.Popen([exe, "-e", BPFTRACE_PROG], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        line = self.proc.stdout.readline()
        if not line.startswith("Attaching"):
            self.proc.kill()
            raise Unavailable("bpftrace did not attach: %s %s" %
                              (line.strip(), self.proc.stderr.read().strip()[-300:]))
        deadline = time.time() + 20
        while time.time() < deadline and not attachments(self.pid):
            time.sleep(0.05)
        return self

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.histogram = self.proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()


def foreign_bpf(own_pids):
    """Tracepoint programs attached by processes that are not ours (they skew every mode)."""
    try:
        att = attachments()
    except (RuntimeError, OSError, ValueError):
        return []
    return ["%s[%d] %d programs" % (comm_of(pid), pid, len(tps)) for pid, tps in att.items()
            if pid not in own_pids]


# ---- the benchmark ------------------------------------------------------------------------

def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def pct(sorted_xs, q):
    if not sorted_xs:
        return None
    return sorted_xs[min(len(sorted_xs) - 1, int(q * len(sorted_xs)))]


class Bench:
    def __init__(self, args):
        self.args = args
        self.cfg = QUICK if args.quick else FULL
        self.h = os.path.abspath(args.helpers)
        self.bin = os.path.abspath(args.bin)
        self.floor = os.path.abspath(args.floor or os.path.join(os.path.dirname(self.bin),
                                                                 "floor"))
        self.base = os.path.abspath(args.base_bin) if args.base_bin else None
        self.tmp = tempfile.mkdtemp(prefix="twbench.")
        self.true = self.helper("static_true")
        self.res = {}
        self.notes = []
        self.foreign = set()
        self.text = []
        self.prog_tp = {}  # program name -> tracepoint

    def helper(self, name):
        return os.path.join(self.h, name)

    def agents(self):
        """(label, binary) of the agents compared: the base build first when there is one."""
        return ([("base", self.base)] if self.base else []) + [("agent", self.bin)]

    def agent_labels(self):
        return [label for label, _ in self.agents()]

    def note(self, msg):
        self.notes.append(msg)
        log("note: " + msg)

    def out(self, line=""):
        """Report lines stay under 80 columns; longer ones wrap with an indent."""
        indent = " " * (len(line) - len(line.lstrip()) + 4)
        for part in textwrap.wrap(line, 79, subsequent_indent=indent) or [""]:
            self.text.append(part)
            print(part, flush=True)

    # workloads
    def storm(self, n, workers=NCPU, prog=None, extra=(), args=()):
        return run_json([self.helper("bench_exec"), "-n", str(n), "-j", str(workers)] +
                        list(extra) + [prog or self.true] + list(args), timeout=60 + n / 50)

    def tcp(self, kind, seconds):
        return run_json([self.helper("bench_tcp"), kind, "-d", str(seconds),
                         "-c", str(NCPU - 1)], timeout=60 + seconds)

    def wait_quiet(self):
        """Waits (a bounded time) until no other process has BPF on tracepoints."""
        deadline = time.monotonic() + self.cfg["quiet_wait_s"]
        while foreign_bpf(set()) and time.monotonic() < deadline:
            time.sleep(0.5)

    def check_foreign(self, own):
        for f in foreign_bpf(own):
            if f not in self.foreign:
                self.foreign.add(f)
                log("foreign BPF attached during the run (skews all modes): pid %s" % f)

    # 1, 2, 8b: exec storm, TCP, peers' exec storm
    def overhead(self):
        c = self.cfg
        modes = [("none", Mode), ("floor", lambda: FloorMode(self.floor))]
        for label, binary in self.agents():
            modes.append((label, lambda b=binary, n=label: AgentMode(b, workdir=self.tmp,
                                                                      name=n)))
        modes += [("exitsnoop", ExitsnoopMode), ("bpftrace", BpftraceMode)]
        rounds, unavailable, attach = [], {}, {}
        t_start = time.monotonic()
        for r in range(c["rounds_max"]):
            elapsed = time.monotonic() - t_start
            if r >= c["rounds"] and elapsed + elapsed / r > c["overhead_budget_s"]:
                break
            row = {}
            for name, make in modes:
                if name in unavailable:
                    continue
                m = make()
                self.wait_quiet()
                ts = time.monotonic()
                try:
                    m.start()
                except Unavailable as e:
                    unavailable[name] = str(e)
                    self.note("%s: n/a: %s" % (name, e))
                    continue
                try:
                    self.check_foreign({m.pid} if m.pid else set())
                    if name in ("floor", "agent") and name not in attach:
                        attach[name] = self.attach_info(m)
                    try:
                        row[name] = self.overhead_run(r, m, storm_only=name in ("exitsnoop",
                                                                                "bpftrace"))
                    except (RuntimeError, OSError, ValueError, KeyError,
                            subprocess.SubprocessError) as e:
                        self.note("round %d %s failed, left out: %s" % (r + 1, name, e))
                        continue
                    row[name]["foreign"] = bool(foreign_bpf({m.pid} if m.pid else set()))
                finally:
                    m.stop()
                    log("round %d %-9s took %.1f s" % (r + 1, name, time.monotonic() - ts))
            rounds.append(row)
        self.floor_check(attach)

        # runs during which another process had BPF on tracepoints are left out when at
        # least two clean rounds remain for that comparison
        def clean(mode):
            rs = [r for r in rounds if mode in r and "none" in r]
            ok = [r for r in rs if not r[mode]["foreign"] and not r["none"]["foreign"]]
            if len(ok) < len(rs):
                self.note("%s: %d of %d rounds had foreign BPF attached%s" % (
                    mode, len(rs) - len(ok), len(rs),
                    ", left out" if len(ok) >= 2 else ", kept (fewer than 2 clean rounds)"))
            return ok if len(ok) >= 2 else rs

        use = {mode: clean(mode) for mode in ["floor"] + self.agent_labels() +
               ["exitsnoop", "bpftrace"]}
        use["none"] = rounds

        def med(mode, key):
            return median([r[mode][key] for r in use[mode] if mode in r and key in r[mode]])

        def ratios(mode, key):
            return [r[mode][key] / r["none"][key] for r in use[mode]
                    if mode in r and "none" in r and r["none"].get(key)]

        def over(mode, key, throughput):
            """Median over rounds of the cost relative to that round's none run, in %."""
            m = median(ratios(mode, key))
            if m is None:
                return None
            return (1 - m) * 100 if throughput else (m - 1) * 100

        def spread(mode, key, throughput):
            rs = ratios(mode, key)
            if not rs:
                return None
            f = (lambda x: (1 - x) * 100) if throughput else (lambda x: (x - 1) * 100)
            return sorted([f(min(rs)), f(max(rs))])

        def section(keys, unit):
            """keys: (json suffix, round key, higher is better) per measure."""
            out = {}
            for suffix, key, tp in keys:
                for mode in ["none", "floor"] + self.agent_labels():
                    out["%s_%s" % (mode, suffix)] = med(mode, key)
                for mode in ["floor"] + self.agent_labels():
                    pre = "%s_%soverhead_pct" % (mode, "" if suffix == unit else "cpu_")
                    out[pre] = over(mode, key, tp)
                    out[pre + "_range"] = spread(mode, key, tp)
            return out

        es = section([("s", "storm_s", False), ("cpu_us_per_exec", "storm_cpu_us", False)], "s")
        es.update({"executions": c["storm_n"], "workers": NCPU, "rounds": len(rounds),
                   "exitsnoop_s": med("exitsnoop", "storm_s"),
                   "bpftrace_s": med("bpftrace", "storm_s"),
                   "agent_counted_min": min([r["agent"]["counted"] for r in rounds
                                             if "agent" in r], default=None)})
        self.res["exec_storm"] = es
        pp = section([("rps", "pingpong_rps", True),
                      ("cpu_us_per_round_trip", "pingpong_cpu_us", False)], "rps")
        pp.update({"message_bytes": 64, "seconds": c["tcp_s"], "pinned_cpu": NCPU - 1})
        self.res["tcp_pingpong"] = pp
        bk = section([("mbps", "bulk_mbps", True), ("cpu_s_per_gb", "bulk_cpu_s_per_gb", False)],
                     "mbps")
        bk.update({"write_bytes": 1 << 20, "seconds": c["tcp_s"], "pinned_cpu": NCPU - 1})
        self.res["tcp_bulk"] = bk
        peers = self.res.setdefault("peers", {})
        for k in ("exitsnoop", "bpftrace"):
            peers[k + "_overhead_pct"] = over(k, "storm_s", False)
            peers[k + "_cpu_overhead_pct"] = over(k, "storm_cpu_us", False)
            if k in unavailable:
                peers[k + "_unavailable"] = unavailable[k]
        self.res.setdefault("agent", {})["cpu_s_per_1000_exec"] = med("agent", "agent_cpu_s_1000")
        if self.base:
            self.res["agent"]["base_cpu_s_per_1000_exec"] = med("base", "agent_cpu_s_1000")
        self.res["raw_rounds"] = rounds
        self.rounds_done = len(rounds)

    def overhead_run(self, r, m, storm_only):
        """One mode's share of a round. CPU figures include the monitor's own process (the
        kernel bills tracepoint programs to the task that hit them, i.e. the workload)."""
        c = self.cfg
        rec = {}
        agent = isinstance(m, AgentMode)
        own = (lambda: cpu_seconds(m.pid)) if m.pid else (lambda: 0.0)
        if agent:
            body0 = m.scrape()
        cpu0 = own()
        st = self.storm(c["storm_n"])
        cpu1 = own()
        rec["storm_s"] = st["elapsed_s"]
        rec["storm_rate"] = st["rate"]
        rec["storm_cpu_us"] = (st["cpu_s"] + cpu1 - cpu0) / st["count"] * 1e6
        rec["monitor_cpu_s"] = cpu1 - cpu0
        if agent:
            body1 = m.settled(body0, st["count"])
            counted = (sample(body1, "tool_executions_total", tool="static_true") -
                       sample(body0, "tool_executions_total", tool="static_true"))
            rec["counted"] = counted
            rec["lost"] = lost_total(body1) - lost_total(body0)
            rec["agent_cpu_s_1000"] = (cpu1 - cpu0) / st["count"] * 1000
            if counted != st["count"]:
                self.note("round %d: agent counted %d of %d storm executions"
                          % (r + 1, counted, st["count"]))
        if not storm_only:
            cpu0 = own()
            t = self.tcp("pingpong", c["tcp_s"])
            cpu1 = own()
            rec["pingpong_rps"] = t["rps"]
            rec["pingpong_cpu_us"] = (t["cpu_s"] + cpu1 - cpu0) / t["round_trips"] * 1e6
            t = self.tcp("bulk", c["tcp_s"])
            cpu2 = own()
            rec["bulk_mbps"] = t["mbps"]
            rec["bulk_cpu_s_per_gb"] = (t["cpu_s"] + cpu2 - cpu1) / t["bytes"] * 1e9
        log("round %d %-9s %s" % (r + 1, m.name, " ".join(
            "%s=%.6g" % kv for kv in sorted(rec.items()))))
        return rec

    def attach_info(self, m):
        try:
            tps = attachments(m.pid).get(m.pid, {})
            progs = progs_by_id()
        except (RuntimeError, OSError, ValueError) as e:
            return {"error": str(e)}
        info = {"tracepoints": {tp: progs.get(pid, {}).get("name", "?") for tp, pid in
                                tps.items()}}
        # programs it holds that are not on a tracepoint (iterators, ...)
        info["other_programs"] = sorted(progs.get(i, {}).get("name", "?") for i in
                                        prog_fds(m.pid) - set(tps.values()))
        return info

    def floor_check(self, attach):
        """The floor must hold exactly the agent's tracepoints; report, never hide, a gap."""
        a, f = attach.get("agent", {}), attach.get("floor", {})
        chk = {"agent": a, "floor": f}
        if "tracepoints" in a and "tracepoints" in f:
            at, ft = set(a["tracepoints"]), set(f["tracepoints"])
            chk["only_agent"] = sorted(at - ft)
            chk["only_floor"] = sorted(ft - at)
            chk["match"] = at == ft
            if at != ft:
                self.note("floor != agent tracepoints: agent-only %s, floor-only %s" %
                          (",".join(chk["only_agent"]) or "-", ",".join(chk["only_floor"]) or "-"))
        else:
            chk["match"] = None
            self.note("floor/agent tracepoint comparison not possible: %s" % chk)
        self.res["floor_check"] = chk

    # the network path with default flags, and the opt-in per-call family
    def net(self):
        """TCP ping-pong and bulk CPU per unit for none, floor, agent (default flags) and
        agent with --probe.enable=netcalls, side by side in each round (order rotated)."""
        c = self.cfg
        modes = [("none", Mode), ("floor", lambda: FloorMode(self.floor)),
                 ("agent", lambda: AgentMode(self.bin, workdir=self.tmp)),
                 ("netcalls", lambda: AgentMode(self.bin, ["--probe.enable=netcalls"],
                                                workdir=self.tmp)),
                 ("exec_failed", lambda: AgentMode(self.bin, ["--probe.enable=exec_failed"],
                                                   workdir=self.tmp))]
        rounds = []
        for r in range(c["net_rounds"]):
            row = {}
            for name, make in modes[r % len(modes):] + modes[:r % len(modes)]:
                m = make()
                self.wait_quiet()
                try:
                    m.start()
                except Unavailable as e:
                    self.note("net %s: n/a: %s" % (name, e))
                    continue
                try:
                    own = (lambda: cpu_seconds(m.pid)) if m.pid else (lambda: 0.0)
                    cpu0 = own()
                    t = self.tcp("pingpong", c["net_tcp_s"])
                    cpu1 = own()
                    pp = (t["cpu_s"] + cpu1 - cpu0) / t["round_trips"] * 1e6
                    # the monitor process's own share (its sampler, scrapes, iterators)
                    pp_mon = (cpu1 - cpu0) / t["round_trips"] * 1e6
                    t = self.tcp("bulk", c["net_tcp_s"])
                    cpu2 = own()
                    row[name] = {"pp": pp, "bulk": (t["cpu_s"] + cpu2 - cpu1) / t["bytes"] * 1e9,
                                 "pp_mon": pp_mon,
                                 "bulk_mon": (cpu2 - cpu1) / t["bytes"] * 1e9}
                finally:
                    m.stop()
                log("net round %d %-8s %s" % (r + 1, name, row.get(name)))
            rounds.append(row)
        out = {"rounds": len(rounds), "seconds": c["net_tcp_s"]}
        for key, unit in (("pp", "cpu_us_per_round_trip"), ("bulk", "cpu_s_per_gb")):
            for mode in ("agent", "netcalls", "exec_failed"):
                mon = [x[mode][key + "_mon"] for x in rounds if mode in x]
                out["%s_%s_monitor" % (mode, unit)] = median(mon)
                none = [x["none"][key] for x in rounds if "none" in x]
                out["%s_%s_monitor_pct" % (mode, key)] = (
                    median(mon) / median(none) * 100 if mon and none else None)
            for mode, _ in modes:
                out["%s_%s" % (mode, unit)] = median([x[mode][key] for x in rounds if mode in x])
                if mode == "none":
                    continue
                rs = [x[mode][key] / x["none"][key] - 1 for x in rounds
                      if mode in x and "none" in x]
                out["%s_%s_pct" % (mode, key)] = median(rs) and median(rs) * 100
                out["%s_%s_pct_range" % (mode, key)] = [min(rs) * 100, max(rs) * 100] \
                    if rs else None
        self.res["net_path"] = out

    def report_net(self):
        n = self.res.get("net_path")
        if not n:
            return

        def f(v, fmt):
            return "n/a" if v is None else fmt % v

        self.out("network path, CPU per unit of work, medians of %d rounds (agent: default "
                 "flags; netcalls, exec_failed: the agent with --probe.enable=that opt-in "
                 "family); %% vs none:" % n["rounds"])
        for key, unit, label, target in (("pp", "cpu_us_per_round_trip",
                                          "tcp ping-pong, us per round trip", 1.0),
                                         ("bulk", "cpu_s_per_gb", "tcp bulk, s per GB", 0.5)):
            ag = n.get("agent_%s_pct" % key)
            self.out("  %-34s none %s" % (label, f(n.get("none_" + unit), "%.3f")))
            self.out("    " + "  ".join("%s %s (%s%s)" % (
                m, f(n.get("%s_%s" % (m, unit)), "%.3f"), f(n.get("%s_%s_pct" % (m, key)),
                                                            "%+.1f%%"),
                "" if m != "agent" or ag is None else
                ", <=%.1f%% %s" % (target, "OK" if ag <= target else "MISS"))
                for m in ("floor", "agent", "netcalls", "exec_failed")))
            rg = n.get("agent_%s_pct_range" % key)
            if rg:
                self.out("    agent per-round range %+.1f%% .. %+.1f%%" % tuple(rg))
            self.out("    agent process's own CPU in that: %s (%s of none)" % (
                f(n.get("agent_%s_monitor" % unit), "%.4f"),
                f(n.get("agent_%s_monitor_pct" % key), "%.2f%%")))

    # 3: capacity
    def capacity(self):
        c = self.cfg
        steps = []
        m = AgentMode(self.bin, workdir=self.tmp).start()
        try:
            for rate in c["cap_rates"]:
                steps.append(self.cap_step(m, rate, c["cap_step_s"]))
        finally:
            m.stop()
        ok = [s for s in steps if s["lost"] == 0 and s["missing"] == 0]
        machine_max = max(s["achieved"] for s in steps)
        cap = {"steps": steps, "machine_max_exec_per_s": machine_max,
               "max_exec_per_s_no_loss": max((s["achieved"] for s in ok), default=0.0)}
        lossless_at_max = any(s["target"] == 0 for s in ok)
        # the overload: beyond the capacity; the default buffer never fills here, so shrink it
        method = "default settings, storm at the machine's maximum"
        over = None
        if lossless_at_max:
            method = ("--bpf.ringbuf-size=%d (deliberately small: the default never lost "
                      "an event up to the machine's maximum)" % SMALL_RINGBUF)
            m = AgentMode(self.bin, ["--bpf.ringbuf-size=%d" % SMALL_RINGBUF],
                          workdir=self.tmp).start()
            try:
                over = self.cap_step(m, 0, c["cap_step_s"])
                if over["lost"] == 0:
                    method += "; still no loss, so the agent was also stopped (SIGSTOP) " \
                              "during the storm: a stalled consumer"
                    over = self.cap_step(m, 0, c["cap_step_s"], stall=True)
            finally:
                m.stop()
        else:
            over = [s for s in steps if s["target"] == 0][0]
        cap["overload_method"] = method
        cap["overload"] = over
        cap["lost_after_overload"] = over["lost"]
        self.res["capacity"] = cap

    def cap_step(self, m, rate, seconds, stall=False):
        b0 = m.scrape()
        argv = [self.helper("bench_exec"), "-d", str(seconds), "-j", str(NCPU)]
        if rate:
            argv += ["-r", str(rate)]
        if stall:
            os.kill(m.pid, signal.SIGSTOP)
        try:
            st = run_json(argv + [self.true], timeout=60 + seconds * 2)
        finally:
            if stall:
                os.kill(m.pid, signal.SIGCONT)
        b1 = m.settled(b0, st["count"])
        counted = (sample(b1, "tool_executions_total", tool="static_true") -
                   sample(b0, "tool_executions_total", tool="static_true"))
        r0, r1 = lost_by_reason(b0), lost_by_reason(b1)
        by = {k: v - r0.get(k, 0) for k, v in r1.items() if v - r0.get(k, 0)}
        s = {"target": rate, "achieved": st["rate"], "executed": st["count"], "counted": counted,
             "missing": st["count"] - counted, "lost": sum(by.values()), "lost_by_reason": by,
             "stalled": stall}
        log("capacity %s: %s" % (rate or "max", s))
        return s

    # 4: agent cost (CPU comes from the overhead rounds)
    def cost(self):
        n1, n2 = self.cfg["rss_tools"]
        d = os.path.join(self.tmp, "tools")
        os.makedirs(d)
        base = os.path.join(d, "base")
        shutil.copy(self.true, base)
        names = []
        for i in range(n2):
            p = os.path.join(d, "bench_tool_%05d" % i)
            os.link(base, p)
            names.append(p)
        lists = []
        for k, chunk in enumerate((names[:n1], names[n1:])):
            lst = os.path.join(self.tmp, "tools%d.txt" % k)
            with open(lst, "w") as f:
                f.write("\n".join(chunk) + "\n")
            lists.append((lst, len(chunk)))
        a = self.res.setdefault("agent", {})
        # RSS is read between scrapes, after two of them (the exposition buffers are then
        # as big as they get): the steady state of an agent scraped every second
        m = AgentMode(self.bin, ["--tools.max=%d" % (2 * n2)], workdir=self.tmp,
                      scrape_interval=0).start()
        try:
            time.sleep(1.0)
            cpu0, t0 = cpu_seconds(m.pid), time.monotonic()
            for _ in range(int(self.cfg["idle_s"])):
                fetch(m.port)
                time.sleep(1.0)
            a["cpu_pct_idle"] = (cpu_seconds(m.pid) - cpu0) / (time.monotonic() - t0) * 100
            a["rss_bytes_idle"] = rss_bytes(m.pid)
            for (lst, n), key in zip(lists, ("rss_bytes_%d_tools" % n1, "rss_bytes_%d_tools" % n2)):
                cpu0 = cpu_seconds(m.pid)
                run_json([self.helper("bench_exec"), "-n", str(n), "-j", str(NCPU), "-l", lst],
                         timeout=60 + n / 50)
                cpu1 = cpu_seconds(m.pid)
                fetch(m.port)
                dt, body = fetch(m.port)
                a[key] = rss_bytes(m.pid)
                tracked = sample(body, "toolwatch_tools_tracked")
                a[key.replace("rss_bytes", "series")] = series_count(body)
                a[key.replace("rss_bytes", "scrape_ms")] = dt * 1000
                a[key.replace("rss_bytes", "cpu_s_per_1000_exec")] = (cpu1 - cpu0) / n * 1000
                log("cost: %s=%d tracked=%d series=%d scrape=%.1fms" %
                    (key, a[key], tracked, series_count(body), dt * 1000))
            a["rss_hwm_bytes"] = rss_bytes(m.pid, "VmHWM")
            a["tools_tracked"] = tracked
            if tracked < n2:
                self.note("agent tracked %d of %d distinct tools" % (tracked, n2))
        finally:
            m.stop()

    # naming rules: 50 of them, none matching the storm's program (each one is tried)
    def rules(self):
        path = os.path.join(self.tmp, "rules50.yml")
        with open(path, "w") as f:
            f.write(rules50_yaml())
        rb = os.path.join(os.path.dirname(self.bin), "bench_rules")
        out = self.res.setdefault("rules", {})
        micro = run_json([rb, path, "200000" if self.args.quick else "1000000"], timeout=120)
        out.update(micro)
        n = self.cfg["storm_n"] // 2
        cpu = {"none": [], "rules": []}
        for _ in range(2):
            for mode, args in (("none", []), ("rules", ["--tools.rules=" + path])):
                m = AgentMode(self.bin, args, workdir=self.tmp, scrape_interval=0).start()
                try:
                    time.sleep(0.5)
                    c0 = cpu_seconds(m.pid)
                    self.storm(n)
                    fetch(m.port)
                    cpu[mode].append((cpu_seconds(m.pid) - c0) / n * 1e6)
                finally:
                    m.stop()
        out["agent_cpu_us_per_exec"] = median(cpu["none"])
        out["agent_cpu_us_per_exec_rules"] = median(cpu["rules"])
        log("rules: %s; agent CPU us/exec %.2f -> %.2f" % (
            json.dumps(micro), out["agent_cpu_us_per_exec"], out["agent_cpu_us_per_exec_rules"]))

    # 5, 6: freshness, then scrape latency at ~10,000 series, idle and under a storm
    def scrape(self):
        c = self.cfg
        d = os.path.join(self.tmp, "scrape")
        os.makedirs(d)
        base = os.path.join(d, "base")
        shutil.copy(self.true, base)
        probe = os.path.join(d, "fresh_probe")
        os.link(base, probe)
        m = AgentMode(self.bin, workdir=self.tmp, scrape_interval=0).start()
        try:
            fr = self.freshness(m, probe, c["fresh"])
            self.res["freshness"] = fr
            # grow the exposition to the wanted number of series with distinct tools
            body = m.scrape()
            s0 = series_count(body)
            self.spawn_tools(d, "scrape_tool_", 0, 20)
            per_tool = (series_count(m.scrape()) - s0) / 20.0
            want = max(0, math.ceil((c["series"] - s0) / per_tool) - 20) if per_tool else 0
            self.spawn_tools(d, "scrape_tool_", 20, want)
            body = m.scrape()
            series, made = series_count(body), 20 + want
            for _ in range(3):  # top up: the first tools' series per tool is an estimate
                if series >= c["series"] or not per_tool:
                    break
                more = math.ceil((c["series"] - series) / per_tool) + 1
                self.spawn_tools(d, "scrape_tool_", made, more)
                made += more
                body = m.scrape()
                series = series_count(body)
            idle = []
            for _ in range(c["scrape_idle"]):
                idle.append(fetch(m.port)[0] * 1000)
                time.sleep(0.01)
            # the same scrapes gzipped, as Prometheus asks: render + compress time, bytes sent
            zipped, zbytes = [], 0
            for _ in range(c["scrape_idle"]):
                t, zbody = fetch(m.port, headers={"Accept-Encoding": "gzip"})
                zipped.append(t * 1000)
                zbytes = len(zbody)
                time.sleep(0.01)
            zipped.sort()
            storm = subprocess.Popen([self.helper("bench_exec"), "-d", str(c["scrape_storm_s"]),
                                      "-j", str(NCPU), self.true], stdout=subprocess.PIPE,
                                     text=True)
            busy = []
            while storm.poll() is None:
                busy.append(fetch(m.port)[0] * 1000)
                time.sleep(0.01)
            st = json.loads(storm.stdout.read().strip().splitlines()[-1])
            idle.sort()
            busy.sort()
            self.res["scrape"] = {
                "series": series, "series_per_tool": per_tool, "p50_ms": pct(idle, 0.5),
                "p99_ms": pct(idle, 0.99), "max_ms": idle[-1], "samples": len(idle),
                "p50_ms_storm": pct(busy, 0.5), "p99_ms_storm": pct(busy, 0.99),
                "samples_storm": len(busy), "storm_exec_per_s": st["rate"],
                "body_bytes": len(body), "gzip_body_bytes": zbytes,
                "gzip_p50_ms": pct(zipped, 0.5), "gzip_p99_ms": pct(zipped, 0.99),
            }
        finally:
            m.stop()

    def labels(self):
        """Scrape p99 with --metrics.labels at `series` labelled series: one tool run in
        each of enough pod cgroups (cgroupfs layout) under the cgroup2 mount."""
        c, made = self.cfg, []
        with open("/proc/self/mountinfo") as f:
            root = next((ln.split()[4] for ln in f if " - cgroup2 " in ln), None)
        if not root:
            raise Unavailable("no cgroup2 mount")
        tool = os.path.join(self.tmp, "labelled_tool")
        shutil.copy(self.true, tool)
        m = AgentMode(self.bin, ["--metrics.labels=container_id,pod_uid,namespace,pod,container"],
                      workdir=self.tmp, scrape_interval=0).start()

        def run_in(i):
            rel = "kubepods/burstable/podbench-%d-%d/%064x" % (os.getpid(), i, i)
            path = root
            for part in rel.split("/"):
                path = os.path.join(path, part)
                if not os.path.isdir(path):
                    os.mkdir(path)
                    made.append(path)
            procs = os.path.join(path, "cgroup.procs")

            def enter():
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))
            # the agent reads /proc/PID/cgroup at the exec: the tool lives 50 ms
            return subprocess.Popen([self.helper("static_sleep"), "50"], preexec_fn=enter)

        try:
            s0 = series_count(m.scrape())
            for p in [run_in(i) for i in range(10)]:
                p.wait()
            time.sleep(0.5)
            per = (series_count(m.scrape()) - s0) / 10.0
            n, body = 10, m.scrape()
            for _ in range(5):  # the first pods' series per pod is an estimate: top up
                if series_count(body) >= c["series"] or per <= 0 or n >= 5000:
                    break
                more = min(5000 - n, math.ceil((c["series"] - series_count(body)) / per) + 1)
                for first in range(n, n + more, 200):
                    for p in [run_in(i) for i in range(first, min(n + more, first + 200))]:
                        p.wait()
                n += more
                time.sleep(0.5)
                body = m.scrape()
            times = []
            for _ in range(c["scrape_idle"]):
                times.append(fetch(m.port)[0] * 1000)
                time.sleep(0.01)
            times.sort()
            r = self.res["scrape_labelled"] = {
                "series": series_count(body), "pods": n, "p50_ms": pct(times, 0.5),
                "p99_ms": pct(times, 0.99), "body_bytes": len(body),
                "target_p99_ms": TARGETS["scrape_p99_ms"]}
            self.note("scrape %d labelled series (%d pods, 5 labels): p50 %.2f ms, p99 %.2f ms "
                      "(target <=%.0f %s)" % (r["series"], n, r["p50_ms"], r["p99_ms"],
                                              TARGETS["scrape_p99_ms"],
                                              "ok" if r["p99_ms"] <= TARGETS["scrape_p99_ms"]
                                              else "MISSED"))
        finally:
            m.stop()
            for path in sorted(made, key=len, reverse=True):
                for _ in range(100):
                    try:
                        os.rmdir(path)
                        break
                    except OSError:
                        time.sleep(0.05)

    def native(self):
        """A busy node at the default series budget: 100 pod cgroups x 10 tools, the
        DaemonSet's labels. Series (agent and Prometheus head), bytes per scrape and scrape
        times for text, gzip and protobuf, and the agent's RSS high-water."""
        c, made = self.cfg, []
        # quick: enough pairs to fill the default budget (about 284 pairs of 70 series)
        pods, tools = (30, 10) if self.args.quick else (100, 10)
        # the agent's own default budget (the test harness lifts it unless told)
        help_text = subprocess.run([self.bin, "--help"], capture_output=True,
                                   text=True).stdout
        budget = re.search(r"--metrics\.max-series=N.*?\(default (\d+)\)", help_text, re.S)
        if not budget:
            raise Unavailable("--help names no --metrics.max-series default")
        with open("/proc/self/mountinfo") as f:
            root = next((ln.split()[4] for ln in f if " - cgroup2 " in ln), None)
        if not root:
            raise Unavailable("no cgroup2 mount")
        if not shutil.which("prometheus"):
            raise Unavailable("no prometheus")
        d = os.path.join(self.tmp, "native")
        os.makedirs(d)
        names = []
        for t in range(tools):
            names.append(os.path.join(d, "native_tool_%02d" % t))
            shutil.copy(self.helper("static_sleep"), names[-1])
        pb_accept = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                     "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2")
        out = self.res.setdefault("native", {"pods": pods, "tools_per_pod": tools})
        for mode, args in (("default", []), ("classic_none", ["--metrics.classic-buckets=none"])):
            # without the API the cgroup path gives container_id and pod_uid (names stay empty)
            m = AgentMode(self.bin, ["--metrics.labels=container_id,pod_uid,namespace,pod,"
                                     "container",
                                     "--metrics.max-series=" + budget.group(1)] + args,
                          workdir=self.tmp, scrape_interval=0).start()
            proms = []

            def run_in(i, tool):
                rel = "kubepods/burstable/podnative-%d-%d/%064x" % (os.getpid(), i, i)
                path = root
                for part in rel.split("/"):
                    path = os.path.join(path, part)
                    if not os.path.isdir(path):
                        os.mkdir(path)
                        made.append(path)
                procs = os.path.join(path, "cgroup.procs")

                def enter():
                    with open(procs, "w") as f:
                        f.write(str(os.getpid()))
                return subprocess.Popen([tool, "20"], preexec_fn=enter)

            try:
                for i in range(pods):
                    for p_ in [run_in(i, t) for t in names]:
                        p_.wait()
                time.sleep(1.5)
                r = out[mode] = {}
                _, text = fetch(m.port)
                r["text_series"] = series_count(text)
                r["series_tracked"] = sample(text, "toolwatch_series_tracked")
                r["series_limit"] = sample(text, "toolwatch_series_limit")
                r["series_overflow"] = sample(text, "toolwatch_series_overflow_total")
                r["pairs"] = len([ln for ln in text.split(b"\n")
                                  if ln.startswith(b"tool_executions_total{")])
                for fmt, headers in (("text", {}), ("gzip", {"Accept-Encoding": "gzip"}),
                                     ("protobuf", {"Accept": pb_accept}),
                                     ("protobuf_gzip", {"Accept": pb_accept,
                                                        "Accept-Encoding": "gzip"})):
                    times, size = [], 0
                    for _ in range(c["scrape_idle"]):
                        dt, body = fetch(m.port, headers=headers)
                        times.append(dt * 1000)
                        size = len(body)
                        time.sleep(0.01)
                    times.sort()
                    r[fmt] = {"bytes": size, "p50_ms": pct(times, 0.5),
                              "p99_ms": pct(times, 0.99)}
                # what Prometheus stores: head series of a native-histogram server (protobuf)
                # and of a plain one (text), each scraping only this agent
                for native in (True, False):
                    ptmp = tempfile.mkdtemp(prefix="twbenchprom.", dir=self.tmp)
                    port = free_port()
                    with open(os.path.join(ptmp, "p.yml"), "w") as f:
                        f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n"
                                "  - job_name: a\n    static_configs:\n"
                                "      - targets: ['127.0.0.1:%d']\n" % m.port)
                    argv = ["prometheus", "--config.file=" + os.path.join(ptmp, "p.yml"),
                            "--storage.tsdb.path=" + os.path.join(ptmp, "data"),
                            "--web.listen-address=127.0.0.1:%d" % port]
                    if native:
                        argv.append("--enable-feature=native-histograms")
                    proms.append((native, port, subprocess.Popen(
                        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
                time.sleep(8)
                for native, port, proc in proms:
                    _, body = fetch(port)
                    r["prometheus_head_series_" + ("native" if native else "text")] = \
                        sample(body, "prometheus_tsdb_head_series")
                r["rss_bytes"] = rss_bytes(m.pid)
                r["rss_hwm_bytes"] = rss_bytes(m.pid, "VmHWM")
                self.note("native %s: %d pods x %d tools -> %d pairs, %d text series "
                          "(tracked %d, limit %d, overflow %d); bytes text %d gzip %d "
                          "protobuf %d protobuf+gzip %d; p99 ms text %.2f gzip %.2f protobuf "
                          "%.2f protobuf+gzip %.2f; Prometheus head series: native %d, text "
                          "%d; RSS %.1f MiB, high-water %.1f MiB" % (
                              mode, pods, tools, r["pairs"], r["text_series"],
                              r["series_tracked"], r["series_limit"], r["series_overflow"],
                              r["text"]["bytes"], r["gzip"]["bytes"], r["protobuf"]["bytes"],
                              r["protobuf_gzip"]["bytes"], r["text"]["p99_ms"],
                              r["gzip"]["p99_ms"], r["protobuf"]["p99_ms"],
                              r["protobuf_gzip"]["p99_ms"],
                              r["prometheus_head_series_native"],
                              r["prometheus_head_series_text"], r["rss_bytes"] / 2**20,
                              r["rss_hwm_bytes"] / 2**20))
            finally:
                for _, _, proc in proms:
                    proc.terminate()
                    proc.wait(timeout=30)
                m.stop()
                for path in sorted(made, key=len, reverse=True):
                    for _ in range(100):
                        try:
                            os.rmdir(path)
                            break
                        except OSError:
                            time.sleep(0.05)
                made.clear()

    def spawn_tools(self, d, prefix, first, n):
        if n <= 0:
            return
        paths = []
        for i in range(first, first + n):
            p = os.path.join(d, "%s%04d" % (prefix, i))
            os.link(os.path.join(d, "base"), p)
            paths.append(p)
        lst = os.path.join(d, "%s%d.txt" % (prefix, first))
        with open(lst, "w") as f:
            f.write("\n".join(paths) + "\n")
        run_json([self.helper("bench_exec"), "-n", str(n), "-l", lst], timeout=60 + n / 50)

    def freshness(self, m, probe, n):
        """Exit (waitpid returned) -> count visible in /metrics, scraping in a tight loop."""
        tool = os.path.basename(probe)
        samples, slow = [], 0
        seen = sample(m.scrape(), "tool_executions_total", tool=tool)
        for _ in range(n):
            pid = os.posix_spawn(probe, [probe], os.environ)
            os.waitpid(pid, 0)
            t_exit = time.monotonic()
            while True:
                _, body = fetch(m.port)
                now = time.monotonic()
                if sample(body, "tool_executions_total", tool=tool) >= seen + 1:
                    break
                slow += 1
                if now - t_exit > 10:
                    raise RuntimeError("freshness: count not visible after 10s")
            seen += 1
            samples.append((now - t_exit) * 1000)
        samples.sort()
        return {"p50_ms": pct(samples, 0.5), "p99_ms": pct(samples, 0.99),
                "max_ms": samples[-1], "samples": n, "extra_scrapes": slow}

    # 7: BPF cost per event, the agent's (and the base build's) and the floor's, on the same
    # workloads; ring-buffer bytes per unit of work beside it
    def bpf_cost(self):
        c = self.cfg
        acc = {label: {} for label in self.agent_labels()}
        # with a base build: base, agent, base, agent (the machine drifts: alternate)
        for _ in range(2 if self.base else 1):
            for label, binary in self.agents():
                m = AgentMode(binary, ["--bpf.stats"], workdir=self.tmp, scrape_interval=0,
                              name=label).start()
                try:
                    self.merge_parts(acc[label], self.bpf_workload(c, m.pid, ring=True,
                                                                   port=m.port))
                finally:
                    m.stop()
        # the floor, and the floor whose exec program also outputs one ring-buffer record:
        # the least that any design reporting each execution to user space pays
        floors = []
        for who, ring in (("floor", False), ("floor_ring", True)):
            f = FloorMode(self.floor, stats=True, ring=ring)
            try:
                f.start()
                try:
                    parts = self.bpf_workload(c, f.pid)
                finally:
                    f.stop()
                floors.append((who, parts))
                # a reservation that failed would make the record look cheaper than it is
                execs = sum(n for part in parts.values() for p, (_, n) in part["progs"].items()
                            if self.prog_tp.get(p) == "sched_process_exec")
                if ring and (f.records or 0) < execs:
                    self.note("floor_ring: %s records for %d executions: some were not "
                              "output" % (f.records, execs))
            except Unavailable as e:
                self.note("%s stats: n/a: %s" % (who, e))
                floors.append((who, {}))
        self.res["bpf_stats_source"] = "kernel run_time_ns/run_cnt of the attached programs"
        per = {}
        for who, parts in list(acc.items()) + floors:
            progs = {}
            for part in parts.values():
                for prog, (ns, n) in part["progs"].items():
                    t, k = progs.get(prog, (0, 0))
                    progs[prog] = (t + ns, k + n)
            suffix = "" if who == "agent" else "_" + who
            self.res["bpf_ns_per_event" + suffix] = {p: t / n for p, (t, n) in progs.items()
                                                     if n}
            self.res["bpf_events" + suffix] = {p: n for p, (t, n) in progs.items() if n}
            for w, part in parts.items():
                total = sum(ns for ns, _ in part["progs"].values())
                # executions the kernel saw (sched_process_exec runs): other processes'
                # executions on a shared machine count in both numerator and denominator
                execs = sum(n for p, (_, n) in part["progs"].items()
                            if self.prog_tp.get(p) == "sched_process_exec")
                path = sum(ns for p, (ns, _) in part["progs"].items()
                           if self.prog_tp.get(p) in EXEC_PATH_TPS)
                per["%s_%s" % (who, w)] = {
                    "ns_per_unit": total / part["units"], "unit": part["unit"],
                    "ns_per_kernel_exec": total / execs if execs else None,
                    "exec_path_ns_per_kernel_exec": path / execs if execs else None,
                    "ring_bytes_per_unit": (part["ring_bytes"] / part["units"]
                                            if "ring_bytes" in part else None),
                    "ring_bytes_per_kernel_exec": (part["ring_bytes"] / execs
                                                   if "ring_bytes" in part and execs else None),
                    "programs": {p: {"ns_per_unit": ns / part["units"],
                                     "events_per_unit": n / part["units"]}
                                 for p, (ns, n) in part["progs"].items() if n}}
        self.res["bpf_per_unit"] = per

    @staticmethod
    def merge_parts(into, parts):
        """Adds one run's {workload: {units, unit, progs, ring_bytes}} into another's."""
        for w, part in parts.items():
            if w not in into:
                into[w] = {"units": 0, "unit": part["unit"], "progs": {}}
            d = into[w]
            d["units"] += part["units"]
            for p, (ns, n) in part["progs"].items():
                t, k = d["progs"].get(p, (0, 0))
                d["progs"][p] = (t + ns, k + n)
            if "ring_bytes" in part:
                d["ring_bytes"] = d.get("ring_bytes", 0) + part["ring_bytes"]

    def bpf_workload(self, c, pid, ring=False, port=None):
        """Storm, ping-pong and bulk, with the kernel's per-program statistics of pid's
        tracepoint programs (and, with ring, the bytes its ring buffer took) between them:
        {workload: {units, unit, progs, ring_bytes}}."""
        out = {}
        k = self.kernel_stats(pid, port)
        r0 = ring_produced(pid) if ring else 0
        # interp_storm: a shell running a builtin (sh -c :), whose exec record carries argv
        # (the naming reads an interpreter's); exec_storm's program's does not need it
        for name, run in (("exec_storm", lambda: self.storm(c["stats_storm"])),
                          ("interp_storm", lambda: self.storm(c["stats_storm"] // 2,
                                                              prog="/bin/sh", args=("-c", ":"))),
                          ("tcp_pingpong", lambda: self.tcp("pingpong", c["stats_tcp_s"])),
                          ("tcp_bulk", lambda: self.tcp("bulk", c["stats_tcp_s"]))):
            r = run()
            if name.endswith("_storm"):
                time.sleep(0.2)  # the last exits are emitted at their final switch
            k2 = self.kernel_stats(pid, port)
            units, unit = ((r["count"], "exec") if name.endswith("_storm") else
                           (r["round_trips"], "round trip") if name == "tcp_pingpong" else
                           (r["bytes"] / 1e6, "MB"))
            out[name] = {"units": units, "unit": unit, "progs": {
                p: (t - k.get(p, (0, 0))[0], n - k.get(p, (0, 0))[1]) for p, (t, n) in k2.items()}}
            if ring:
                r1 = ring_produced(pid)
                out[name]["ring_bytes"] = r1 - r0
                r0 = r1
            k = k2
        return out

    def kernel_stats(self, pid, port=None):
        """{name: (run_time_ns, run_cnt)} of the tracepoint programs pid attached; with
        the agent's port, also its exit timer callback, which the kernel does not count
        and the agent measures itself (toolwatch_bpf_program_*{program="exit_timer"})."""
        tps = attachments(pid).get(pid, {})
        progs = progs_by_id()
        out = {}
        for tp, prog_id in tps.items():
            p = progs.get(prog_id, {})
            out[p.get("name", tp)] = (p.get("run_time_ns", 0), p.get("run_cnt", 0))
            self.prog_tp[p.get("name", tp)] = tp
        if port:
            body = fetch(port)[1]
            secs = sample(body, "toolwatch_bpf_program_run_seconds_total", program="exit_timer")
            runs = sample(body, "toolwatch_bpf_program_runs_total", program="exit_timer")
            if runs:
                out["exit_timer"] = (int(round(secs * 1e9)), int(runs))
                self.prog_tp["exit_timer"] = "exit_timer"
        return out

    # 8a: prometheus-process-exporter vs toolwatch on short-lived programs
    def peers(self):
        n = self.cfg["peer_n"]
        peers = self.res.setdefault("peers", {})
        exe = shutil.which("prometheus-process-exporter") or shutil.which("process-exporter")
        if not exe:
            peers["process_exporter_capture_pct"] = None
            peers["process_exporter_unavailable"] = "prometheus-process-exporter not installed"
            self.note("process-exporter: n/a: not installed")
            exe = None
        prog = self.helper("static_sleep")
        comm = os.path.basename(prog)[:15]
        cfg = os.path.join(self.tmp, "process-exporter.yml")
        with open(cfg, "w") as f:
            # one group per process (PID in the name), so that every process it ever saw
            # stays visible as a group: the most generous reading of what it captured
            f.write('process_names:\n  - name: "{{.Comm}}:{{.PID}}"\n    comm:\n    - %s\n'
                    % comm)
        m = AgentMode(self.bin, workdir=self.tmp).start()
        pe = pe_scraper = None
        try:
            if exe:
                port = free_port()
                pe = subprocess.Popen([exe, "-config.path", cfg,
                                       "-web.listen-address", "127.0.0.1:%d" % port],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                deadline = time.time() + 20
                while True:
                    try:
                        fetch(port)
                        break
                    except OSError:
                        if pe.poll() is not None or time.time() > deadline:
                            raise Unavailable("process-exporter did not start")
                        time.sleep(0.1)
                pe_scraper = Scraper(port, 1.0)
                pe_scraper.start()
            b0 = m.scrape()
            cpu_a0 = cpu_seconds(m.pid)
            cpu_p0 = cpu_seconds(pe.pid) if pe else 0
            st = run_json([self.helper("bench_exec"), "-n", str(n), prog, "5"],
                          timeout=60 + n / 20)
            time.sleep(1.2)  # one more scrape each after the last exit
            b1 = m.scrape()
            cpu_a = cpu_seconds(m.pid) - cpu_a0
            counted = (sample(b1, "tool_executions_total", tool=comm) -
                       sample(b0, "tool_executions_total", tool=comm))
            peers["toolwatch_capture_pct"] = counted / st["count"] * 100
            peers["toolwatch_cpu_s"] = cpu_a
            peers["executions"] = st["count"]
            peers["program_ms"] = 5
            if pe:
                cpu_p = cpu_seconds(pe.pid) - cpu_p0
                _, pb = fetch(port)
                groups = set(re.findall(rb'^namedprocess_namegroup_num_procs\{groupname="'
                                        + re.escape(comm.encode()) + rb':(\d+)"\}', pb, re.M))
                peers["process_exporter_capture_pct"] = len(groups) / st["count"] * 100
                peers["process_exporter_cpu_s"] = cpu_p
                peers["process_exporter_scrapes"] = len(pe_scraper.latencies)
        except Unavailable as e:
            peers["process_exporter_capture_pct"] = None
            peers["process_exporter_unavailable"] = str(e)
            self.note("process-exporter: n/a: %s" % e)
        finally:
            if pe_scraper:
                pe_scraper.stop()
            if pe:
                pe.terminate()
                pe.wait(timeout=15)
            m.stop()

    # ---- report ---------------------------------------------------------------------------
    def report(self, wall):
        r = self.res
        c = self.cfg

        def f(v, fmt="%.1f"):
            return "n/a" if v is None else fmt % v

        def p(v):
            return "n/a" if v is None else "%+.1f%%" % v

        def verdict(ok):
            return "" if ok is None else ("OK" if ok else "MISS")

        def le(v, t):
            return None if v is None else v <= t

        cpu = platform.processor() or ""
        try:
            with open("/proc/cpuinfo") as fh:
                cpu = re.search(r"model name\s*:\s*(.*)", fh.read()).group(1)
        except (OSError, AttributeError):
            pass
        self.out("toolwatch bench%s: %d CPUs (%s), Linux %s" %
                 (" (quick)" if self.args.quick else "", NCPU, cpu, platform.release()))
        self.out()
        es, pp, bk = r.get("exec_storm", {}), r.get("tcp_pingpong", {}), r.get("tcp_bulk", {})
        # with --base-bin: a "base" column (the other build) beside "agent" (this one)
        cols = ["floor"] + self.agent_labels()
        head = "%-24s" + " %8s" * (len(cols) + 1) + " %7s" * len(cols)
        if es:
            if self.base:
                self.out("base = %s, agent = this build" % self.args.base_name)
            self.out((head + "  %s") % tuple(
                ["medians of %d rounds" % getattr(self, "rounds_done", 0), "none"] + cols +
                [c_ + "%" for c_ in cols] + ["target"]))

        def row(label, sec, unit, cpu_unit, fmt, target):
            if not sec:
                return
            ov = sec.get("agent_overhead_pct")
            self.out((head + "  <=%.0f%% %s") % tuple(
                [label, f(sec["none_" + unit], fmt)] +
                [f(sec.get(m_ + "_" + unit), fmt) for m_ in cols] +
                [p(sec.get(m_ + "_overhead_pct")) for m_ in cols] +
                [target, verdict(le(ov, target))]))
            self.out(head % tuple(
                ["  " + cpu_unit.replace("_", " "), f(sec["none_" + cpu_unit], "%.2f")] +
                [f(sec.get(m_ + "_" + cpu_unit), "%.2f") for m_ in cols] +
                [p(sec.get(m_ + "_cpu_overhead_pct")) for m_ in cols]))
            for m_ in self.agent_labels():
                rg = sec.get(m_ + "_overhead_pct_range")
                if rg:
                    self.out("  %s per-round range %+.1f%% .. %+.1f%%" % ((m_,) + tuple(rg)))

        row("exec storm, s", es, "s", "cpu_us_per_exec",
            "%.2f", TARGETS["exec_storm"])
        row("tcp ping-pong, rps", pp, "rps", "cpu_us_per_round_trip", "%.0f",
            TARGETS["tcp_pingpong"])
        row("tcp bulk, MB/s", bk, "mbps", "cpu_s_per_gb", "%.0f", TARGETS["tcp_bulk"])
        if es:
            self.out("(exec storm: %d fork+exec+wait of a static no-op, %d workers; TCP over "
                     "loopback, client and server pinned to CPU %d, %.0f s per run: 64-byte "
                     "ping-pong, 1 MiB bulk writes; cpu = workload + monitor process)"
                     % (c["storm_n"], NCPU, NCPU - 1, c["tcp_s"]))
            pe = r.get("peers", {})
            self.out("exec storm slowdown beside peers: agent %s, exitsnoop %s, bpftrace %s" % (
                p(es["agent_overhead_pct"]),
                p(pe.get("exitsnoop_overhead_pct")) if pe.get("exitsnoop_overhead_pct") is not None
                else "n/a (%s)" % pe.get("exitsnoop_unavailable", "?"),
                p(pe.get("bpftrace_overhead_pct")) if pe.get("bpftrace_overhead_pct") is not None
                else "n/a (%s)" % pe.get("bpftrace_unavailable", "?")))
            fc = r.get("floor_check", {})
            if fc.get("match") is False:
                self.out("MISMATCH floor vs agent tracepoints: agent-only [%s], floor-only [%s]"
                         % (", ".join(fc["only_agent"]), ", ".join(fc["only_floor"])))
            elif fc.get("match"):
                self.out("floor == agent tracepoints (%d)" % len(fc["agent"]["tracepoints"]))
            self.out()
        cap = r.get("capacity")
        if cap:
            self.out("capacity, exec/s target->achieved (lost): " + ", ".join(
                "%s->%.0f (%d)" % (s["target"] or "max", s["achieved"], s["lost"] + s["missing"])
                for s in cap["steps"]))
            t = min(TARGETS["no_loss_rate"], cap["machine_max_exec_per_s"])
            self.out("  max exec/s with zero lost events %.0f (machine max %.0f) target >=%.0f %s"
                     % (cap["max_exec_per_s_no_loss"], cap["machine_max_exec_per_s"], t,
                        verdict(cap["max_exec_per_s_no_loss"] >= 0.95 * t)))
            o = cap["overload"]
            self.out("  overload: %s" % cap["overload_method"])
            self.out("  -> %d executed, %d counted, lost events %d %s" % (
                o["executed"], o["counted"], o["lost"], json.dumps(o["lost_by_reason"])))
        ru = r.get("rules")
        if ru and "added_ns" in ru:
            self.out("naming rules: %d rules add %.2f us per execution (%.2f -> %.2f us; target "
                     "<=%.1f us %s); agent CPU %s -> %s us/exec on an exec storm" % (
                         ru["rules"], ru["added_ns"] / 1000, ru["default_ns"] / 1000,
                         ru["with_rules_ns"] / 1000, TARGETS["rules_50_added_us"],
                         verdict(ru["added_ns"] / 1000 <= TARGETS["rules_50_added_us"]),
                         f(ru.get("agent_cpu_us_per_exec"), "%.2f"),
                         f(ru.get("agent_cpu_us_per_exec_rules"), "%.2f")))
        a = r.get("agent", {})
        if a:
            n1, n2 = c["rss_tools"]
            self.out("agent cost: CPU %s s/1000 exec (target <=%.2f %s); idle %s%% CPU, "
                     "RSS %s MiB" % (
                         f(a.get("cpu_s_per_1000_exec"), "%.4f"), TARGETS["cpu_s_per_1000_exec"],
                         verdict(le(a.get("cpu_s_per_1000_exec"),
                                    TARGETS["cpu_s_per_1000_exec"])),
                         f(a.get("cpu_pct_idle"), "%.2f"),
                         f(a.get("rss_bytes_idle") and a["rss_bytes_idle"] / 2**20)))
            r1, r2 = a.get("rss_bytes_%d_tools" % n1), a.get("rss_bytes_%d_tools" % n2)
            self.out("  RSS %d tools %s MiB (target <=32 %s), %d tools %s MiB" % (
                n1, f(r1 and r1 / 2**20), verdict(le(r1, TARGETS["rss_1000_tools"])), n2,
                f(r2 and r2 / 2**20)))
        s = r.get("scrape")
        if s:
            self.out("scrape %d series: p50 %s ms, p99 %s ms (target <=%.0f %s); "
                     "in a storm p50 %s, p99 %s ms" % (
                         s["series"], f(s["p50_ms"], "%.2f"), f(s["p99_ms"], "%.2f"),
                         TARGETS["scrape_p99_ms"],
                         verdict(le(s["p99_ms"], TARGETS["scrape_p99_ms"])),
                         f(s["p50_ms_storm"], "%.2f"), f(s["p99_ms_storm"], "%.2f")))
            if s.get("gzip_body_bytes"):
                self.out("scrape gzipped: %s KiB on the wire instead of %s KiB; p50 %s ms, "
                         "p99 %s ms (target <=%.0f %s)" % (
                             f(s["gzip_body_bytes"] / 1024.0), f(s["body_bytes"] / 1024.0),
                             f(s["gzip_p50_ms"], "%.2f"), f(s["gzip_p99_ms"], "%.2f"),
                             TARGETS["scrape_p99_ms"],
                             verdict(le(s["gzip_p99_ms"], TARGETS["scrape_p99_ms"]))))
        fr = r.get("freshness")
        if fr:
            self.out("freshness (exit -> visible), %d samples: p50 %s ms, p99 %s ms "
                     "(target <=%.0f %s)" % (fr["samples"], f(fr["p50_ms"], "%.2f"),
                                             f(fr["p99_ms"], "%.2f"), TARGETS["freshness_p99_ms"],
                                             verdict(le(fr["p99_ms"],
                                                        TARGETS["freshness_p99_ms"]))))
        sections_sleep.report(self, f)
        if r.get("bpf_ns_per_event"):
            self.report_bpf(r)
        pe = r.get("peers", {})
        if "toolwatch_capture_pct" in pe:
            pc = pe.get("process_exporter_capture_pct")
            self.out("peers, %d x %d ms program: toolwatch captured %.1f%% (CPU %.2f s), "
                     "process-exporter %s (CPU %s s, scraped 1/s)" % (
                         pe["executions"], pe["program_ms"], pe["toolwatch_capture_pct"],
                         pe["toolwatch_cpu_s"],
                         "%.1f%%" % pc if pc is not None else
                         "n/a (%s)" % pe.get("process_exporter_unavailable"),
                         f(pe.get("process_exporter_cpu_s"), "%.2f")))
        if self.foreign:
            comms = {}
            for f_ in self.foreign:
                comms[f_.split("[")[0]] = comms.get(f_.split("[")[0], 0) + 1
            self.out("WARNING: %d other processes (%s) had BPF on tracepoints during the run: "
                     "that skews every mode" % (len(self.foreign), ", ".join(
                         "%s x%d" % kv for kv in sorted(comms.items()))))
        self.report_net()
        for n in self.notes:
            self.out("note: " + n)
        self.out("wall time %.0f s" % wall)

    def report_bpf(self, r):
        """Per program ns per event (base build beside this one), BPF time and ring-buffer
        bytes per unit of work."""
        def f(v, fmt="%.0f"):
            return "n/a" if v is None else fmt % v

        labels = self.agent_labels()
        # the floor's empty program on each tracepoint (program name -> tracepoint)
        fl = {self.prog_tp.get(p_, p_): ns
              for p_, ns in r.get("bpf_ns_per_event_floor", {}).items()}
        ns = {lb: r.get("bpf_ns_per_event" + ("" if lb == "agent" else "_" + lb), {})
              for lb in labels}
        per = r.get("bpf_per_unit", {})
        self.out("BPF cost from kernel stats (%s)" % r.get("bpf_stats_source"))
        self.out(("  %-20s %-20s" + " %6s" * len(labels) + " %6s %8s") % tuple(
            ["program", "tracepoint"] + ["%s ns" % lb[:3] for lb in labels] +
            ["empty", "ev/exec"]))
        progs = sorted(set().union(*[set(v) for v in ns.values()]),
                       key=lambda p_: -ns["agent"].get(p_, 0))
        ex = per.get("agent_exec_storm", {}).get("programs", {})
        for prog in progs:
            tp = self.prog_tp.get(prog, "(not a tracepoint)")
            self.out(("  %-20s %-20s" + " %6s" * len(labels) + " %6s %8s") % tuple(
                [prog, tp] + [f(ns[lb].get(prog)) for lb in labels] +
                [f(fl.get(tp)), f(ex.get(prog, {}).get("events_per_unit"), "%.2f")]))
        for w, key in (("exec_storm", "none_cpu_us_per_exec"),
                       ("tcp_pingpong", "none_cpu_us_per_round_trip"),
                       ("tcp_bulk", "none_cpu_s_per_gb")):
            a, fo = per.get("agent_" + w), per.get("floor_" + w)
            if not a:
                continue
            cpu = r.get(w, {}).get(key)
            if cpu and w == "tcp_bulk":
                cpu = cpu * 1e3  # s per GB -> us per MB
            share = ", %.2f%% of none's CPU" % (a["ns_per_unit"] / 1e3 / cpu * 100) \
                if cpu else ""
            before = "".join(" (%s %.2f)" % (lb, per[lb + "_" + w]["ns_per_unit"] / 1e3)
                             for lb in labels if lb != "agent" and lb + "_" + w in per)
            self.out("  %-12s %.2f us BPF per %s%s (floor %s)%s" % (
                w, a["ns_per_unit"] / 1e3, a["unit"], before,
                f(fo and fo["ns_per_unit"] / 1e3, "%.2f"), share))
        # per execution the kernel saw: immune to other processes' executions
        for w, what, target in (("exec_storm", "execution", " (target <=1.5 us)"),
                                ("interp_storm", "interpreter execution, argv read", "")):
            row = []
            for lb in labels:
                e = per.get(lb + "_" + w, {})
                row.append("%s %s us BPF (exec path %s), %s ring bytes" % (
                    lb, f(e.get("ns_per_kernel_exec") and e["ns_per_kernel_exec"] / 1e3, "%.2f"),
                    f(e.get("exec_path_ns_per_kernel_exec") and
                      e["exec_path_ns_per_kernel_exec"] / 1e3, "%.2f"),
                    f(e.get("ring_bytes_per_kernel_exec"))))
            self.out("  per %s (sched_process_exec runs): %s%s" % (what, "; ".join(row), target))
        # what the hooks cost alone, and with one ring-buffer record per execution
        fl = [(who, per.get(who + "_exec_storm", {}).get("ns_per_kernel_exec"))
              for who in ("floor", "floor_ring")]
        self.out("  per execution, empty programs: %s us; with one 256-byte ring-buffer record "
                 "per execution: %s us" % tuple(f(v and v / 1e3, "%.2f") for _, v in fl))

    # agent CPU when idle, at 1 s and 15 s scrape intervals (sections_sleep.py)
    def idle(self):
        sections_sleep.idle(self, AgentMode, cpu_seconds, fetch, log)

    # failed-exec families: per-syscall cost and coverage (sections_sleep.py)
    def execfail(self):
        sections_sleep.execfail(self, AgentMode, Mode, run_json, log)

    def json_out(self, wall):
        r = dict(self.res)
        r["meta"] = {"quick": bool(self.args.quick), "cpus": NCPU, "kernel": platform.release(),
                     "rounds": getattr(self, "rounds_done", 0), "wall_s": wall, "config": self.cfg,
                     "notes": self.notes, "foreign_bpf": sorted(self.foreign)}
        for k in ("exec_storm", "tcp_pingpong", "tcp_bulk", "capacity", "agent", "scrape",
                  "freshness", "peers"):
            r.setdefault(k, {})
        r.setdefault("bpf_ns_per_event", {})
        with open(self.args.out, "w") as f:
            json.dump(r, f, indent=1, sort_keys=True)
            f.write("\n")
        # the table too, for docs/performance.md
        with open(os.path.splitext(self.args.out)[0] + ".txt", "w") as f:
            f.write("\n".join(self.text) + "\n")


SECTIONS = ["overhead", "capacity", "cost", "scrape", "bpf_cost", "peers", "rules",
            "labels", "native", "net", "idle", "execfail"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--helpers", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--floor", help="floor loader (default: next to --bin)")
    ap.add_argument("--quick", action="store_true", help="smaller counts (< 2 minutes)")
    ap.add_argument("--only", action="append", choices=SECTIONS)
    ap.add_argument("--base-bin", help="an agent built from another commit, run alternately "
                    "with --bin as the 'base' column (make bench BASE=<git ref>)")
    ap.add_argument("--base-name", default="base", help="the base build's label (its ref)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench: needs root (BPF)", file=sys.stderr)
        return 1
    if not os.path.exists("/sys/kernel/tracing/events") and \
            not os.path.exists("/sys/kernel/debug/tracing/events"):
        subprocess.run(["mount", "-t", "tracefs", "tracefs", "/sys/kernel/tracing"])
    b = Bench(args)
    t0 = time.monotonic()
    failed = False
    try:
        for sec in SECTIONS:
            if args.only and sec not in args.only:
                continue
            ts = time.monotonic()
            try:
                getattr(b, sec)()
            except (Unavailable, RuntimeError, OSError, ValueError, KeyError,
                    subprocess.SubprocessError) as e:
                failed = True
                b.note("section %s failed: %s: %s" % (sec, type(e).__name__, e))
            log("section %s: %.1f s" % (sec, time.monotonic() - ts))
        wall = time.monotonic() - t0
        print()
        b.report(wall)
        b.json_out(wall)
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
