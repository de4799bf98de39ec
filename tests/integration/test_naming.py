# SPDX-License-Identifier: GPL-2.0
"""Tool names: launchers and env shebangs count each run once under the documented name,
fexecve/memfd images are named from argv[0], --tools.rules names the process-exporter way
(same grouping as process-exporter itself), bad rules exit 2, SIGHUP reloads."""

import os
import re
import signal
import subprocess
import time

from lib import Agent, free_port, http_get, is_asan, rss_kib

RUNS = 5


def write_exec(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return path


def settle(agent, want, timeout=10.0):
    """Scrapes until every tool in want reaches its count, then once more after a pause so
    that a double count would show; returns the last scrape."""
    deadline = time.time() + timeout
    while True:
        m = agent.scrape()
        if all(m.get("tool_executions_total", tool=t) >= n for t, n in want.items()) \
                or time.time() > deadline:
            break
        time.sleep(0.05)
    time.sleep(0.5)
    return agent.scrape()


def assert_counts(m, want):
    got = {t: m.get("tool_executions_total", tool=t) for t in want}
    assert got == {t: float(n) for t, n in want.items()}, (got, want)


def uniq(ctx, stem):
    ctx.work.seq += 1
    return "%s_%d_%d" % (stem, os.getpid(), ctx.work.seq)


def register(r):
    @r.test
    def test_naming_env_shebang_scripts_count_once(ctx):
        d = ctx.work.dir
        py = write_exec(os.path.join(d, uniq(ctx, "envpy") + ".py"),
                        "#!/usr/bin/env python3\npass\n")
        sh = write_exec(os.path.join(d, uniq(ctx, "envbash") + ".sh"),
                        "#!/usr/bin/env bash\ntrue\n")
        plain = write_exec(os.path.join(d, uniq(ctx, "plainbash") + ".sh"),
                           "#!/bin/bash\ntrue\n")
        before = ctx.agent.scrape().get("tool_executions_total", tool="env")
        for _ in range(RUNS):
            for s in (py, sh, plain):
                subprocess.run([s], check=True)
        want = {os.path.basename(s): RUNS for s in (py, sh, plain)}
        m = settle(ctx.agent, want)
        assert_counts(m, want)
        # the env steps are no executions of their own (other processes may run env)
        assert m.get("tool_executions_total", tool="env") - before < RUNS

    @r.test
    def test_naming_env_bash_shim_named_like_an_interpreter(ctx):
        d = ctx.work.dir
        # a pyenv/asdf-style shim: its name is an interpreter's (python3.NN), it runs bash
        shim_dir = os.path.join(d, uniq(ctx, "shims"))
        os.mkdir(shim_dir)
        real = write_exec(os.path.join(d, uniq(ctx, "real") + ".py"), "import sys\n")
        shim_name = "python3.%d" % (90 + ctx.work.seq % 9)
        shim = write_exec(os.path.join(shim_dir, shim_name),
                          '#!/usr/bin/env bash\nexec /usr/bin/python3 %s "$@"\n' % real)
        before = ctx.agent.scrape()
        for _ in range(RUNS):
            subprocess.run([shim, "-c", "pass"], check=True)
        # env (the shebang step) and the shim's bash exec on: one execution, the real
        # interpreter running its script
        want = {shim_name: 0, os.path.basename(real): RUNS}
        m = settle(ctx.agent, {os.path.basename(real): RUNS})
        got = {t: m.get("tool_executions_total", tool=t)
               - before.get("tool_executions_total", tool=t) for t in want}
        assert got == {t: float(n) for t, n in want.items()}, got

    @r.test
    def test_naming_wrappers_count_the_program_once(ctx):
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        for _ in range(RUNS):
            subprocess.run(["nice", "-n", "1", tool], check=True)
            subprocess.run(["nohup", tool], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            subprocess.run(["timeout", "10", tool], check=True)
        subprocess.run(["xargs", "-n1", tool], input="\n".join(["0"] * RUNS), text=True,
                       check=True)
        m = settle(ctx.agent, {name: 4 * RUNS})
        assert_counts(m, {name: 4 * RUNS})

    @r.test
    def test_naming_fexecve_and_memfd_named_from_argv0(ctx):
        target = ctx.work.tool("tw_exit")
        fx = os.path.join(ctx.helpers, "tw_fexecve")
        a0, a1 = uniq(ctx, "fexec"), uniq(ctx, "memfdexec")
        for _ in range(RUNS):
            subprocess.run([fx, target, "/opt/x/" + a0], check=True)
            subprocess.run([fx, "--memfd", target, a1], check=True)
        m = settle(ctx.agent, {a0: RUNS, a1: RUNS})
        assert_counts(m, {a0: RUNS, a1: RUNS})
        bad = [t for t in m.tools() if re.fullmatch(r"\d+", t) or t.startswith("memfd:")
               or t.endswith(" (deleted)")]
        assert not bad, bad

    register_rules(r)
    register_rules_argv(r)
    register_table(r)


RULES = """\
process_names:
  # comm is the second field of /proc/<pid>/stat minus parens.
  - comm:
    - {comm}

  # exe is argv[0]. If no slashes, only basename of argv[0] need match.
  - exe:
    - {exe}

  # cmdline is a list of regexps applied to argv.
  - name: "{{{{.ExeBase}}}}:{{{{.Matches.Cfgfile}}}}"
    exe:
    - {full}
    cmdline:
    - -config.path\\s+(?P<Cfgfile>\\S+)
"""


def rules_workload(ctx):
    """Three long sleepers, one per rule; returns (rules text, procs, expected names)."""
    a = ctx.work.tool("tw_exit", uniq(ctx, "rca"))
    b = ctx.work.tool("tw_exit", uniq(ctx, "rcb"))
    c = ctx.work.tool("tw_exit", uniq(ctx, "rcc"))
    text = RULES.format(comm=os.path.basename(a)[:15], exe=os.path.basename(b), full=c)
    # unnamed rules are named {{.ExeBase}}: basename(argv[0]), not the 15-byte comm
    expect = {os.path.basename(a): 1, os.path.basename(b): 1,
              os.path.basename(c) + ":/etc/" + os.path.basename(c) + ".yml": 1}
    return text, [[a, "0", "60000"], [b, "0", "60000"],
                  [c, "0", "60000", "-config.path", "/etc/%s.yml" % os.path.basename(c)]], \
        expect


def register_rules(r):
    @r.test
    def test_naming_rules_group_like_process_exporter(ctx):
        text, argvs, expect = rules_workload(ctx)
        path = write_exec(os.path.join(ctx.work.dir, uniq(ctx, "rules") + ".yml"), text)
        agent = Agent(ctx.binary, ["--tools.rules=" + path]).start()
        port = free_port()
        pe = subprocess.Popen(["prometheus-process-exporter", "-config.path", path,
                               "-web.listen-address", "127.0.0.1:%d" % port],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs = []
        try:
            procs = [subprocess.Popen(a) for a in argvs]
            time.sleep(0.5)
            m = settle(agent, expect)
            ours = {t: v for t, v in m.series("tool_running").items() if v}
            deadline = time.time() + 20
            theirs = {}
            while time.time() < deadline:
                try:
                    status, _, body = http_get("http://127.0.0.1:%d/metrics" % port)
                except OSError:
                    status = 0
                if status == 200:
                    theirs = {}
                    for g, v in re.findall(
                            r'^namedprocess_namegroup_num_procs\{groupname="([^"]*)"\} (\S+)$',
                            body.decode(), re.M):
                        if float(v):
                            theirs[g] = float(v)
                    if all(k in theirs for k in expect):
                        break
                time.sleep(0.2)
            mine = {k: v for k, v in ours.items() if k in expect}
            assert mine == {k: float(v) for k, v in expect.items()}, (ours, expect)
            # process-exporter sees every matching process on the host; our workload's
            # groups are unique to it
            pe_mine = {k: v for k, v in theirs.items() if k in expect}
            assert pe_mine == mine, (theirs, mine)
        finally:
            for p in procs:
                p.kill()
                p.wait()
            pe.kill()
            pe.wait()
            assert agent.stop() == 0

    @r.test
    def test_naming_bad_rules_exit_2_with_file_line_key(ctx):
        path = write_exec(os.path.join(ctx.work.dir, uniq(ctx, "bad") + ".yml"),
                          "process_names:\n  - comm: [a]\n    nmae: x\n")
        res = subprocess.run([ctx.binary, "--web.listen-address=127.0.0.1:%d" % free_port(),
                              "--tools.rules=" + path], capture_output=True, text=True,
                             timeout=30)
        assert res.returncode == 2, (res.returncode, res.stderr)
        lines = [ln for ln in (res.stdout + res.stderr).splitlines() if path in ln]
        assert len(lines) == 1 and "%s:3: nmae:" % path in lines[0], res.stderr

    @r.test
    def test_naming_rules_reload_on_sighup_keeps_old_when_bad(ctx):
        tool = ctx.work.tool("tw_exit")
        base = os.path.basename(tool)
        path = os.path.join(ctx.work.dir, uniq(ctx, "reload") + ".yml")
        write_exec(path, "process_names:\n  - name: first-%s\n    comm: [%s]\n"
                   % (base, base[:15]))
        agent = Agent(ctx.binary, ["--tools.rules=" + path]).start()
        try:
            def run_and_wait(name, total):
                subprocess.run([tool], check=True)
                m = agent.wait_value("tool_executions_total", total, tool=name)
                assert m.get("tool_executions_total", tool=name) == total, (name, m.tools())

            def hup_and_wait(word):
                n = agent.read_log().count(word)
                agent.proc.send_signal(signal.SIGHUP)
                deadline = time.time() + 5
                while agent.read_log().count(word) == n and time.time() < deadline:
                    time.sleep(0.05)
                assert agent.read_log().count(word) > n, agent.read_log()[-2000:]

            run_and_wait("first-" + base, 1)
            write_exec(path, "process_names:\n  - name: second-%s\n    comm: [%s]\n"
                       % (base, base[:15]))
            hup_and_wait("reloaded 1 naming rules")
            run_and_wait("second-" + base, 1)
            write_exec(path, "process_names:\n  - name: x\n    cmdline: ['(']\n")
            hup_and_wait("rules not reloaded")
            assert "%s:3: cmdline: bad regex" % path in agent.read_log()
            run_and_wait("second-" + base, 2)
            # a rule that reads argv, loaded while running: a program the naming alone
            # names by its path (its exec records left argv out until now) is matched by it
            write_exec(path, "process_names:\n  - name: third-{{.Matches.Word}}\n"
                       "    cmdline: ['%s\\s+0\\s+0\\s+(?P<Word>argmark)']\n" % base)
            hup_and_wait("reloaded 1 naming rules")
            subprocess.run([tool, "0", "0", "argmark"], check=True)
            m = agent.wait_value("tool_executions_total", 1, tool="third-argmark")
            assert m.get("tool_executions_total", tool="third-argmark") == 1, m.tools()
        finally:
            assert agent.stop() == 0


def register_rules_argv(r):
    @r.test
    def test_naming_unnamed_comm_rule_names_by_argv0(ctx):
        # an unnamed rule is named {{.ExeBase}}, argv[0]'s basename: longer than the
        # 15-byte comm the rule matches, so the exec record must carry argv
        tool = ctx.work.tool("tw_exit", uniq(ctx, "unnamed_comm_rule_tool"))
        base = os.path.basename(tool)
        assert len(base) > 15
        path = os.path.join(ctx.work.dir, uniq(ctx, "unnamed") + ".yml")
        write_exec(path, "process_names:\n  - comm: [%s]\n" % base[:15])
        agent = Agent(ctx.binary, ["--tools.rules=" + path]).start()
        try:
            subprocess.run([tool], check=True)
            m = agent.wait_value("tool_executions_total", 1, tool=base)
            assert m.get("tool_executions_total", tool=base) == 1, m.tools()
        finally:
            assert agent.stop() == 0


def register_table(r):
    @r.test
    def test_naming_junk_storm_then_new_tool_after_idle_time(ctx):
        storm = 2000
        d = os.path.join(ctx.work.dir, uniq(ctx, "storm"))
        os.mkdir(d)
        src = ctx.work.tool("tw_exit")
        paths = []
        for i in range(storm):
            p = os.path.join(d, "stress-ng-exec-%d-0-%d" % (os.getpid(), 2271060608 + i))
            os.link(src, p)
            paths.append(p)
        # the table also holds the host's running programs (never evicted while running)
        agent = Agent(ctx.binary, ["--tools.max=150", "--tools.idle-timeout=8s"]).start()
        prefix = "stress-ng-exec-%d-" % os.getpid()
        try:
            rss0 = rss_kib(agent.proc.pid)
            peak = rss0
            for i, p in enumerate(paths):
                subprocess.run([p], check=True)
                if i % 250 == 0:
                    peak = max(peak, rss_kib(agent.proc.pid))
            m = agent.wait_value("toolwatch_tools_overflow_total", 1)
            assert m.get("toolwatch_tools_overflow_total") > 0
            assert m.get("toolwatch_tools_tracked") <= 151
            junk_in = [t for t in m.tools() if t.startswith(prefix)]
            assert junk_in, sorted(m.tools())
            # the table recovers once the junk is idle
            deadline = time.time() + 30
            while time.time() < deadline:
                m = agent.scrape()
                junk = [t for t in m.tools() if t.startswith(prefix)]
                if not junk:
                    break
                time.sleep(0.2)
            assert not junk, junk[:5]
            assert m.get("toolwatch_tools_evicted_total") >= len(junk_in)
            fresh = ctx.work.tool("tw_exit")
            name = os.path.basename(fresh)
            for _ in range(RUNS):
                subprocess.run([fresh], check=True)
            m = agent.wait_value("tool_executions_total", RUNS, tool=name)
            assert m.get("tool_executions_total", tool=name) == RUNS, sorted(m.tools())
            peak = max(peak, rss_kib(agent.proc.pid))
            # ASan's quarantine (256 MiB by default) holds freed memory back
            asan = is_asan(ctx.binary)
            assert peak - rss0 < (128 if asan else 16) * 1024, (rss0, peak, asan)
        finally:
            assert agent.stop() == 0

    @r.test
    def test_naming_normalize_folds_random_words(ctx):
        d = os.path.join(ctx.work.dir, uniq(ctx, "norm"))
        os.mkdir(d)
        src = ctx.work.tool("tw_exit")
        tag = "twnorm" + "".join(chr(ord("g") + (os.getpid() >> (4 * i)) % 20) for i in range(5))
        agent = Agent(ctx.binary, ["--tools.normalize"]).start()
        try:
            for i in range(30):
                p = os.path.join(d, "%s-%d" % (tag, 10000000 + i))
                os.link(src, p)
                subprocess.run([p], check=True)
            m = agent.wait_value("tool_executions_total", 30, tool=tag + "-*")
            assert m.get("tool_executions_total", tool=tag + "-*") == 30, \
                [t for t in m.tools() if t.startswith(tag)]
            assert not [t for t in m.tools() if t.startswith(tag + "-1")]
        finally:
            assert agent.stop() == 0
