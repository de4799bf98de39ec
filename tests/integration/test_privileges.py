# SPDX-License-Identifier: GPL-2.0
"""The agent without root: only capabilities (as the DaemonSet runs it), none at all (one
error line), and a missing capability that turns off only the family needing it."""

import os
import shutil
import subprocess
import tempfile

from lib import Agent, Skip


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
    def test_no_capability_fails_in_one_error_line(ctx):
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
    def test_capabilities_without_root(ctx):
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
    def test_missing_capability_degrades_its_family_only(ctx):
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
