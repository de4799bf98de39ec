# SPDX-License-Identifier: GPL-2.0
"""Failed execs seen from the C library (probe exec_failed_libc, opt-in): exact for a
dynamically linked caller, blind to a static one, off by default; and running executions' gauges read at
scrape time while the background sampling is slow."""

import os
import subprocess
import time

from lib import Agent


def failures(m, name):
    return m.get("tool_execution_failure_total", tool=name, error_type="exec_failed")


def spawn_missing(ctx, prefix, n):
    """n failed execs of a path that does not exist; the tool name they count under."""
    name = "%s_%d" % (prefix, os.getpid())
    res = ctx.work.spawn(n, [os.path.join(ctx.work.dir, "nodir", name)])
    assert res["failed"] == n, res
    return name


def register(r):
    @r.test
    def test_libc_failed_execs_counted_exactly(ctx):
        """ENOENT and EACCES from a dynamically linked caller, the uprobes alone."""
        agent = Agent(ctx.binary, ["--probe.enable=exec_failed_libc"]).start()
        try:
            m = agent.scrape()
            assert m.get("toolwatch_probe_enabled", probe="exec_failed_libc") == 1
            assert m.get("toolwatch_probe_enabled", probe="exec_failed") == 0
            missing = spawn_missing(ctx, "twlibcmissing", 7)
            noexec = os.path.join(ctx.work.dir, "twlibcnoexec_%d" % os.getpid())
            with open(noexec, "w") as f:
                f.write("not a program\n")
            os.chmod(noexec, 0o644)
            ctx.work.spawn(3, [noexec])
            m = agent.wait_value("tool_executions_total", 3, tool=os.path.basename(noexec))
            m = agent.wait_value("tool_executions_total", 7, tool=missing)
            assert failures(m, missing) == 7
            assert failures(m, os.path.basename(noexec)) == 3
            assert m.get("tool_execution_duration_seconds_count", tool=missing) == 0
            # a PATH search (env's execvp) that fails everywhere is one failed execution
            subprocess.run(["/usr/bin/env", "PATH=/nonexistent/a:/nonexistent/b",
                            missing + "_path"], stderr=subprocess.DEVNULL)
            m = agent.wait_value("tool_executions_total", 1, tool=missing + "_path")
            assert failures(m, missing + "_path") == 1
        finally:
            assert agent.stop() == 0

    @r.test
    def test_libc_failed_execs_blind_to_static_callers(ctx):
        """A static caller's execve is its own code: the uprobes never see it (the syscall
        tracepoints, probe exec_failed, do)."""
        agent = Agent(ctx.binary, ["--probe.enable=exec_failed_libc"]).start()
        try:
            name = "twstaticmissing_%d" % os.getpid()
            out = subprocess.run([os.path.join(ctx.helpers, "static_spawn"), "5",
                                  os.path.join(ctx.work.dir, "nodir", name)],
                                 check=True, capture_output=True, text=True).stdout
            assert '"failed":5' in out, out
            # a dynamically linked marker after it: once that is counted, so would it be
            marker = "twmarker_%d" % os.getpid()
            ctx.work.spawn(1, [os.path.join(ctx.work.dir, "nodir", marker)])
            m = agent.wait_value("tool_executions_total", 1, tool=marker)
            assert failures(m, name) == 0
        finally:
            assert agent.stop() == 0
        # the exact opt-in sees the static caller's
        agent = Agent(ctx.binary, ["--probe.enable=exec_failed,exec_failed_libc"]).start()
        try:
            assert agent.scrape().get("toolwatch_probe_enabled",
                                      probe="exec_failed_libc") == 0
            subprocess.run([os.path.join(ctx.helpers, "static_spawn"), "5",
                            os.path.join(ctx.work.dir, "nodir", name)],
                           check=True, capture_output=True)
            m = agent.wait_value("tool_executions_total", 5, tool=name)
            assert failures(m, name) == 5
        finally:
            assert agent.stop() == 0

    @r.test
    def test_libc_failed_execs_off_by_default(ctx):
        """Without --probe.enable the uprobes are not attached (each would cost every
        process that maps the C library a copied page) and a failed exec is not counted."""
        agent = Agent(ctx.binary).start()
        try:
            m = agent.scrape()
            assert m.get("toolwatch_probe_enabled", probe="exec_failed_libc") == 0
            assert m.get("toolwatch_probe_enabled", probe="exec_failed") == 0
            missing = spawn_missing(ctx, "twlibcdefault", 2)
            marker = ctx.work.tool("tw_exit")
            ctx.work.spawn(1, [marker, "0"])
            m = agent.wait_value("tool_executions_total", 1, tool=os.path.basename(marker))
            assert m.get("tool_executions_total", tool=missing) == 0
        finally:
            assert agent.stop() == 0

    @r.test
    def test_memory_gauge_fresh_at_scrape_with_slow_sampling(ctx):
        """With a background sample every minute, a scrape still reads a running
        execution's memory as it is now."""
        agent = Agent(ctx.binary, ["--sample.interval=1m"]).start()
        tool = ctx.work.tool("tw_mem")
        name = os.path.basename(tool)
        proc = subprocess.Popen([tool, "64", "30000"], stdout=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 10
            while time.time() < deadline:
                m = agent.scrape()
                if m.get("tool_running", tool=name) == 1 and \
                        m.get("tool_memory_usage_bytes", tool=name) >= 60 << 20:
                    break
                time.sleep(0.3)
            assert m.get("tool_running", tool=name) == 1
            assert m.get("tool_memory_usage_bytes", tool=name) >= 60 << 20, \
                m.get("tool_memory_usage_bytes", tool=name)
        finally:
            proc.kill()
            proc.wait()
            assert agent.stop() == 0
