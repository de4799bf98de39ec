# SPDX-License-Identifier: GPL-2.0
"""Hostile inputs kept in the suite: tool names that used to collapse into one label
value, a non-root agent with only capabilities, start-up wording."""

import os
import shutil
import signal
import subprocess
import tempfile

from lib import Agent, Skip
from test_trace import Trace, json_events

# Before the visible encoding, every one of the first four rendered as U+FFFD U+FFFD.
COLLIDING = [b"\xff\xfe", b"\xfe\xff", b"\xff\xff", "\ufffd\ufffd".encode(),
             b"\\xff\\xfe", b"\\\\xff\\xfe", b"tw\x1b[31mred", b"tw\ttab", b"tw\rcr",
             b"tw\\tab", "tw\u202eevil".encode()]


def visible(name):
    """The label value the README promises for the bytes of name."""
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


ALWAYS_ON = ["exec", "exec_failed", "task_iter", "fork", "net", "tcp", "oom", "blockio",
             "sampler"]


def capability_agent(ctx, caps, args=()):
    """The agent as user nobody holding only caps (ambient), with its own state dir."""
    if not shutil.which("setpriv"):
        raise Skip("setpriv not installed (util-linux)")
    home = tempfile.mkdtemp(prefix="twcaps.")
    os.chmod(home, 0o755)
    binary = os.path.join(home, "toolwatch")
    shutil.copy(ctx.binary, binary)
    os.chmod(binary, 0o755)
    state = os.path.join(home, "state")
    os.mkdir(state)
    shutil.chown(state, "nobody", "nogroup")
    # with the opt-in exec_failed: what each family needs is the point
    agent = Agent(binary, ["--probe.enable=exec_failed"] + list(args), state_dir=state)
    spec = ",".join("+" + c for c in caps)
    keep = ["--inh-caps=" + spec, "--ambient-caps=" + spec] if caps else []
    agent.args = ["--reuid=nobody", "--regid=nogroup", "--clear-groups"] + keep + \
        [binary] + agent.args
    agent.binary = shutil.which("setpriv")
    agent.home = home
    return agent


def register(r):
    @r.test
    def test_hardening_bad_flags_print_one_line(ctx):
        cases = [["--tools.max=x\ny"], ["--probe.disable=net,a\n\x1b[2J"], ["--bogus"],
                 ["trace", "--bogus"], ["trace", "--events=exit,\nx"], ["trace", "--pid"]]
        for args in cases:
            p = subprocess.run([ctx.binary] + args, capture_output=True, text=True, timeout=10)
            assert p.returncode == 2, (args, p.returncode, p.stderr)
            assert p.stderr.count("\n") == 1 and p.stderr.endswith("\n"), (args, p.stderr)
            assert "\x1b" not in p.stderr and "--help')" in p.stderr, (args, p.stderr)

    @r.test
    def test_hardening_no_capability_fails_in_one_error_line(ctx):
        agent = capability_agent(ctx, [])
        try:
            agent.log = open(agent.log_path, "w")
            p = subprocess.run([agent.binary] + agent.args, stdout=agent.log,
                               stderr=subprocess.STDOUT, timeout=30)
            agent.log.close()
            log = agent.read_log()
            assert p.returncode == 1, (p.returncode, log)
            errors = [line for line in log.splitlines() if "level=error" in line]
            assert len(errors) == 1, log
            assert "cannot load BPF programs" in errors[0] and "CAP_BPF" in errors[0], errors
            assert "missing capabilities: CAP_BPF (every family" in log, log
            assert "libbpf: libbpf:" not in log, log
        finally:
            shutil.rmtree(agent.home, ignore_errors=True)

    @r.test
    def test_hardening_capabilities_without_root(ctx):
        agent = capability_agent(ctx, ["bpf", "perfmon", "dac_read_search"], ["--bpf.stats"])
        try:
            agent.start()
            m = agent.scrape()
            off = [p for p in ALWAYS_ON if m.get("toolwatch_probe_enabled", probe=p) != 1]
            assert not off, ("families not attached without root", off, agent.read_log())
            tool = ctx.work.tool("tw_exit")
            name = os.path.basename(tool)
            ctx.work.spawn(7, [tool, "3"])
            missing = os.path.join(ctx.work.dir, "nodir", name + "_missing")
            ctx.work.spawn(5, [missing])
            m = agent.wait_value("tool_executions_total", 7, tool=name)
            assert m.get("tool_executions_total", tool=name) == 7, m.series("tool_executions_total")
            assert m.get("tool_execution_failure_total", tool=name, error_type="exit_code") == 7
            m = agent.wait_value("tool_execution_failure_total", 5, tool=name + "_missing",
                                 error_type="exec_failed")
            assert m.get("tool_execution_failure_total", tool=name + "_missing",
                         error_type="exec_failed") == 5
            # run times are not measured without CAP_SYS_ADMIN: not exported as zeros (unless
            # someone else has kernel.bpf_stats_enabled on: then they are real figures)
            with open("/proc/sys/kernel/bpf_stats_enabled") as f:
                stats_on = f.read().strip() != "0"
            if not stats_on:
                assert "toolwatch_bpf_program_run" not in m.text
            log = agent.read_log()
            assert "missing capabilities: CAP_SYS_ADMIN (--bpf.stats" in log, log
            assert log.count("cannot enable BPF run-time statistics") == 1, log
            assert "cannot mount tracefs" not in log, log
        finally:
            assert agent.stop() == 0, agent.read_log()[-2000:]
            shutil.rmtree(agent.home, ignore_errors=True)

    @r.test
    def test_hardening_missing_capability_degrades_its_family_only(ctx):
        agent = capability_agent(ctx, ["bpf", "perfmon"])
        try:
            agent.start()
            m = agent.scrape()
            assert m.get("toolwatch_probe_enabled", probe="exec_failed") == 0
            off = [p for p in ALWAYS_ON
                   if p != "exec_failed" and m.get("toolwatch_probe_enabled", probe=p) != 1]
            assert not off, (off, agent.read_log())
            log = agent.read_log()
            assert "missing capabilities: CAP_DAC_READ_SEARCH (exec_failed: reading tracefs)" \
                in log, log
            tool = ctx.work.tool("tw_exit")
            ctx.work.spawn(3, [tool, "0"])
            m = agent.wait_value("tool_executions_total", 3, tool=os.path.basename(tool))
            assert m.get("tool_executions_total", tool=os.path.basename(tool)) == 3
        finally:
            assert agent.stop() == 0, agent.read_log()[-2000:]
            shutil.rmtree(agent.home, ignore_errors=True)

    @r.test
    def test_hardening_colliding_names_distinct_series(ctx):
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
