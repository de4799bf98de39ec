# SPDX-License-Identifier: GPL-2.0
"""Hostile inputs kept in the suite: tool names that used to collapse into one label
value, a non-root agent with only capabilities, start-up wording."""

import os
import shutil
import signal
import subprocess
import tempfile

from lib import Skip
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


def register(r):
    @r.test
    def test_hardening_colliding_names_distinct_series(ctx):
        values = [visible(n) for n in COLLIDING]
        assert len(set(values)) == len(values), values
        workdir = tempfile.mkdtemp(prefix=b"twnames.")
        try:
            paths = []
            for name in COLLIDING:
                path = os.path.join(workdir, name)
                shutil.copy(os.path.join(ctx.helpers, "tw_exit").encode(), path)
                os.chmod(path, 0o755)
                paths.append(path)
            before = ctx.agent.scrape()
            t = Trace(ctx, ["--json", "--events", "exit"]).wait_ready()
            spawn = os.path.join(ctx.helpers, "tw_spawn").encode()
            for k, path in enumerate(paths):
                subprocess.run([spawn, str(k + 1).encode(), path, b"0"], check=True,
                               capture_output=True)
            for k, value in enumerate(values):
                ctx.agent.wait_value("tool_executions_total",
                                     before.get("tool_executions_total", tool=value) + k + 1,
                                     tool=value)
            rc, out = t.finish(signal.SIGINT)
            after = ctx.agent.scrape()
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
            shutil.rmtree(workdir, ignore_errors=True)
