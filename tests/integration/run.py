#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Root integration tests: start the real agent, run real programs, assert on /metrics.

usage: run.py --bin build/toolwatch --helpers build/helpers [-k NAME ...]
Prints PASS/FAIL/SKIP per test and a closing "integration: N passed, N failed" line.
A skip is a failure under CI=true.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import Agent, Runner, Workdir  # noqa: E402

import test_foundation  # noqa: E402
import test_resources  # noqa: E402
import test_anomaly  # noqa: E402
import test_trace  # noqa: E402
import test_deploy  # noqa: E402
import test_container  # noqa: E402
import test_signals  # noqa: E402
import test_hardening  # noqa: E402
import test_web  # noqa: E402
import test_wait  # noqa: E402
import test_naming  # noqa: E402
import test_identity  # noqa: E402

MODULES = [test_foundation, test_resources, test_anomaly, test_trace, test_deploy,
           test_signals, test_hardening, test_web, test_wait, test_container, test_naming,
           test_identity]


class Context:
    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--helpers", required=True)
    ap.add_argument("-k", action="append", help="run tests whose name contains this")
    args = ap.parse_args()

    runner = Runner()
    for mod in MODULES:
        mod.register(runner)
    if os.geteuid() != 0:
        ci = os.environ.get("CI") == "true"
        print("%s integration tests: need root" % ("FAIL" if ci else "SKIP"))
        print("integration: 0 passed, %d failed, %d skipped"
              % ((len(runner.tests), 0) if ci else (0, len(runner.tests))))
        return 1 if ci else 0

    ctx = Context()
    ctx.binary = os.path.abspath(args.bin)
    ctx.helpers = os.path.abspath(args.helpers)
    ctx.work = Workdir(ctx.helpers)
    ctx.agent = Agent(ctx.binary).start()
    try:
        ok = runner.run(ctx, args.k)
    finally:
        rc = ctx.agent.stop()
        ctx.work.cleanup()
    if rc != 0:
        print("FAIL agent exited with status %d:\n%s" % (rc, ctx.agent.read_log()[-3000:]))
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
