# SPDX-License-Identifier: GPL-2.0
"""Every signal an operator or a runtime sends: the agent saves its baselines and exits 0
(or, for SIGHUP, logs and keeps running); `trace` ends cleanly on a hangup."""

import os
import signal
import time

from lib import Agent
from test_trace import Trace

ENDING = [signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2]


def register(r):
    @r.test
    def test_signals_end_the_agent_cleanly_with_baselines_saved(ctx):
        for sig in ENDING:
            agent = Agent(ctx.binary, ["--state.save-interval=0"]).start()
            state = os.path.join(agent.state_dir, "baselines.v1")
            assert not os.path.exists(state), state
            agent.proc.send_signal(sig)
            rc = agent.proc.wait(timeout=15)
            agent.log.close()
            log = agent.read_log()
            assert rc == 0, (sig, rc, log[-2000:])
            assert os.path.exists(state), (sig, "baselines not saved", log[-2000:])
            assert "shutting down" in log, (sig, log[-2000:])

    @r.test
    def test_signals_hangup_keeps_the_agent_serving(ctx):
        agent = Agent(ctx.binary).start()
        try:
            before = agent.scrape()
            agent.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 5
            while "nothing to reload" not in agent.read_log() and time.time() < deadline:
                time.sleep(0.05)
            assert "nothing to reload" in agent.read_log(), agent.read_log()[-2000:]
            assert agent.proc.poll() is None, "SIGHUP ended the agent"
            after = agent.scrape()
            assert after.get("toolwatch_events_total", type="exec") >= \
                before.get("toolwatch_events_total", type="exec")
        finally:
            assert agent.stop() == 0

    @r.test
    def test_signals_hangup_ends_trace(ctx):
        t = Trace(ctx, ["--events", "exit"]).wait_ready()
        rc, _ = t.finish(signal.SIGHUP)
        assert rc == 0, (rc, t.stderr())
