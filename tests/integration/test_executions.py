# SPDX-License-Identifier: GPL-2.0
"""Executions are traced and counted exactly: outcomes, durations, forks, threads,
processes running before the agent, and the --tools.max cap."""

import os
import resource
import shutil
import subprocess
import tempfile
import time

from lib import Agent, Skip


def register(r):
    @r.test
    def test_success_counted_exactly(ctx):
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        res = ctx.work.spawn(50, [tool, "0"])
        assert res["ok"] == 50, res
        m = ctx.agent.wait_value("tool_executions_total", 50, tool=name)
        assert m.get("tool_executions_total", tool=name) == 50
        assert m.get("tool_execution_success_total", tool=name) == 50
        for et in ("exit_code", "signal", "core_dump", "exec_failed", "oom_kill"):
            assert m.get("tool_execution_failure_total", tool=name, error_type=et) == 0, et
        assert m.get("tool_execution_duration_seconds_count", tool=name) == 50
        assert m.get("tool_running", tool=name) == 0

    @r.test
    def test_nonzero_exit_is_exit_code_failure(ctx):
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        ctx.work.spawn(20, [tool, "3"])
        m = ctx.agent.wait_value("tool_executions_total", 20, tool=name)
        assert m.get("tool_executions_total", tool=name) == 20
        assert m.get("tool_execution_success_total", tool=name) == 0
        assert m.get("tool_execution_failure_total", tool=name, error_type="exit_code") == 20
        assert m.get("tool_execution_failure_total", tool=name, error_type="signal") == 0

    @r.test
    def test_killed_by_signal(ctx):
        tool = ctx.work.tool("tw_signal")
        name = os.path.basename(tool)
        ctx.work.spawn(5, [tool, "9"])   # SIGKILL
        ctx.work.spawn(3, [tool, "15"])  # SIGTERM
        m = ctx.agent.wait_value("tool_executions_total", 8, tool=name)
        assert m.get("tool_executions_total", tool=name) == 8
        assert m.get("tool_execution_failure_total", tool=name, error_type="signal") == 8
        assert m.get("tool_execution_failure_total", tool=name, error_type="core_dump") == 0

    @r.test
    def test_core_dump(ctx):
        tool = ctx.work.tool("tw_signal")
        name = os.path.basename(tool)
        cores = signals = 0
        cwd = tempfile.mkdtemp(prefix="twcore.")
        try:
            for _ in range(3):
                pid = os.fork()
                if pid == 0:
                    try:
                        os.chdir(cwd)
                        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY,
                                                                  resource.RLIM_INFINITY))
                        os.execv(tool, [tool, "11"])  # SIGSEGV
                    finally:
                        os._exit(127)
                _, status = os.waitpid(pid, 0)
                assert os.WIFSIGNALED(status), status
                if os.WCOREDUMP(status):
                    cores += 1
                else:
                    signals += 1
        finally:
            shutil.rmtree(cwd, ignore_errors=True)
        if not cores:
            pattern = open("/proc/sys/kernel/core_pattern").read().strip()
            raise Skip("kernel wrote no core dump (core_pattern %r)" % pattern)
        m = ctx.agent.wait_value("tool_executions_total", 3, tool=name)
        assert m.get("tool_execution_failure_total", tool=name, error_type="core_dump") == cores
        assert m.get("tool_execution_failure_total", tool=name, error_type="signal") == signals

    @r.test
    def test_failed_exec_of_missing_file(ctx):
        name = "twmissing_%d" % os.getpid()
        missing = os.path.join(ctx.work.dir, "nodir", name)
        res = ctx.work.spawn(10, [missing])
        assert res["failed"] == 10, res
        m = ctx.agent.wait_value("tool_executions_total", 10, tool=name)
        assert m.get("tool_executions_total", tool=name) == 10
        assert m.get("tool_execution_failure_total", tool=name, error_type="exec_failed") == 10
        assert m.get("tool_execution_duration_seconds_count", tool=name) == 0

    @r.test
    def test_failed_exec_permission_denied(ctx):
        path = os.path.join(ctx.work.dir, "twnoexec_%d" % os.getpid())
        with open(path, "w") as f:
            f.write("not a program\n")
        os.chmod(path, 0o644)
        name = os.path.basename(path)
        ctx.work.spawn(4, [path])
        m = ctx.agent.wait_value("tool_executions_total", 4, tool=name)
        assert m.get("tool_execution_failure_total", tool=name, error_type="exec_failed") == 4

    @r.test
    def test_path_search_counts_one_execution(ctx):
        # env(1) searches PATH with execvp: two failed attempts, then success
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        path = "/nonexistent/a:/nonexistent/b:" + ctx.work.dir
        for _ in range(5):
            subprocess.run(["/usr/bin/env", "PATH=" + path, name, "0"], check=True)
        m = ctx.agent.wait_value("tool_executions_total", 5, tool=name)
        assert m.get("tool_executions_total", tool=name) == 5
        assert m.get("tool_execution_success_total", tool=name) == 5
        assert m.get("tool_execution_failure_total", tool=name, error_type="exec_failed") == 0

    @r.test
    def test_exec_continues_the_execution(ctx):
        # `sh -c "exec tool 4"` is one execution, named after the tool, with its status
        shell = ctx.work.tool_from("/bin/dash", "twsh_%d" % os.getpid())
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        for _ in range(3):
            subprocess.run([shell, "-c", "exec %s 4" % tool])
        sh = os.path.basename(shell)
        m = ctx.agent.wait_value("tool_executions_total", 3, tool=name)
        time.sleep(0.5)  # a double count would show
        m = ctx.agent.scrape()
        assert m.get("tool_executions_total", tool=sh) == 0
        assert m.get("tool_running", tool=sh) == 0
        assert m.get("tool_executions_total", tool=name) == 3
        assert m.get("tool_execution_failure_total", tool=name, error_type="exit_code") == 3

    @r.test
    def test_two_ms_program(ctx):
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        res = ctx.work.spawn(100, [tool, "0", "2"])
        m = ctx.agent.wait_value("tool_executions_total", 100, tool=name)
        assert m.get("tool_executions_total", tool=name) == 100
        # each run sleeps 2 ms: nothing may land at or below 1 ms
        assert m.get("tool_execution_duration_seconds_bucket", tool=name, le="0.001") == 0
        total = m.get("tool_execution_duration_seconds_sum", tool=name)
        assert 100 * 0.002 <= total <= res["sum_ns"] / 1e9, (total, res)

    @r.test
    def test_duration_sum_within_5_percent(ctx):
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        res = ctx.work.spawn(20, [tool, "0", "50"])
        m = ctx.agent.wait_value("tool_executions_total", 20, tool=name)
        total = m.get("tool_execution_duration_seconds_sum", tool=name)
        measured = res["sum_ns"] / 1e9
        assert abs(total - measured) <= 0.05 * measured, (total, measured)
        assert m.get("tool_execution_duration_seconds_bucket", tool=name, le="0.05") == 0
        assert m.get("tool_execution_duration_seconds_bucket", tool=name, le="0.1") == 20

    @r.test
    def test_fork_without_exec_is_not_an_execution(ctx):
        tool = ctx.work.tool("tw_fork")
        name = os.path.basename(tool)
        subprocess.run([tool, "5"], check=True)
        m = ctx.agent.wait_value("tool_executions_total", 1, tool=name)
        time.sleep(0.2)
        m = ctx.agent.scrape()
        assert m.get("tool_executions_total", tool=name) == 1
        assert m.get("tool_execution_success_total", tool=name) == 1
        assert m.get("tool_running", tool=name) == 0

    @r.test
    def test_multithreaded_program_is_one_execution(ctx):
        tool = ctx.work.tool("tw_threads")
        name = os.path.basename(tool)
        subprocess.run([tool, "8", "0", "join"], check=True)
        rc = subprocess.run([tool, "8", "5", "leader-first"]).returncode
        assert rc == 5, rc
        m = ctx.agent.wait_value("tool_executions_total", 2, tool=name)
        time.sleep(0.2)
        m = ctx.agent.scrape()
        assert m.get("tool_executions_total", tool=name) == 2
        assert m.get("tool_execution_success_total", tool=name) == 1
        assert m.get("tool_execution_failure_total", tool=name, error_type="exit_code") == 1
        assert m.get("tool_running", tool=name) == 0

    @r.test
    def test_threads_exiting_together_end_one_execution(ctx):
        # exit_group: every thread runs do_exit at once, and several may see the group's
        # live count at 0; the execution (and a forked child's roll-up) ends only once
        tool = ctx.work.tool("tw_threads")
        name = os.path.basename(tool)
        before = ctx.agent.scrape().get("toolwatch_exits_unmatched_total")
        ps = [subprocess.Popen([tool, "6", "3", "group"]) for _ in range(40)]
        assert [p.wait() for p in ps] == [3] * 40
        m = ctx.agent.wait_value("tool_executions_total", 40, tool=name)
        time.sleep(0.3)
        m = ctx.agent.scrape()
        assert m.get("tool_executions_total", tool=name) == 40
        assert m.get("tool_execution_failure_total", tool=name, error_type="exit_code") == 40
        assert m.get("toolwatch_exits_unmatched_total") == before
        assert m.get("tool_running", tool=name) == 0

    @r.test
    def test_same_program_1000_times(ctx):
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        before = ctx.agent.scrape()
        cpu0 = agent_cpu_seconds(ctx.agent.proc.pid)
        res = ctx.work.spawn(1000, [tool, "0", "1"])
        m = ctx.agent.wait_value("tool_executions_total", 1000, tool=name)
        cpu1 = agent_cpu_seconds(ctx.agent.proc.pid)
        assert m.get("tool_executions_total", tool=name) == 1000
        assert m.get("tool_execution_success_total", tool=name) == 1000
        assert m.get("tool_execution_duration_seconds_count", tool=name) == 1000
        total = m.get("tool_execution_duration_seconds_sum", tool=name)
        assert 1000 * 0.001 <= total <= res["sum_ns"] / 1e9, (total, res)
        lost = sum(v for (n, _), v in m.samples.items() if n == "toolwatch_events_lost_total")
        lost0 = sum(v for (n, _), v in before.samples.items()
                    if n == "toolwatch_events_lost_total")
        assert lost == lost0, "events lost during 1000 runs: %s" % (lost - lost0)
        print("  agent CPU for 1000 executions: %.3f s, RSS %d KiB"
              % (cpu1 - cpu0, agent_rss_kib(ctx.agent.proc.pid)))

    @r.test
    def test_processes_running_before_start_are_partial(ctx):
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        early = subprocess.Popen([tool, "0", "1500"])
        agent = Agent(ctx.binary).start()
        try:
            m = agent.scrape()
            assert m.get("tool_running", tool=name) == 1
            early.wait()
            m = agent.wait_value("tool_executions_total", 1, tool=name)
            assert m.get("tool_executions_total", tool=name) == 1
            assert m.get("tool_execution_success_total", tool=name) == 1
            # its exec was not observed: no made-up duration
            assert m.get("tool_execution_duration_seconds_count", tool=name) == 0
            assert m.get("toolwatch_partial_executions_total") >= 1
            assert m.get("tool_running", tool=name) == 0
        finally:
            early.kill()
            assert agent.stop() == 0

    @r.test
    def test_zombie_at_start_is_not_running(ctx):
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        zombie = subprocess.Popen([tool, "0"])
        time.sleep(0.3)  # exited, not yet reaped: a zombie
        agent = Agent(ctx.binary).start()
        try:
            assert agent.scrape().get("tool_running", tool=name) == 0
        finally:
            zombie.wait()
            assert agent.stop() == 0

    @r.test
    def test_tools_max_caps_names_into_other(ctx):
        agent = Agent(ctx.binary, ["--tools.max=3"]).start()
        try:
            before = agent.scrape()
            tools = [ctx.work.tool("tw_exit") for _ in range(6)]
            for t in tools:
                ctx.work.spawn(1, [t, "0"])
            time.sleep(0.3)
            m = agent.scrape()
            assert m.get("toolwatch_tools_tracked") <= 4  # 3 names + "other"
            named = sum(m.get("tool_executions_total", tool=os.path.basename(t)) for t in tools)
            other = m.get("tool_executions_total", tool="other") - \
                before.get("tool_executions_total", tool="other")
            assert named + other >= 6, (named, other)
            assert other >= 3, other
            assert m.get("toolwatch_tools_overflow_total") >= 3
        finally:
            assert agent.stop() == 0


def agent_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def agent_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
