# SPDX-License-Identifier: GPL-2.0
"""`toolwatch trace`: the real binary traces real programs; events, statuses, durations,
filters, summaries, clean detach, and independence from the running agent."""

import json
import os
import re
import signal
import subprocess
import tempfile
import time

from lib import Agent, Skip
from test_lifecycle import TOOLWATCH_PROGRAMS, bpf_programs

READY = "tracing executions"
MS = 1000000

# Keys of every exit event (docs/tracing.md): stable, consumers depend on them.
EXIT_KEYS = {
    "time", "event", "tool", "comm", "pid", "ppid", "uid", "cgroup_id", "container_id",
    "pod_uid", "start_time",
    "duration_ns", "status", "status_text", "exit_code", "signal", "core_dumped", "error",
    "wait_status", "reexec", "via", "peak_rss_bytes", "cpu_user_ns", "cpu_system_ns",
    "net_tx_bytes", "net_rx_bytes", "disk_read_bytes", "disk_write_bytes", "tcp_connects",
    "tcp_retransmits", "runq_wait_ns", "blkio_wait_ns", "other_ns", "filename", "argv",
    "argv_truncated", "partial",
}
EXEC_KEYS = {"time", "event", "tool", "comm", "pid", "ppid", "uid", "cgroup_id", "container_id",
             "pod_uid", "filename", "argv", "argv_truncated", "partial"}


class Trace:
    """`toolwatch trace ARGS` running in the background, output kept in temp files."""

    def __init__(self, ctx, args):
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.NamedTemporaryFile(prefix="twtrace-", suffix=".err")
        self.started = time.time()
        self.proc = subprocess.Popen([ctx.binary, "trace"] + list(args), stdout=self.out,
                                     stderr=self.err)

    def stderr(self):
        with open(self.err.name, errors="replace") as f:
            return f.read()

    def wait_ready(self, timeout=20.0):
        deadline = time.time() + timeout
        while READY not in self.stderr():
            if self.proc.poll() is not None:
                raise AssertionError("trace exited with %d before tracing: %s"
                                     % (self.proc.returncode, self.stderr()))
            if time.time() > deadline:
                raise AssertionError("trace not ready after %.0fs: %s" % (timeout, self.stderr()))
            time.sleep(0.02)
        return self

    def finish(self, sig=None, timeout=30.0):
        """Sends sig (None: wait for --duration to end); returns (rc, stdout bytes)."""
        if sig is not None and self.proc.poll() is None:
            time.sleep(0.2)  # let the last exits reach the ring buffer
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("trace did not end within %.0fs" % timeout)
        self.out.seek(0)
        return rc, self.out.read()


def start(ctx, *args):
    return Trace(ctx, args).wait_ready()


def json_events(data):
    """Every line must be one JSON object (JSON Lines)."""
    events = []
    for line in data.decode("utf-8").splitlines():
        obj = json.loads(line)
        assert isinstance(obj, dict), line
        events.append(obj)
    return events


def of_tool(events, path, event="exit"):
    name = os.path.basename(path)
    return [e for e in events if e["tool"] == name and e["event"] == event]


def register(r):
    @r.test
    def test_trace_json_events_statuses_durations(ctx):
        ok = ctx.work.tool("tw_exit")
        failing = ctx.work.tool("tw_exit")
        killed = ctx.work.tool("tw_signal")
        missing = os.path.join(ctx.work.dir, "nodir", "twmissing_trace_%d" % os.getpid())
        t = start(ctx, "--json", "--duration", "4s")
        res = ctx.work.spawn(3, [ok, "0", "50"])
        ctx.work.spawn(2, [failing, "3"])
        ctx.work.spawn(1, [killed, "9"])
        ctx.work.spawn(1, [killed, "15"])
        ctx.work.spawn(2, [missing])
        rc, out = t.finish()
        assert rc == 0, (rc, t.stderr())
        assert time.time() - t.started >= 4.0, "ended before --duration"
        events = json_events(out)
        for e in events:
            assert set(e) == (EXIT_KEYS if e["event"] == "exit" else EXEC_KEYS), e

        runs = of_tool(events, ok)
        assert len(runs) == 3, runs
        for e in runs:
            assert e["status"] == "ok" and e["status_text"] == "ok", e
            assert e["exit_code"] == 0 and e["signal"] is None and e["error"] is None, e
            assert e["argv"] == [ok, "0", "50"] and e["filename"] == ok, e
            assert e["duration_ns"] >= 50 * MS, e  # it slept 50 ms
            assert e["peak_rss_bytes"] > 0 and e["cpu_user_ns"] + e["cpu_system_ns"] > 0, e
        assert sum(e["duration_ns"] for e in runs) <= res["sum_ns"], (runs, res)

        fails = of_tool(events, failing)
        assert len(fails) == 2, fails
        assert all(e["status"] == "exit_code" and e["exit_code"] == 3 and
                   e["status_text"] == "exit 3" for e in fails), fails

        sigs = sorted(of_tool(events, killed), key=lambda e: e["signal"])
        assert [(e["status"], e["signal"], e["status_text"], e["exit_code"]) for e in sigs] == [
            ("signal", "SIGKILL", "SIGKILL", None), ("signal", "SIGTERM", "SIGTERM", None)], sigs

        nx = of_tool(events, missing)
        assert len(nx) == 2, nx
        for e in nx:
            assert e["status"] == "exec_failed" and e["error"] == "ENOENT", e
            assert e["status_text"] == "exec failed: ENOENT", e
            assert e["duration_ns"] is None and e["filename"] == missing, e

    @r.test
    def test_trace_json_hostile_argv_is_valid_and_exact(ctx):
        tool = ctx.work.tool("tw_exit")
        args = ["0", "a b", "tab\there", "nl\nx", "esc\x1b[31m", "caf\u00e9", 'q"\\', ""]
        bad = b"\xff\xfebad"
        t = start(ctx, "--json", "--tool", os.path.basename(tool))
        subprocess.run([tool.encode()] + [a.encode() for a in args] + [bad], check=True)
        rc, out = t.finish(signal.SIGINT)
        assert rc == 0, t.stderr()
        events = json_events(out)  # valid JSON, whatever the bytes
        assert len(events) == 1, events
        assert events[0]["argv"] == [tool] + args + ["\ufffd\ufffdbad"], events[0]["argv"]

    @r.test
    def test_trace_pid_filter(ctx):
        mine, other = ctx.work.tool("tw_exit"), ctx.work.tool("tw_exit")
        # two shells waiting on stdin, then exec'ing a tool: their pids are known up front
        a = subprocess.Popen(["/bin/sh", "-c", "read x; exec %s 0 20" % mine],
                             stdin=subprocess.PIPE)
        b = subprocess.Popen(["/bin/sh", "-c", "read x; exec %s 0 20" % other],
                             stdin=subprocess.PIPE)
        try:
            t = start(ctx, "--json", "--pid", str(a.pid))
            a.communicate(b"go\n", timeout=10)
            b.communicate(b"go\n", timeout=10)
            missing = os.path.join(ctx.work.dir, "nodir", "twmissing_pid")
            ctx.work.spawn(1, [missing])  # failed execs must be filtered too
            rc, out = t.finish(signal.SIGINT)
        finally:
            a.kill()
            b.kill()
        assert rc == 0, t.stderr()
        events = json_events(out)
        assert [(e["tool"], e["pid"], e["status"]) for e in events] == [
            (os.path.basename(mine), a.pid, "ok")], events

    @r.test
    def test_trace_ppid_filter(ctx):
        child, outsider = ctx.work.tool("tw_exit"), ctx.work.tool("tw_exit")
        sh = subprocess.Popen(["/bin/sh", "-c", "read x; exec %s 4 %s 0 1" % (
            os.path.join(ctx.helpers, "tw_spawn"), child)], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL)
        try:
            t = start(ctx, "--json", "--ppid", str(sh.pid))
            ctx.work.spawn(2, [outsider, "0"])
            sh.communicate(b"go\n", timeout=10)
            rc, out = t.finish(signal.SIGTERM)
        finally:
            sh.kill()
        assert rc == 0, t.stderr()
        events = json_events(out)
        assert len(of_tool(events, child)) == 4, events
        assert not of_tool(events, outsider), events
        assert all(e["ppid"] == sh.pid for e in events), events

    @r.test
    def test_trace_uid_filter(ctx):
        tool = ctx.work.tool("tw_exit")
        os.chmod(ctx.work.dir, 0o755)  # let user nobody exec it
        t = start(ctx, "--json", "--uid", "65534")
        ctx.work.spawn(2, [tool, "0"])  # as root: filtered out
        for _ in range(3):
            subprocess.run([tool, "0"], preexec_fn=lambda: os.setuid(65534), check=True)
        rc, out = t.finish(signal.SIGINT)
        assert rc == 0, t.stderr()
        runs = of_tool(json_events(out), tool)
        assert len(runs) == 3 and all(e["uid"] == 65534 for e in runs), runs

    @r.test
    def test_trace_min_duration_filter(ctx):
        short, long_ = ctx.work.tool("tw_exit"), ctx.work.tool("tw_exit")
        missing = os.path.join(ctx.work.dir, "nodir", "twmissing_mind_%d" % os.getpid())
        t = start(ctx, "--json", "--min-duration", "100ms")
        ctx.work.spawn(5, [short, "0", "5"])
        ctx.work.spawn(2, [long_, "0", "150"])
        ctx.work.spawn(1, [missing])
        rc, out = t.finish(signal.SIGINT)
        assert rc == 0, t.stderr()
        events = json_events(out)
        assert not of_tool(events, short), of_tool(events, short)
        runs = of_tool(events, long_)
        assert len(runs) == 2 and all(e["duration_ns"] >= 150 * MS for e in runs), runs
        assert not of_tool(events, missing)
        assert all(e["duration_ns"] is not None and e["duration_ns"] >= 100 * MS
                   for e in events), events

    @r.test
    def test_trace_failed_filter(ctx):
        ok, failing = ctx.work.tool("tw_exit"), ctx.work.tool("tw_exit")
        killed = ctx.work.tool("tw_signal")
        missing = os.path.join(ctx.work.dir, "nodir", "twmissing_failed_%d" % os.getpid())
        t = start(ctx, "--json", "--failed")
        ctx.work.spawn(5, [ok, "0"])
        ctx.work.spawn(2, [failing, "1"])
        ctx.work.spawn(1, [killed, "9"])
        ctx.work.spawn(1, [missing])
        rc, out = t.finish(signal.SIGINT)
        assert rc == 0, t.stderr()
        events = json_events(out)
        assert not of_tool(events, ok)
        assert len(of_tool(events, failing)) == 2
        assert [e["status"] for e in of_tool(events, killed)] == ["signal"]
        assert [e["status"] for e in of_tool(events, missing)] == ["exec_failed"]
        assert all(e["status"] != "ok" for e in events), events

    @r.test
    def test_trace_cgroup_filter(ctx):
        mnt = cgroup2_mount()
        if not mnt:
            raise Skip("no cgroup v2 file system mounted")
        name = "twtrace_%d" % os.getpid()
        cg = os.path.join(mnt, name)
        os.mkdir(cg)
        inside, outside = ctx.work.tool("tw_exit"), ctx.work.tool("tw_exit")
        sh = subprocess.Popen(["/bin/sh", "-c", "echo $$ > %s/cgroup.procs; read x; exec %s 0"
                               % (cg, inside)], stdin=subprocess.PIPE)
        try:
            time.sleep(0.1)
            t = start(ctx, "--json", "--cgroup", name)  # relative to the cgroup2 mount
            ctx.work.spawn(2, [outside, "0"])
            sh.communicate(b"go\n", timeout=10)
            rc, out = t.finish(signal.SIGINT)
            assert rc == 0, t.stderr()
            events = json_events(out)
            assert [e["tool"] for e in events] == [os.path.basename(inside)], events
            # the absolute path names the same cgroup
            p = subprocess.run([ctx.binary, "trace", "--cgroup", cg, "--duration", "10ms"],
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 0, p.stderr
        finally:
            sh.kill()
            sh.wait()
            remove_cgroup(cg)

    @r.test
    def test_trace_exit_keeps_the_cgroup_of_the_exec(ctx):
        """A process moved to another cgroup after its exec ends in the cgroup it ran in."""
        mnt = cgroup2_mount()
        if not mnt:
            raise Skip("no cgroup v2 file system mounted")
        a, b = (os.path.join(mnt, "twmove%s_%d" % (x, os.getpid())) for x in "ab")
        os.mkdir(a)
        os.mkdir(b)
        tool = ctx.work.tool("tw_usleep")
        try:
            t = start(ctx, "--json", "--events", "exec,exit", "--tool", os.path.basename(tool))
            sh = subprocess.Popen(["/bin/sh", "-c", "echo $$ > %s/cgroup.procs; exec %s 400000"
                                   % (a, tool)])
            deadline = time.time() + 10  # moved only once it runs the tool
            while time.time() < deadline:
                try:
                    if os.readlink("/proc/%d/exe" % sh.pid) == tool:
                        break
                except OSError:
                    pass
                time.sleep(0.005)
            with open(os.path.join(b, "cgroup.procs"), "w") as f:
                f.write(str(sh.pid))
            assert sh.wait(timeout=10) == 0
            rc, out = t.finish(signal.SIGINT)
            assert rc == 0, t.stderr()
            events = json_events(out)
            assert [e["event"] for e in events] == ["exec", "exit"], events
            # a cgroup v2 id is its directory's inode number
            assert events[0]["cgroup_id"] == os.stat(a).st_ino != os.stat(b).st_ino, events
            assert events[1]["cgroup_id"] == events[0]["cgroup_id"], events
        finally:
            remove_cgroup(a)
            remove_cgroup(b)

    @r.test
    def test_trace_comm_filter(ctx):
        stem = "tc%d" % (os.getpid() % 100000)
        a = ctx.work.tool("tw_exit", stem=stem + "a_with_a_long_name")
        b = ctx.work.tool("tw_exit", stem=stem + "b")
        # the kernel keeps 15 bytes of a task name: the flag is cut to match
        t = start(ctx, "--json", "--comm", os.path.basename(a))
        ctx.work.spawn(2, [a, "0"])
        ctx.work.spawn(2, [b, "0"])
        rc, out = t.finish(signal.SIGINT)
        assert rc == 0, t.stderr()
        events = json_events(out)
        assert [e["comm"] for e in events] == [os.path.basename(a)[:15]] * 2, events
        t = start(ctx, "--json", "--comm", stem + "[ab]*")  # a glob
        ctx.work.spawn(1, [a, "0"])
        ctx.work.spawn(1, [b, "0"])
        rc, out = t.finish(signal.SIGINT)
        assert sorted(e["tool"] for e in json_events(out)) == sorted(
            [os.path.basename(a), os.path.basename(b)])

    @r.test
    def test_trace_exec_and_exit_events(ctx):
        tool = ctx.work.tool("tw_exit")
        t = start(ctx, "--json", "--events", "exec,exit", "--tool", os.path.basename(tool))
        subprocess.run([tool, "2", "10"])
        rc, out = t.finish(signal.SIGINT)
        assert rc == 0, t.stderr()
        events = json_events(out)
        assert [e["event"] for e in events] == ["exec", "exit"], events
        assert events[0]["pid"] == events[1]["pid"]
        assert events[0]["argv"] == [tool, "2", "10"] == events[1]["argv"]
        assert events[1]["exit_code"] == 2 and events[1]["duration_ns"] >= 10 * MS

    @r.test
    def test_trace_text_lines_fit_80_columns(ctx):
        stem = "tt%d" % (os.getpid() % 100000)
        tool = ctx.work.tool("tw_exit", stem=stem)
        killed = ctx.work.tool("tw_signal", stem=stem + "k")
        missing = os.path.join(ctx.work.dir, "nodir", stem + "m")
        long_arg = "x" * 200
        t = start(ctx, "--duration", "3s")
        ctx.work.spawn(1, [tool, "0", "20", long_arg])
        ctx.work.spawn(1, [tool, "3"])
        ctx.work.spawn(1, [killed, "9"])
        ctx.work.spawn(1, [missing])
        rc, out = t.finish()
        assert rc == 0, t.stderr()
        lines = out.decode("utf-8").splitlines()
        assert lines[0].split() == ["TIME", "TOOL", "PID", "PPID", "DURATION", "STATUS", "ARGS"]
        for line in lines:
            assert len(line) <= 80, (len(line), line)  # stdout is not a terminal: 80
        # TIME(12) TOOL(12) PID(7) PPID(7) DURATION(8) STATUS(12) ARGS, one space apart
        mine = [line for line in lines if line[13:25].strip() in (stem, stem + "k")]
        statuses = sorted(line[51:63].strip() for line in mine)
        assert statuses == ["SIGKILL", "exit 3", "ok"], mine
        assert any(len(line) == 80 and line.endswith("...") for line in mine), mine
        failed = [line for line in lines if line[13:25].strip() == stem + "m"]
        assert len(failed) == 1 and " exec failed: ENOENT /tmp" in failed[0], lines
        # -w: every column, argv in full
        t = start(ctx, "-w", "--duration", "2s")
        ctx.work.spawn(1, [tool, "0", "1", long_arg])
        rc, out = t.finish()
        lines = out.decode("utf-8").splitlines()
        assert "MAXRSS" in lines[0] and "NET_TX" in lines[0] and "DISK_W" in lines[0]
        assert any(line.endswith(tool + " 0 1 " + long_arg) for line in lines), lines

    @r.test
    def test_trace_summary_histogram_and_table(ctx):
        stem = "ts%d" % (os.getpid() % 100000)
        tool = ctx.work.tool("tw_exit", stem=stem)
        failing = ctx.work.tool("tw_exit", stem=stem + "f")
        t = start(ctx, "--summary", "--duration", "3s", "--tool", stem + "*")
        ctx.work.spawn(20, [tool, "0", "10"])
        ctx.work.spawn(2, [failing, "1"])
        rc, out = t.finish()
        assert rc == 0, t.stderr()
        text = out.decode("utf-8")
        assert "summary of 3.00s: 22 executions, 2 failed, 2 tools" in text, text
        assert "tool = %s\n     usecs               : count    distribution\n" % stem in text
        # 10 ms is 10,000 us: from the 8192 -> 16383 slot up (a busy host adds to some)
        hist = text.split("tool = %s\n" % stem)[1].split("\n\n")[0].splitlines()[1:]
        slots = {int(line.split()[0]): int(line.split(":")[1].split()[0]) for line in hist}
        assert sum(slots.values()) == 20 and slots[8192] >= 1, hist
        assert not any(v for low, v in slots.items() if low < 8192), hist
        table, split = text.split("where the time went (mean per execution):\n")
        row = [line.split() for line in table.splitlines() if line.startswith(stem + " ")]
        assert len(row) == 1 and row[0][1:3] == ["20", "0"], row
        # the tool sleeps 10 ms: that is neither CPU nor a wait for a CPU or the disk
        srow = [line.split() for line in split.splitlines() if line.startswith(stem + " ")]
        assert len(srow) == 1 and srow[0][3] in ("-", "0ns"), srow
        assert srow[0][4].endswith("ms") and 9 <= float(srow[0][4][:-2]) <= 15, srow
        assert row[0][3].endswith("ms") and 10 <= float(row[0][3][:-2]) <= 15, row
        frow = [line.split() for line in table.splitlines() if line.startswith(stem + "f ")]
        assert frow[0][1:3] == ["2", "2"], frow

        t = start(ctx, "--summary", "--json", "--duration", "2s", "--tool", stem)
        ctx.work.spawn(10, [tool, "0", "10"])
        rc, out = t.finish()
        assert rc == 0, t.stderr()
        events = json_events(out)
        assert len(events) == 1 and events[0]["event"] == "summary", events
        s = events[0]
        assert s["tool"] == stem and s["count"] == 10 and s["failures"] == 0, s
        assert 10 * MS <= s["duration_p50_ns"] <= s["duration_p99_ns"] <= s["duration_max_ns"]
        assert s["duration_max_ns"] < 100 * MS, s
        log2 = s["duration_log2_us"]
        assert sum(log2) == 10 and not any(log2[:13]), s  # nothing under 8192 us

    @r.test
    def test_trace_interval_summaries(ctx):
        tool = ctx.work.tool("tw_exit")
        t = start(ctx, "--interval", "1s", "--duration", "3500ms", "--tool",
                  os.path.basename(tool))
        ctx.work.spawn(3, [tool, "0"])
        rc, out = t.finish()
        assert rc == 0, t.stderr()
        text = out.decode("utf-8")
        headers = [line for line in text.splitlines() if " summary of " in line]
        assert len(headers) == 4, text  # three intervals and the rest at the end
        assert sum(int(h.split(": ")[1].split()[0]) for h in headers) == 3, headers

    @r.test
    def test_trace_detaches_on_sigint_sigterm_and_duration(ctx):
        for how in ("SIGINT", "SIGTERM", "SIGHUP", "duration"):
            t = start(ctx, "--duration", "1500ms") if how == "duration" else start(ctx)
            mine = own_programs(t.proc.pid)
            # its own instance of the programs, not the agent's
            assert {"handle_exec", "handle_exit"} <= set(mine.values()), mine
            assert not set(mine) & own_programs(ctx.agent.proc.pid).keys(), mine
            rc, _ = t.finish(getattr(signal, how, None))
            assert rc == 0, (how, rc, t.stderr())
            assert_detached(mine)

    @r.test
    def test_trace_ends_quietly_when_reader_goes_away(ctx):
        tool = ctx.work.tool("tw_exit")
        p = subprocess.Popen([ctx.binary, "trace"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            p.stdout.readline()  # the header: tracing has started
            mine = own_programs(p.pid)
            p.stdout.close()  # like `| head -1`
            ctx.work.spawn(20, [tool, "0"])
            rc = p.wait(timeout=10)
        finally:
            p.kill()
        assert rc == 0, (rc, p.stderr.read())
        assert_detached(mine)

    @r.test
    def test_trace_alongside_agent_changes_no_counts(ctx):
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        # a second agent whose tool table cannot fill up with other runs' names, next to
        # the suite's long-running one: neither may see a count change because of trace
        fresh = Agent(ctx.binary, ["--tools.max=100000"]).start()
        try:
            before = [a.scrape() for a in (ctx.agent, fresh)]
            t = start(ctx, "--json", "--tool", name)
            ctx.work.spawn(30, [tool, "0"])
            ctx.work.spawn(10, [tool, "5"])
            rc, out = t.finish(signal.SIGINT)
            assert rc == 0, t.stderr()
            events = json_events(out)
            assert len(events) == 40, len(events)
            assert sum(e["status"] == "ok" for e in events) == 30
            fresh.wait_value("tool_executions_total", 40, tool=name)
            ctx.agent.wait_value("tool_executions_total", 40, tool=name, timeout=3)
            time.sleep(0.3)
            for agent, m0 in zip((ctx.agent, fresh), before):
                m = agent.scrape()
                overflowed = (m.get("toolwatch_tools_overflow_total") >
                              m0.get("toolwatch_tools_overflow_total"))
                counts = (m.get("tool_executions_total", tool=name),
                          m.get("tool_execution_success_total", tool=name),
                          m.get("tool_execution_failure_total", tool=name,
                                error_type="exit_code"))
                # the suite's agent may have run out of names (concurrent test runs)
                if agent is fresh or not overflowed:
                    assert counts == (40, 30, 10), (counts, overflowed)
                assert lost_total(m) == lost_total(m0), "the agent lost events"
            assert "lost" not in t.stderr(), t.stderr()
        finally:
            assert fresh.stop() == 0

    @r.test
    def test_trace_events_lists_only_what_works(ctx):
        p = subprocess.run([ctx.binary, "trace", "--help"], capture_output=True, text=True)
        events = [line for line in p.stdout.splitlines() if line.startswith("  --events")]
        assert events == ["  --events=LIST      exec, exit, anomaly or all (default exit)"], \
            events
        for kind in ("net", "mem"):
            p = subprocess.run([ctx.binary, "trace", "--events", "exit," + kind],
                               capture_output=True, text=True, timeout=10)
            assert p.returncode == 2 and not p.stdout, (kind, p.returncode, p.stderr)
            assert p.stderr.splitlines() == [
                "toolwatch trace: invalid --events 'exit,%s': unknown item '%s'; want a list "
                "of exec, exit, anomaly or all (see 'toolwatch trace --help')" % (kind, kind)], \
                p.stderr
        t = start(ctx, "--events", "all", "--duration", "500ms")
        rc, _ = t.finish()
        assert rc == 0, t.stderr()
        assert "not available" not in t.stderr(), t.stderr()

    @r.test
    def test_trace_print_uid_column(ctx):
        stem = "tu%d" % (os.getpid() % 100000)
        tool = ctx.work.tool("tw_exit", stem=stem)
        os.chmod(ctx.work.dir, 0o755)  # let user nobody exec it
        t = start(ctx, "-U", "--tool", stem)
        subprocess.run([tool, "0"], check=True)
        subprocess.run([tool, "0"], preexec_fn=lambda: os.setuid(65534), check=True)
        rc, out = t.finish(signal.SIGINT)
        assert rc == 0, t.stderr()
        lines = out.decode("utf-8").splitlines()
        assert lines[0].split() == ["TIME", "TOOL", "PID", "PPID", "UID", "DURATION", "STATUS",
                                    "ARGS"], lines[0]
        rows = [line.split() for line in lines[1:]]
        assert sorted((r[1], r[4], r[6]) for r in rows) == [
            (stem, "0", "ok"), (stem, "65534", "ok")], lines
        assert all(len(line) <= 80 for line in lines), lines

    @r.test
    def test_trace_quote_and_max_args(ctx):
        stem = "tq%d" % (os.getpid() % 100000)
        tool = ctx.work.tool("tw_exit", stem=stem)
        argv = [tool, "0", "a b", 'q"x', "c\\d", ""]
        t = start(ctx, "-w", "-q", "--tool", stem)
        subprocess.run(argv, check=True)
        rc, out = t.finish(signal.SIGINT)
        assert rc == 0, t.stderr()
        rows = out.decode("utf-8").splitlines()[1:]
        assert len(rows) == 1, rows
        assert rows[0].endswith(' "%s" "0" "a b" "q\\"x" "c\\\\d"' % tool), rows[0]

        t = start(ctx, "-w", "--max-args", "2", "--tool", stem)
        subprocess.run(argv, check=True)
        subprocess.run([tool, "0"], check=True)
        rc, out = t.finish(signal.SIGINT)
        assert rc == 0, t.stderr()
        rows = out.decode("utf-8").splitlines()[1:]
        assert len(rows) == 2, rows
        assert sum(r.endswith(" %s 0..." % tool) for r in rows) == 1, rows
        assert sum(r.endswith(" %s 0" % tool) for r in rows) == 1, rows

        t = start(ctx, "--json", "--max-args", "2", "--tool", stem)
        subprocess.run(argv, check=True)
        rc, out = t.finish(signal.SIGINT)
        events = json_events(out)
        assert [(e["argv"], e["argv_truncated"]) for e in events] == [([tool, "0"], True)], \
            events

    @r.test
    def test_trace_time_flags_as_execsnoop(ctx):
        stem = "tk%d" % (os.getpid() % 100000)
        tool = ctx.work.tool("tw_exit", stem=stem)
        # -T: the time of day (the default); -t: seconds since tracing began
        for flag, pattern in (("-T", r"^\d\d:\d\d:\d\d\.\d{3}$"), ("-t", r"^\d+\.\d{3}$")):
            t = start(ctx, flag, "--tool", stem)
            subprocess.run([tool, "0"], check=True)
            rc, out = t.finish(signal.SIGINT)
            assert rc == 0, t.stderr()
            lines = out.decode("utf-8").splitlines()
            assert lines[0].split()[0] == ("TIME" if flag == "-T" else "TIME(s)"), lines
            assert len(lines) == 2 and re.match(pattern, lines[1].split()[0]), lines
        p = subprocess.run([ctx.binary, "trace", "-t", "-T"], capture_output=True, text=True,
                           timeout=10)
        assert p.returncode == 2 and len(p.stderr.splitlines()) == 1, p.stderr
        assert "'-t' and '-T'" in p.stderr, p.stderr

    @r.test
    def test_trace_name_regex(ctx):
        stem = "tn%d" % (os.getpid() % 100000)
        a = ctx.work.tool("tw_exit", stem=stem + "a")
        b = ctx.work.tool("tw_exit", stem=stem + "b")
        c = ctx.work.tool("tw_exit", stem=stem + "c")
        # a tool name longer than the 15 bytes of a comm: found by its tool name
        long_ = ctx.work.tool("tw_exit", stem=stem + "_long_name_tail")
        missing = os.path.join(ctx.work.dir, "nodir", stem + "a")
        t = start(ctx, "--json", "-n", "^%s[ab]$|_tail$" % stem)
        for tool in (a, b, c, long_, missing):
            ctx.work.spawn(1, [tool, "0"])
        rc, out = t.finish(signal.SIGINT)
        assert rc == 0, t.stderr()
        got = sorted((e["tool"], e["status"]) for e in json_events(out))
        assert got == sorted([(stem + "a", "ok"), (stem + "b", "ok"), (stem + "a", "exec_failed"),
                              (stem + "_long_name_tail", "ok")]), got

    @r.test
    def test_trace_line_regex(ctx):
        stem = "tl%d" % (os.getpid() % 100000)
        tool = ctx.work.tool("tw_exit", stem=stem)
        missing = os.path.join(ctx.work.dir, "nodir", stem + "_missing")
        # --tool: tw_spawn's own command line ends in "marker42 end" too
        t = start(ctx, "--json", "-l", r"marker[0-9]+ end$|/nodir/%s_m" % stem, "--tool",
                  stem + "*")
        ctx.work.spawn(1, [tool, "0", "0", "marker42 end"])
        ctx.work.spawn(1, [tool, "0", "0", "marker end"])
        ctx.work.spawn(1, [tool, "0", "0", "marker42 end", "x"])
        ctx.work.spawn(1, [missing])
        rc, out = t.finish(signal.SIGINT)
        assert rc == 0, t.stderr()
        got = sorted((e["argv"] or [e["filename"]]) for e in json_events(out))
        assert got == sorted([[tool, "0", "0", "marker42 end"], [missing]]), got

    @r.test
    def test_trace_uid_by_user_name(ctx):
        tool = ctx.work.tool("tw_exit")
        os.chmod(ctx.work.dir, 0o755)
        t = start(ctx, "--json", "-u", "nobody", "--tool", os.path.basename(tool))
        ctx.work.spawn(2, [tool, "0"])  # as root: filtered out (in the kernel)
        subprocess.run([tool, "0"], preexec_fn=lambda: os.setuid(65534), check=True)
        # a failed exec of the same tool name by root: filtered in user space
        missing = os.path.join(ctx.work.dir, "nodir", os.path.basename(tool))
        ctx.work.spawn(1, [missing])
        rc, out = t.finish(signal.SIGINT)
        assert rc == 0, t.stderr()
        events = json_events(out)
        assert [(e["uid"], e["status"]) for e in events] == [(65534, "ok")], events

    @r.test
    def test_trace_bad_user_regex_rules_one_line_exit_2(ctx):
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as bad_rules:
            bad_rules.write("process_names:\n  - name: x\n    cmdline: ['(']\n")
            bad_rules.flush()
            cases = [
                (["-u", "nosuchuser_tw"], "invalid --uid 'nosuchuser_tw': no such user"),
                (["--uid=nosuchuser_tw", "--json"], "invalid --uid 'nosuchuser_tw': no such user"),
                (["-n", "("], "invalid --name '(': missing closing parenthesis at offset 1"),
                (["--json", "-l", "a[b"], "invalid --line 'a[b': missing terminating ] for "
                 "character class at offset 3"),
                (["-n", "ok", "--line=x{2,1}"], "invalid --line 'x{2,1}': numbers out of order "
                 "in {} quantifier at offset 5"),
                (["--tools.rules", "/nonexistent/tw_rules.yml"], "bad --tools.rules: "),
                (["--tools.rules", bad_rules.name], "bad --tools.rules: "),
            ]
            for args, want in cases:
                p = subprocess.run([ctx.binary, "trace"] + args, capture_output=True, text=True,
                                   timeout=10)
                lines = p.stderr.splitlines()
                assert p.returncode == 2 and not p.stdout, (args, p.returncode, p.stderr)
                assert len(lines) == 1, (args, p.stderr)
                assert lines[0].startswith("toolwatch trace: " + want), (args, lines)

    @r.test
    def test_trace_lines_in_time_order(ctx):
        stem = "to%d" % (os.getpid() % 100000)
        tools = [ctx.work.tool("tw_exit", stem=stem + str(i)) for i in range(4)]

        def burst():
            # four concurrent streams of short processes: exits race across the CPUs
            procs = [subprocess.Popen([os.path.join(ctx.helpers, "tw_spawn"), "60", tool, "0",
                                       str(i % 3)], stdout=subprocess.DEVNULL)
                     for i, tool in enumerate(tools)]
            for p in procs:
                assert p.wait(timeout=60) == 0

        t = start(ctx, "-w", "-t", "--duration", "4s")
        burst()
        rc, out = t.finish()
        assert rc == 0, t.stderr()
        lines = out.decode("utf-8").splitlines()
        assert lines[0].startswith("TIME(s) "), lines[0]
        stamps = [float(line.split()[0]) for line in lines[1:]]
        mine = [line for line in lines[1:] if line.split()[1].startswith(stem)]
        assert len(mine) == 240, len(mine)
        bad = [(a, b) for a, b in zip(stamps, stamps[1:]) if b < a]
        assert not bad, bad[:5]
        assert "out of time order" not in t.stderr(), t.stderr()

        t = start(ctx, "--json", "--events", "exec,exit", "--duration", "4s")
        burst()
        rc, out = t.finish()
        assert rc == 0, t.stderr()
        times = [e["time"] for e in json_events(out)]  # RFC 3339 UTC, ns: sorts as text
        assert len([1 for e in json_events(out) if e["tool"].startswith(stem)]) == 480
        bad = [(a, b) for a, b in zip(times, times[1:]) if b < a]
        assert not bad, bad[:5]

    @r.test
    def test_trace_text_escapes_names_as_labels(ctx):
        stem = "te%d" % (os.getpid() % 100000)
        # a backslash and an ESC byte: two names, and two different lines
        slash = ctx.work.tool("tw_exit", stem=stem + "\\x1b")
        esc = ctx.work.tool("tw_exit", stem=stem + "\x1b")
        t = start(ctx, "-w", "--tool", stem + "*")
        subprocess.run([slash, "0", "a\\b"], check=True)
        subprocess.run([esc, "0", "a\nb"], check=True)
        rc, out = t.finish(signal.SIGINT)
        assert rc == 0, t.stderr()
        assert b"\x1b" not in out, out
        rows = out.decode("utf-8").splitlines()[1:]
        tools = sorted(r.split()[1] for r in rows)
        assert tools == sorted([stem + "\\\\x1b", stem + "\\x1b"]), tools
        assert any(r.endswith("x1b 0 a\\\\b") for r in rows), rows
        assert any(r.endswith("x1b 0 a\\nb") for r in rows), rows
        # the same forms as --json gives the tool
        t = start(ctx, "--json", "--tool", stem + "*")
        subprocess.run([slash, "0"], check=True)
        subprocess.run([esc, "0"], check=True)
        rc, out = t.finish(signal.SIGINT)
        assert sorted(e["tool"] for e in json_events(out)) == tools

    @r.test
    def test_trace_tools_rules_name_failed_execs(ctx):
        stem = "tr%d" % (os.getpid() % 100000)
        tool = ctx.work.tool("tw_exit", stem=stem + "ok")
        missing = os.path.join(ctx.work.dir, "nodir", stem + "gone")
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as rules:
            rules.write("process_names:\n"
                        "  - name: 'ruled-{{.Comm}}'\n"
                        "    comm: [%sok, %sgone]\n" % (stem, stem))
            rules.flush()
            t = start(ctx, "--json", "--tools.rules", rules.name, "-n", stem)
            ctx.work.spawn(2, [tool, "0"])
            ctx.work.spawn(1, [missing])
            rc, out = t.finish(signal.SIGINT)
        assert rc == 0, t.stderr()
        got = sorted((e["tool"], e["status"]) for e in json_events(out))
        assert got == sorted([("ruled-%sok" % stem, "ok")] * 2 +
                             [("ruled-%sgone" % stem, "exec_failed")]), got

    @r.test
    def test_trace_bad_flags_exit_2_naming_the_flag(ctx):
        cases = [["--bogus"], ["--pid=abc"], ["--pid", "0"], ["--duration=5"],
                 ["--duration", "soon"], ["--min-duration=-1s"], ["--interval=0"],
                 ["--events=exec,bogus"], ["--uid=nosuchuser_tw"], ["--cgroup=/nonexistent/twcg"],
                 ["--cgroup", "no_such_cgroup_tw"], ["--pid=1", "--pid=2"], ["--comm="],
                 ["--json=maybe"], ["--ppid"]]
        for args in cases:
            p = subprocess.run([ctx.binary, "trace"] + args, capture_output=True, text=True,
                               timeout=10)
            flag = args[0].split("=")[0]
            assert p.returncode == 2, (args, p.returncode, p.stderr)
            assert flag in p.stderr.splitlines()[0], (args, p.stderr)
            assert not p.stdout, (args, p.stdout)
        p = subprocess.run([ctx.binary, "trace", "stray"], capture_output=True, text=True)
        assert p.returncode == 2 and "'stray'" in p.stderr, p.stderr
        p = subprocess.run([ctx.binary, "trace", "--help"], capture_output=True, text=True)
        assert p.returncode == 0 and "EXAMPLES" in p.stdout and "--min-duration" in p.stdout
        assert max(len(line) for line in p.stdout.splitlines()) <= 80
        p = subprocess.run([ctx.binary, "--help"], capture_output=True, text=True)
        assert p.returncode == 0 and "toolwatch trace" in p.stdout


def own_programs(pid):
    """{id: name} of the toolwatch BPF programs process pid holds (by its fds)."""
    ids = set()
    fd_dir = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fd_dir):
        try:
            with open(os.path.join(fd_dir, fd)) as f:
                ids.update(int(line.split()[1]) for line in f if line.startswith("prog_id:"))
        except OSError:
            pass
    return {p["id"]: p.get("name", "") for p in bpf_programs()
            if p["id"] in ids and p.get("name") in TOOLWATCH_PROGRAMS}


def assert_detached(progs):
    """None of these programs, nor a link to one, is left in the kernel. Compared by id:
    agents and traces of other test runs may be running meanwhile. The kernel frees a
    program asynchronously after its last reference goes: allow it a few seconds."""
    deadline = time.time() + 5
    while True:
        left = {p["id"] for p in bpf_programs()} & set(progs)
        if not left or time.time() > deadline:
            break
        time.sleep(0.1)
    assert not left, "BPF programs left behind: %s" % {i: progs[i] for i in left}
    out = subprocess.run(["bpftool", "-j", "link", "show"], capture_output=True, text=True,
                         check=True).stdout
    links = [ln for ln in json.loads(out or "[]") if ln.get("prog_id") in progs]
    assert not links, "BPF links left behind: %s" % links


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[:1] == ["cgroup2"]:
                return left.split()[4]
    return None


def remove_cgroup(path):
    """Removes a test's cgroup once its last process has left it (tried for 5 s)."""
    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except OSError:
            time.sleep(0.1)


def lost_total(m):
    return sum(v for (n, _), v in m.samples.items() if n == "toolwatch_events_lost_total")
