# SPDX-License-Identifier: GPL-2.0
"""The agent's start and end: bad flags exit 2 with one line naming the flag, a taken
port is a clear error, and SIGTERM detaches every BPF program. Also the helpers that
find toolwatch's programs in the kernel (used by the trace and container tests)."""

import json
import os
import subprocess
import time

from lib import Agent


def register(r):
    @r.test
    def test_bad_flags_exit_2_naming_the_flag(ctx):
        cases = [["--tools.max=abc"], ["--web.listen-address=nope"], ["--bogus"],
                 ["--log.level=loud"], ["--probe.disable=exec"], ["--bpf.ringbuf-size=3000"],
                 ["--tools.max"]]
        for args in cases:
            p = subprocess.run([ctx.binary] + args, capture_output=True, text=True, timeout=10)
            flag = args[0].split("=")[0]
            assert p.returncode == 2, (args, p.returncode, p.stderr)
            assert flag in p.stderr, (args, p.stderr)
        p = subprocess.run([ctx.binary, "--help"], capture_output=True, text=True)
        assert p.returncode == 0 and "EXAMPLES" in p.stdout

    @r.test
    def test_port_in_use_is_a_clear_error(ctx):
        p = subprocess.run([ctx.binary, "--web.listen-address=127.0.0.1:%d" % ctx.agent.port],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert "cannot listen" in p.stderr, p.stderr
        assert_no_leftover_programs()

    @r.test
    def test_sigterm_detaches_everything(ctx):
        agent = Agent(ctx.binary).start()
        try:
            held = held_prog_ids(agent.proc.pid)
            names = {p.get("name") for p in bpf_programs() if p["id"] in held}
            assert TOOLWATCH_PROGRAMS <= names, names
            # exits from a timer: by default nothing runs per switch or per packet
            assert BTF_PROGRAMS <= names, names
            assert not names & PER_EVENT_PROGRAMS, names & PER_EVENT_PROGRAMS
        except AssertionError:
            agent.stop()
            raise
        assert agent.stop() == 0
        assert "shutting down" in agent.read_log()
        assert_no_leftover_programs(held)

    @r.test
    def test_bad_flags_print_one_line(ctx):
        cases = [["--tools.max=x\ny"], ["--probe.disable=net,a\n\x1b[2J"], ["--bogus"],
                 ["trace", "--bogus"], ["trace", "--events=exit,\nx"], ["trace", "--pid"]]
        for args in cases:
            p = subprocess.run([ctx.binary] + args, capture_output=True, text=True, timeout=10)
            assert p.returncode == 2, (args, p.returncode, p.stderr)
            assert p.stderr.count("\n") == 1 and p.stderr.endswith("\n"), (args, p.stderr)
            assert "\x1b" not in p.stderr and "--help')" in p.stderr, (args, p.stderr)


# the default families' programs (exec_failed's execve_exit is opt-in)
TOOLWATCH_PROGRAMS = {"handle_exec", "handle_exit", "handle_fork", "handle_sk_state",
                      "dump_task", "sample_task", "sample_tcp"}
BTF_PROGRAMS = {"init_exit_timer"}
# what the default configuration must not attach on BTF kernels
PER_EVENT_PROGRAMS = {"handle_switch", "switch_raw", "handle_sock_tx", "handle_sock_rx"}


def bpf_programs():
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def bpf_program_names():
    return {p.get("name", "") for p in bpf_programs()}


def held_prog_ids(pid):
    """Ids of BPF programs a process holds (program fds, and links' programs)."""
    ids = set()
    fd_dir = "/proc/%d/fdinfo" % pid
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return ids
    for fd in fds:
        try:
            with open(os.path.join(fd_dir, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def orphan_toolwatch_programs():
    """toolwatch programs that no process holds: what a crashed or careless exit leaves.
    Other agents running on the host (their programs are held) do not count."""
    held = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            held |= held_prog_ids(int(pid))
    return [p for p in bpf_programs()
            if p.get("name") in TOOLWATCH_PROGRAMS and p["id"] not in held]


def assert_no_leftover_programs(held_before=()):
    """No program the process held is still loaded, and no toolwatch program is orphaned."""
    deadline = time.time() + 5  # links are released as the process's files close
    while True:
        alive = {p["id"] for p in bpf_programs()}
        left = sorted(set(held_before) & alive)
        orphans = orphan_toolwatch_programs()
        if (not left and not orphans) or time.time() > deadline:
            break
        time.sleep(0.1)
    assert not left, "BPF programs left behind: %s" % left
    assert not orphans, "orphaned toolwatch programs: %s" % orphans
