# SPDX-License-Identifier: GPL-2.0
"""The HTTP server's header deadline and connection handling under scheduling pressure:
no client that sends its headers in time is ever cut, however the deadline thread is
scheduled; and a failed scrape says what the agent last logged."""

import http.client
import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

from lib import Agent, Metrics, Skip, http_get

HERE = os.path.dirname(os.path.abspath(__file__))
SHIM = os.path.join(HERE, "preload", "tw_slow_reaper.c")
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"


def build_shim():
    """Compiles the LD_PRELOAD shim that stalls the deadline thread; returns its path."""
    cc = os.environ.get("CC", "cc")
    if not shutil.which(cc):
        raise Skip("no C compiler (%s) to build the preload shim" % cc)
    out = os.path.join(tempfile.mkdtemp(prefix="twshim."), "tw_slow_reaper.so")
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", SHIM,
                    "-o", out], check=True, capture_output=True, timeout=60)
    return out


def preload_env(shim, stall_ms):
    env = dict(os.environ)
    env["LD_PRELOAD"] = shim
    env["TW_SLOW_REAPER_MS"] = str(stall_ms)
    # an ASan build insists on coming first in the library list; the shim is harmless
    asan = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
    return env


def late_request(port, delay, results, source="127.0.0.1"):
    """Connects, sends a request delay seconds later, appends the status line (or why not)."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10,
                                     source_address=(source, 0))
    except OSError as e:
        results.append("connect: %r" % e)
        return
    try:
        time.sleep(delay)
        s.sendall(REQUEST)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        results.append(data.split(b"\r\n")[0].decode() if data else "closed without response")
    except OSError as e:
        results.append(repr(e))
    finally:
        s.close()


def header_timeouts(agent):
    return Metrics(http_get(agent.url + "/metrics")[2].decode()).get(
        "toolwatch_http_header_timeouts_total")


def register(r):
    @r.test
    def test_http_late_headers_within_deadline_survive_a_stalled_deadline_thread(ctx):
        # The deadline thread is stalled 500 ms after each clock read (as a busy machine
        # may preempt it there). Comparing that old reading with the accept time of
        # connections that arrived meanwhile would wrap now - since around and cut them
        # before their headers (RemoteDisconnected, and a header timeout counted).
        shim = build_shim()
        agent = Agent(ctx.binary, ["--web.read-header-timeout=3s"],
                      env=preload_env(shim, 500)).start()
        try:
            deadline = time.time() + 5
            while "tw_slow_reaper: deadline thread stalled" not in agent.read_log():
                assert time.time() < deadline, \
                    "the shim did not engage: %s" % agent.read_log()[-1000:]
                time.sleep(0.1)
            results = []
            threads = [threading.Thread(target=late_request, args=(agent.port, 1.0, results))
                       for _ in range(8)]
            for i, t in enumerate(threads):
                t.start()
                time.sleep(0.07 * (i + 1))  # accepts spread over a stalled cycle
            for t in threads:
                t.join()
            assert results == ["HTTP/1.1 200 OK"] * 8, results
            assert header_timeouts(agent) == 0
            # the deadline still holds: a silent connection is cut and counted
            s = socket.create_connection(("127.0.0.1", agent.port), timeout=10)
            t0 = time.time()
            assert s.recv(1) == b""
            took = time.time() - t0
            s.close()
            assert 2.5 < took < 5.0, took
            assert header_timeouts(agent) == 1
        finally:
            assert agent.stop() == 0

    @r.test
    def test_http_scrapes_keepalive_and_late_headers_under_cpu_load(ctx):
        # Bounded stress (about 10 s) of what the deadline thread races with: new
        # connections (urllib, one per request, as the tests scrape), kept-alive ones
        # reused just inside the deadline, headers sent late but in time, with the CPUs
        # busy. Every request is answered; no connection is cut.
        if not shutil.which("stress-ng"):
            raise Skip("stress-ng not installed")
        agent = Agent(ctx.binary, ["--web.read-header-timeout=2s"]).start()
        load = subprocess.Popen(["stress-ng", "--cpu", "2", "--timeout", "12s"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stop = time.time() + 9
        errors, counts = [], {"scrape": 0, "keepalive": 0, "late": 0}
        lock = threading.Lock()

        def note(kind, err=None):
            with lock:
                counts[kind] += 1
                if err:
                    errors.append("%s: %s" % (kind, err))

        def scraper():
            while time.time() < stop:
                try:
                    with urllib.request.urlopen(agent.url + "/metrics", timeout=10) as resp:
                        resp.read()
                        note("scrape", None if resp.status == 200 else resp.status)
                except OSError as e:
                    note("scrape", repr(e))

        def keepalive():
            while time.time() < stop:
                c = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=10)
                try:
                    for _ in range(4):  # one connection, reused after idling 0-1 s
                        c.request("GET", "/healthz")
                        resp = c.getresponse()
                        resp.read()
                        note("keepalive", None if resp.status == 200 else resp.status)
                        time.sleep(random.uniform(0, 1.0))
                except (OSError, http.client.HTTPException) as e:
                    note("keepalive", repr(e))
                finally:
                    c.close()

        def late():
            while time.time() < stop:
                res = []
                late_request(agent.port, random.uniform(0, 1.0), res)
                note("late", None if res == ["HTTP/1.1 200 OK"] else res)

        threads = [threading.Thread(target=f) for f in (scraper, scraper, scraper, keepalive,
                                                         keepalive, late, late, late)]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors, (errors[:5], len(errors), counts)
            assert counts["scrape"] >= 20 and counts["keepalive"] >= 10 and \
                counts["late"] >= 10, counts
            assert header_timeouts(agent) == 0
        finally:
            load.kill()
            load.wait()
            assert agent.stop() == 0

    @r.test
    def test_http_per_client_limit_refuses_counts_and_frees(ctx):
        agent = Agent(ctx.binary, ["--web.max-connections-per-client=4"]).start()
        held = []

        def metric(name):
            # from another address: the limit is per address
            c = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=5,
                                           source_address=("127.0.0.6", 0))
            try:
                c.request("GET", "/metrics")
                resp = c.getresponse()
                assert resp.status == 200, resp.status
                return Metrics(resp.read().decode()).get(name)
            finally:
                c.close()

        try:
            for _ in range(4):  # idle: no header sent, well inside the 5 s deadline
                held.append(socket.create_connection(("127.0.0.1", agent.port), timeout=5,
                                                     source_address=("127.0.0.5", 0)))
            time.sleep(0.3)
            assert metric("toolwatch_http_client_limit_refusals_total") == 0
            res = []
            late_request(agent.port, 0.1, res, source="127.0.0.5")
            assert res and "200" not in res[0], res  # the fifth is closed unanswered
            assert metric("toolwatch_http_client_limit_refusals_total") == 1
            # a closed connection frees its place
            held.pop().close()
            time.sleep(0.5)
            res = []
            late_request(agent.port, 0, res, source="127.0.0.5")
            assert res == ["HTTP/1.1 200 OK"], res
            assert metric("toolwatch_http_client_limit_refusals_total") == 1
            assert metric("toolwatch_http_header_timeouts_total") == 0
        finally:
            for s in held:
                s.close()
            assert agent.stop() == 0

    @r.test
    def test_http_failed_scrape_reports_the_agent_log(ctx):
        def failure(agent):
            try:
                agent.scrape()
            except AssertionError as e:
                return str(e)
            raise AssertionError("the scrape succeeded")

        def sockets(agent):
            fd_dir = "/proc/%d/fd" % agent.proc.pid
            n = 0
            for fd in os.listdir(fd_dir):
                try:
                    n += os.readlink(os.path.join(fd_dir, fd)).startswith("socket:")
                except OSError:
                    pass
            return n

        def alone(agent):
            # a scrape's connection holds the client's one place until the server has
            # closed it (one socket left: the listening one)
            deadline = time.time() + 5
            while sockets(agent) > 1 and time.time() < deadline:
                time.sleep(0.02)

        agent = Agent(ctx.binary, ["--web.max-connections-per-client=1"]).start()
        try:
            alone(agent)
            # start()'s health checks may have met a place not yet freed (a slow agent)
            refused = agent.scrape().get("toolwatch_http_client_limit_refusals_total")
            alone(agent)
            deadline = time.time() + 5
            held = socket.create_connection(("127.0.0.1", agent.port), timeout=5)
            try:
                # the held connection takes the place once the server has accepted it
                while sockets(agent) < 2 and time.time() < deadline:
                    time.sleep(0.02)
                assert sockets(agent) == 2, "the held connection was never accepted"
                msg = failure(agent)  # refused: its one place is taken
                assert "agent alive" in msg and "listening on" in msg, msg
            finally:
                held.close()
            alone(agent)
            # the scrape and the diagnostic scrape after it were both refused, and counted
            m = agent.scrape()
            assert m.get("toolwatch_http_client_limit_refusals_total") == refused + 2, (
                refused, [ln for ln in m.text.split("\n") if ln.startswith("toolwatch_http_")])
            assert agent.stop() == 0
            msg = failure(agent)
            assert "exited 0" in msg and "a second scrape failed too" in msg, msg
        finally:
            agent.stop()
