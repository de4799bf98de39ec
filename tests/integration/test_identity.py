# SPDX-License-Identifier: GPL-2.0
"""Container and pod identity (--metrics.labels, trace --json/--container/--pod): real
cgroups in both kubelet driver layouts under the unified hierarchy, a real docker
container, and 2,000 pod cgroups of churn that must leave /metrics after the idle time."""

import json
import os
import shutil
import subprocess
import re
import tempfile
import threading
import time

from lib import Agent, Skip, is_asan, rss_kib
from test_container import DOCKER, DOCKERD, Engine

CID = "%064x" % 0x1D5E1A7
CID2 = "%064x" % 0xC0FFEE
CID3 = "%064x" % 0xBEEF
UID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


def unified():
    """The cgroup2 mount: the unified hierarchy of a hybrid host, or /sys/fs/cgroup."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2":
                return fields[4]
    raise Skip("no cgroup2 file system mounted")


class Cgroups:
    """Cgroup directories made by a test, removed (deepest first) at the end."""

    def __init__(self):
        self.root = unified()
        self.made = []

    def make(self, rel):
        path = self.root
        for part in rel.strip("/").split("/"):
            path = os.path.join(path, part)
            if not os.path.isdir(path):
                os.mkdir(path)
                self.made.append(path)
        return path

    def run(self, rel, argv, wait=True):
        """Runs argv inside the cgroup rel (its pid written to cgroup.procs before exec)."""
        procs = os.path.join(self.root, rel.strip("/"), "cgroup.procs")

        def enter():
            with open(procs, "w") as f:
                f.write(str(os.getpid()))

        p = subprocess.Popen(argv, preexec_fn=enter)
        if wait:
            assert p.wait() == 0, argv
        return p

    def run_each(self, rels, argv, helpers, width=256):
        """Runs argv once in each cgroup of rels (tw_cgspawn: up to width at a time)."""
        dirs = "".join(os.path.join(self.root, rel.strip("/")) + "\n" for rel in rels)
        r = subprocess.run([os.path.join(helpers, "tw_cgspawn"), str(width)] + list(argv),
                           input=dirs, capture_output=True, text=True)
        assert r.returncode == 0, (r.returncode, r.stdout, r.stderr[-2000:])
        return json.loads(r.stdout)

    def remove(self, path):
        deadline = time.time() + 10
        while True:
            try:
                os.rmdir(path)
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)  # the last task is still leaving

    def cleanup(self):
        for path in sorted(self.made, key=len, reverse=True):
            try:
                self.remove(path)
            except OSError:
                pass
        self.made = []


def pairs(m):
    """(tool, identity) pairs on /metrics (toolwatch_series_tracked counts their series)."""
    return len([k for k in m.samples if k[0] == "tool_executions_total"])


def series_of(m, family, tool):
    return {k[1]: v for k, v in m.samples.items()
            if k[0] == family and dict(k[1]).get("tool") == tool}


def wait_total(agent, tool, n, timeout=15.0):
    deadline = time.time() + timeout
    while True:
        m = agent.scrape()
        got = sum(series_of(m, "tool_executions_total", tool).values())
        if got >= n or time.time() > deadline:
            return m
        time.sleep(0.1)


class PodLoop(threading.Thread):
    """Runs tool in a cgroup over and over, sleep_ms per run."""

    def __init__(self, cg, rel, tool, sleep_ms, gap_s=0.0):
        super().__init__(daemon=True)
        self.cg, self.rel, self.tool, self.sleep_ms = cg, rel, tool, sleep_ms
        self.gap_s = gap_s
        self.stop = False

    def run(self):
        while not self.stop:
            self.cg.run(self.rel, [self.tool, "0", str(self.sleep_ms)])
            time.sleep(self.gap_s)


def register(r):
    @r.test
    def test_identity_labels_for_both_driver_layouts(ctx):
        cg = Cgroups()
        layouts = {
            # systemd driver: the pod uid's dashes are underscores in the slice name
            "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/"
            "cri-containerd-%s.scope" % (UID.replace("-", "_"), CID): (CID, UID),
            "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%s.slice/"
            "crio-%s.scope" % ("ab_cd", CID2): (CID2, "ab-cd"),
            # cgroupfs driver
            "kubepods/burstable/pod%s/%s" % (UID, CID3): (CID3, UID),
            "kubepods/pod0000aaaa/%s" % CID: (CID, "0000aaaa"),
            "docker/%s" % CID2: (CID2, ""),
            # a host cgroup that is no container: empty values
            "twhost.slice": ("", ""),
        }
        agent = Agent(ctx.binary, ["--metrics.labels=container_id,pod_uid"])
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        try:
            agent.start()
            for rel in layouts:
                cg.make(rel)
                cg.run(rel, [tool, "0", "200"])
            subprocess.run([tool, "0"], check=True)  # the test's own cgroup
            m = wait_total(agent, name, len(layouts) + 1)
            got = series_of(m, "tool_executions_total", name)
            want = {frozenset({("tool", name), ("container_id", c), ("pod_uid", u)})
                    for c, u in layouts.values()}
            # the test's own cgroup is no container either: it adds to the empty series
            assert set(got) == want, "series %s, want %s" % (sorted(map(sorted, got)),
                                                             sorted(map(sorted, want)))
            empty = frozenset({("tool", name), ("container_id", ""), ("pod_uid", "")})
            assert got[empty] == 2, got
            assert all(v == 1 for k, v in got.items() if k != empty), got
            # every family carries the labels (a histogram and a split counter here)
            lab = {("container_id", CID3), ("pod_uid", UID), ("tool", name)}
            assert m.get("tool_execution_duration_seconds_count", **dict(lab)) == 1
            assert m.get("tool_cpu_seconds_total", mode="user", **dict(lab)) > 0 or \
                m.get("tool_cpu_seconds_total", mode="system", **dict(lab)) > 0
            assert m.get("toolwatch_identity_cgroup2") == 1
            assert m.get("toolwatch_cgroup_resolutions_total", how="proc") >= len(layouts)
            # the labelled exposition is valid for Prometheus' own linter
            if shutil.which("promtool"):
                p = subprocess.run(["promtool", "check", "metrics"], input=m.text,
                                   capture_output=True, text=True)
                assert p.returncode == 0 and not (p.stdout + p.stderr).strip(), \
                    (p.stdout, p.stderr)
        finally:
            agent.stop()
            cg.cleanup()

    @r.test
    def test_identity_agent_in_its_own_cgroup_namespace(ctx):
        """As in a pod: the agent's cgroup2 mount shows only its own subtree, and
        /proc/PID/cgroup of the host's processes reads "/../kubepods/...". A pod's cgroup
        outside that subtree is still told live from gone (opened by id)."""
        cg = Cgroups()
        home = "twagent_%d" % os.getpid()
        rel = "kubepods/burstable/pod%s/%s" % (UID, CID)
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        agent = Agent(ctx.binary, ["--metrics.labels=container_id,pod_uid",
                                   "--metrics.identity-idle-timeout=2s"])
        inner = " ".join([ctx.binary] + agent.args)
        agent.binary = "/usr/bin/unshare"
        agent.args = ["--cgroup", "--mount", "sh", "-c",
                      "umount %s && mount -t cgroup2 none %s && exec %s" % (cg.root, cg.root, inner)]
        procs = os.path.join(cg.make(home), "cgroup.procs")
        cg.make(rel)
        popen = subprocess.Popen

        def in_home(*a, **kw):
            def enter():
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))
            return popen(*a, preexec_fn=enter, **kw)
        try:
            subprocess.Popen = in_home
            try:
                agent.start()
            finally:
                subprocess.Popen = popen
            cg.run(rel, [tool, "0", "300"])
            m = wait_total(agent, name, 1)
            got = series_of(m, "tool_executions_total", name)
            want = frozenset({("tool", name), ("container_id", CID), ("pod_uid", UID)})
            assert got == {want: 1.0}, got
            # idle past the timeout, the pod lives: the series stays
            time.sleep(2 + 2.5)
            got = series_of(agent.scrape(), "tool_executions_total", name)
            assert got == {want: 1.0}, got
            cg.remove(os.path.join(cg.root, rel))
            deadline = time.time() + 5
            while got and time.time() < deadline:
                time.sleep(0.2)
                got = series_of(agent.scrape(), "tool_executions_total", name)
            assert not got, "the gone pod's series is still there: %s" % got
        finally:
            agent.stop()
            cg.cleanup()

    @r.test
    def test_identity_without_cgroup2_labels_stay_empty(ctx):
        """A cgroup v1-only host, as the agent sees it: no cgroup2 mount in its mount
        namespace. It says so once, keeps running, and the labels are empty."""
        cg = Cgroups()
        rel = "kubepods/burstable/pod%s/%s" % (UID, CID)
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        agent = Agent(ctx.binary, ["--metrics.labels=container_id,pod_uid"])
        inner = " ".join([ctx.binary] + agent.args)
        agent.binary = "/usr/bin/unshare"
        agent.args = ["--mount", "sh", "-c", "umount %s && exec %s" % (cg.root, inner)]
        cg.make(rel)
        try:
            agent.start()
            cg.run(rel, [tool, "0", "200"])
            m = wait_total(agent, name, 1)
            got = series_of(m, "tool_executions_total", name)
            want = frozenset({("tool", name), ("container_id", ""), ("pod_uid", "")})
            assert got == {want: 1.0}, got
            assert m.get("toolwatch_identity_cgroup2") == 0
            log = agent.read_log()
            assert log.count("no cgroup v2 hierarchy") == 1, log[-2000:]
        finally:
            agent.stop()
            cg.cleanup()

    @r.test
    def test_identity_anomaly_names_the_pods_that_contributed(ctx):
        """Baselines stay per tool; a raised flag's log line names the pod that made it."""
        cg = Cgroups()
        slow_rel = "kubepods/burstable/podaaaa1111/%s" % CID
        calm_rel = "kubepods/burstable/podbbbb2222/%s" % CID2
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        agent = Agent(ctx.binary, ["--metrics.labels=pod_uid", "--anomaly.window=2s",
                                   "--anomaly.min-windows=8", "--anomaly.min-samples=50",
                                   "--state.save-interval=0"])
        loops = []
        try:
            cg.make(slow_rel)
            cg.make(calm_rel)
            agent.start()
            # the calm pod runs less often: its share of the time stays small
            loops = [PodLoop(cg, slow_rel, tool, 10), PodLoop(cg, calm_rel, tool, 10, 0.05)]
            for lp in loops:
                lp.start()
            time.sleep(8 * 2 + 5)  # learn: 8 windows of 2 s, and the first partial one
            loops[0].sleep_ms = 60  # one pod's runs get slow
            deadline = time.time() + 20
            line = None
            while time.time() < deadline and not line:
                found = re.findall(r"anomaly raised: tool='%s' kind=LATENCY_DEGRADATION.*"
                                   % re.escape(name), agent.read_log())
                line = found[0] if found else None
                time.sleep(0.5)
            assert line, agent.read_log()[-3000:]
            # the slow pod first (most of the window's execution time), then the calm one
            m = re.search(r"contributors=pod_uid=(\S+) (\d+)%,pod_uid=(\S+) (\d+)%", line)
            assert m and m.group(1) == "aaaa1111" and m.group(3) == "bbbb2222", line
            assert int(m.group(2)) > int(m.group(4)), line
            # the flag itself is per tool, no pod label
            got = agent.scrape()
            assert got.get("tool_anomaly", tool=name, kind="LATENCY_DEGRADATION",
                           severity="high") == 1
        finally:
            for lp in loops:
                lp.stop = True
            for lp in loops:
                lp.join(timeout=5)
            agent.stop()
            cg.cleanup()

    @r.test
    def test_identity_trace_json_and_filters(ctx):
        cg = Cgroups()
        rel = "kubepods/besteffort/pod%s/%s" % (UID, CID)
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        try:
            cg.make(rel)
            out = tempfile.TemporaryFile()
            tr = subprocess.Popen([ctx.binary, "trace", "--json", "--container", CID[:12],
                                   "--tool", name, "--duration", "6s"],
                                  stdout=out, stderr=subprocess.PIPE)
            time.sleep(2.0)  # programs loaded
            cg.run(rel, [tool, "0", "200"])
            subprocess.run([tool, "0"], check=True)  # not in the container: filtered out
            tr.wait(timeout=20)
            out.seek(0)
            lines = [json.loads(x) for x in out.read().decode().splitlines() if x.strip()]
            assert len(lines) == 1, lines
            assert lines[0]["container_id"] == CID and lines[0]["pod_uid"] == UID, lines[0]
            assert "namespace" not in lines[0], lines[0]  # no name source in trace
            # --pod without names matches the uid's prefix
            out = tempfile.TemporaryFile()
            tr = subprocess.Popen([ctx.binary, "trace", "--json", "--pod", UID[:8],
                                   "--tool", name, "--duration", "6s"],
                                  stdout=out, stderr=subprocess.PIPE)
            time.sleep(2.0)
            cg.run(rel, [tool, "0", "200"])
            subprocess.run([tool, "0"], check=True)
            tr.wait(timeout=20)
            out.seek(0)
            lines = [json.loads(x) for x in out.read().decode().splitlines() if x.strip()]
            assert [x["pod_uid"] for x in lines] == [UID], lines
            # --namespace needs pod names: one line, exit 2
            p = subprocess.run([ctx.binary, "trace", "--namespace", "prod"],
                               capture_output=True, text=True, timeout=10)
            assert p.returncode == 2 and p.stderr.count("\n") == 1, (p.returncode, p.stderr)
            assert "--namespace" in p.stderr, p.stderr
            # unknown label names are refused the same way
            p = subprocess.run([ctx.binary, "--metrics.labels=pod,node"],
                               capture_output=True, text=True, timeout=10)
            assert p.returncode == 2 and p.stderr.count("\n") == 1, (p.returncode, p.stderr)
            assert "'node'" in p.stderr or "node" in p.stderr, p.stderr
        finally:
            cg.cleanup()

    @r.test
    def test_identity_docker_container_id(ctx):
        if not (os.path.exists(DOCKERD) and os.path.exists(DOCKER)):
            raise Skip("docker.io not installed (make deps)")
        engine = Engine({})
        agent = Agent(ctx.binary, ["--metrics.labels=container_id,pod_uid"])
        name = "twdock_%d" % os.getpid()
        tmp = tempfile.mkdtemp(prefix="twimg.")
        try:
            engine.start()
            # an image of one static binary, imported locally: no registry
            shutil.copy(os.path.join(ctx.helpers, "static_sleep"), os.path.join(tmp, name))
            tar = os.path.join(tmp, "img.tar")
            subprocess.run(["tar", "-C", tmp, "-cf", tar, name], check=True)
            image = "twident:%d" % os.getpid()
            engine.docker("import", tar, image)
            agent.start()
            cid = engine.docker("run", "-d", "--network", "none", image, "/" + name,
                                "300").stdout.strip()
            engine.docker("wait", cid)
            full = json.loads(engine.docker("inspect", cid).stdout)[0]["Id"]
            assert full == cid and len(cid) == 64, (cid, full)
            m = wait_total(agent, name, 1)
            got = series_of(m, "tool_executions_total", name)
            want = frozenset({("tool", name), ("container_id", cid), ("pod_uid", "")})
            assert got == {want: 1.0}, "series %s, docker says %s" % (got, cid)
            engine.docker("rm", cid)
            engine.docker("rmi", image, check=False)
        finally:
            agent.stop()
            engine.stop()
            shutil.rmtree(tmp, ignore_errors=True)

    @r.test
    def test_identity_short_lived_tools_in_new_pods_keep_their_pod(ctx):
        """100 new pod cgroups (systemd driver layout), each running 10 tools of about a
        millisecond, with the DaemonSet's capabilities only (uid 0, CAP_BPF and CAP_PERFMON):
        every execution is counted under its own pod. Each process is gone by the time its
        record is read (no /proc/PID/cgroup), its cgroup is not."""
        if not shutil.which("setpriv"):
            raise Skip("setpriv not installed (util-linux)")
        pods, runs = 100, 10
        cg = Cgroups()
        tag = os.getpid()
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        agent = Agent(ctx.binary, ["--metrics.labels=container_id,pod_uid"])
        caps = "-all,+bpf,+perfmon"
        agent.args = ["--inh-caps=" + caps, "--bounding-set=" + caps, "--",
                      agent.binary] + agent.args
        agent.binary = shutil.which("setpriv")
        loop = "for i in %s; do %s 0 1; done" % (" ".join(["x"] * runs), tool)
        want = {}
        try:
            agent.start()
            with open("/proc/%d/status" % agent.proc.pid) as f:
                eff = [ln.split()[1] for ln in f if ln.startswith("CapEff:")][0]
            assert int(eff, 16) == (1 << 38) | (1 << 39), "CapEff %s" % eff
            before = agent.scrape()
            t0 = time.time()
            for i in range(pods):
                uid = "%08x-%04x-4000-8000-%012x" % (tag, i, i)
                cid = "%032x%032x" % (tag, i)
                rel = ("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/"
                       "cri-containerd-%s.scope" % (uid.replace("-", "_"), cid))
                cg.make(rel)
                cg.run(rel, ["/bin/sh", "-c", loop])
                want[frozenset({("tool", name), ("container_id", cid), ("pod_uid", uid)})] = runs
            elapsed = time.time() - t0
            m = wait_total(agent, name, pods * runs, timeout=30)
            got = series_of(m, "tool_executions_total", name)
            unresolved = (m.get("toolwatch_cgroup_resolutions_total", how="unresolved")
                          - before.get("toolwatch_cgroup_resolutions_total", how="unresolved"))
            walks = m.get("toolwatch_cgroup_walks_total") - \
                before.get("toolwatch_cgroup_walks_total")
            print("     %d pods x %d tools in %.1fs: %d executions, %d unresolved, %d walks"
                  % (pods, runs, elapsed, sum(got.values()), unresolved, walks), flush=True)
            wrong = {k: v for k, v in got.items() if want.get(k) != v}
            missing = [k for k in want if k not in got]
            assert not wrong and not missing, "%d series wrong (e.g. %s), %d pods missing" % (
                len(wrong), sorted(map(sorted, wrong))[:3], len(missing))
            assert unresolved == 0, unresolved
        finally:
            agent.stop()
            cg.cleanup()

    @r.test
    def test_identity_series_leave_when_the_pod_is_gone(ctx):
        """An idle series stays while its pod's cgroup exists (no counter reset), and leaves
        once the cgroup is removed and the idle time has passed."""
        idle_s = 3
        cg = Cgroups()
        tag = "%d" % os.getpid()
        pod_a = "kubepods/burstable/podaaaa%s" % tag
        pod_b = "kubepods/burstable/podbbbb%s" % tag
        rel_a, rel_b = pod_a + "/" + CID, pod_b + "/" + CID2
        agent = Agent(ctx.binary, ["--metrics.labels=container_id,pod_uid",
                                   "--metrics.identity-idle-timeout=%ds" % idle_s])
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        key_a = frozenset({("tool", name), ("container_id", CID), ("pod_uid", "aaaa" + tag)})
        key_b = frozenset({("tool", name), ("container_id", CID2), ("pod_uid", "bbbb" + tag)})

        def ours():
            m = agent.scrape()
            return m, {k: v for k, v in series_of(m, "tool_executions_total", name).items()
                       if k in (key_a, key_b)}

        def wait_for(cond, timeout):
            deadline = time.time() + timeout
            while True:
                m, got = ours()
                if cond(got) or time.time() > deadline:
                    return m, got
                time.sleep(0.2)

        try:
            agent.start()
            for rel in (rel_a, rel_b):
                cg.make(rel)
            cg.run(rel_a, [tool, "0"])
            cg.run(rel_a, [tool, "0"])
            cg.run(rel_b, [tool, "0"])
            _, got = wait_for(lambda g: g.get(key_a) == 2 and g.get(key_b) == 1, 15)
            assert got == {key_a: 2, key_b: 1}, got
            # pod A goes; pod B lives on, idle
            t_gone = time.time()
            cg.remove(os.path.join(cg.root, rel_a))
            cg.remove(os.path.join(cg.root, pod_a))
            m, got = wait_for(lambda g: key_a not in g, idle_s + 5)
            assert got == {key_b: 1}, got
            left_after = time.time() - t_gone
            # well past the idle time, the living pod's series is still there, exactly
            time.sleep(idle_s + 2)
            m, got = ours()
            assert got == {key_b: 1}, "the idle series of a live pod left: %s" % got
            evicted = m.get("toolwatch_series_evicted_total")
            assert evicted >= 1, evicted
            # then pod B goes too
            t_gone = time.time()
            cg.remove(os.path.join(cg.root, rel_b))
            cg.remove(os.path.join(cg.root, pod_b))
            m, got = wait_for(lambda g: not g, 5)
            assert got == {}, got
            assert m.get("toolwatch_series_evicted_total") >= evicted + 1
            print("     pod A's series left %.1fs after its cgroup (idle %ds), pod B's %.1fs "
                  "after its own (already idle)" % (left_after, idle_s, time.time() - t_gone),
                  flush=True)
        finally:
            agent.stop()
            cg.cleanup()

    @r.test
    def test_identity_churn_leaves_metrics(ctx):
        # on a loaded machine a round may outlast the idle time: early pods' series then
        # leave during the round, so each pod's series is counted as tracked or evicted;
        # other workloads on the host add series of their own meanwhile: they are not ours
        pods, idle_s = 2000, 20
        cg = Cgroups()
        # the host's own series (other workloads' tool names) follow --tools.idle-timeout:
        # the same time here, so that what they hold does not read as the churn's memory
        # under ASan, freed memory waits in a quarantine (256 MiB by default) before reuse:
        # a small one keeps the RSS bound below meaningful for that build too
        env = dict(os.environ)
        asan = env.get("ASAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "quarantine_size_mb=8"
        # (a budget of series far above 2000 pods' worth: the churn is under test, not it)
        agent = Agent(ctx.binary, ["--metrics.labels=container_id,pod_uid",
                                   "--metrics.max-series=10000000",
                                   "--metrics.identity-idle-timeout=%ds" % idle_s,
                                   "--tools.idle-timeout=%ds" % idle_s], env=env)
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)

        def settle_tracked(wait=idle_s + 2.5):  # idle time, plus the 1 s tick
            time.sleep(wait)
            m = agent.scrape()
            return m, pairs(m), len(m.text)

        def seen(m):
            """Series that ever existed: tracked now, or evicted; cgroup ids resolved."""
            return (pairs(m) + m.get("toolwatch_series_evicted_total"),
                    m.get("toolwatch_cgroup_resolutions_total", how="proc") +
                    m.get("toolwatch_cgroup_resolutions_total", how="walk"))

        def churn(round_):
            before = seen(agent.scrape())
            rels = ["kubepods/burstable/pod%04d-%d-%d/%064x" % (i, round_, os.getpid(), i)
                    for i in range(pods)]
            t0 = time.time()
            for rel in rels:
                cg.make(rel)
            ran = cg.run_each(rels, [tool, "0", "100"], ctx.work.helpers)
            assert ran["ok"] == pods, ran
            time.sleep(1.0)
            m = agent.scrape()
            print("     round %d: %d pods in %.1fs" % (round_, pods, time.time() - t0),
                  flush=True)
            after = seen(m)
            # each pod resolved from its cgroup and counted in a series of its own
            assert after[1] - before[1] >= pods * 0.95, (before, after)
            assert after[0] - before[0] >= pods * 0.95, (before, after)
            cg.cleanup()
            return m

        try:
            agent.start()
            base_m, base, base_size = settle_tracked(1.0)
            m = churn(1)
            peak = pairs(m)
            after1_m, after1, size1 = settle_tracked()
            rss1 = rss_kib(agent.proc.pid)
            assert not series_of(after1_m, "tool_executions_total", name), \
                "the churned pods' series are still on /metrics"
            # what is left is what the host ran meanwhile: every tracked series is on
            # /metrics, none is held for a gone pod
            visible = len([k for k in after1_m.samples if k[0] == "tool_executions_total"])
            assert after1 == visible, "tracked %d, on /metrics %d (%d before, %d at the peak)" \
                % (after1, visible, base, peak)
            # the scrape shrinks back with the series (a series is ~7 KB of text; 4 KiB of
            # slack for self metrics whose numbers grew digits, e.g. evicted 0 -> 2000)
            assert size1 <= base_size + max(0, after1 - base) * 12000 + 4096, \
                (base_size, size1)
            assert after1_m.get("toolwatch_series_evicted_total") >= pods * 0.95
            # more rounds: memory levels off (the first round grows the allocator's arenas
            # to the peak's size) and does not grow with the pods that came and went
            rss = [rss1]
            for round_ in (2, 3):
                churn(round_)
                after_m, after, size = settle_tracked()
                rss.append(rss_kib(agent.proc.pid))
                assert not series_of(after_m, "tool_executions_total", name)
                assert after == len([k for k in after_m.samples
                                     if k[0] == "tool_executions_total"]), after
            print("     series: %d before, %d at the end of round 1, %d after; RSS after each "
                  "round %s KiB; scrape %d -> %d bytes" % (base, peak, after1, rss, base_size,
                                                           size), flush=True)
            # the third round may still add a few MiB of allocator pages (0, 1.9 and 4.1 MiB
            # measured on one VM): 4 KiB per pod, where a series left behind holds some 30 KiB
            # (RSS with 1,000 tools of 70 series each: 32 MiB); an ASan build also holds up
            # to its 8 MiB quarantine of freed memory
            asan = is_asan(ctx.binary)
            slack = 8192 + (8192 if asan else 0)
            assert rss[2] <= rss[1] + slack, "RSS grew from %d to %d KiB" % (rss[1], rss[2])
        finally:
            agent.stop()
            cg.cleanup()
