# SPDX-License-Identifier: GPL-2.0
"""End to end: pod names on tool series. A cgroup made the way the kubelet's cgroupfs
driver makes it (/kubepods/burstable/pod<uid>/<64-hex container id> under the unified
hierarchy), a tool run in it, the fake HTTPS Kubernetes API (kube_fake.py) serving that
pod, and the agent with --metrics.labels=namespace,pod,container: the tool's series carry
the pod's names. A pod that appears after the agent started is named within seconds (a
lookup miss asks for a list; the periodic one is 30 s away). When the API fails, the names
are empty and pod_uid/container_id still come from the cgroup path.

Needs --metrics.labels (cgroup path parsing) and the Kubernetes API client."""

import json
import os
import subprocess
import tempfile
import time
import uuid

from lib import Agent, Skip
from kube_fake import FakeApi, pod

UNIFIED = "/sys/fs/cgroup/unified"
NAME_LABELS = ("namespace", "pod", "container")


class PodCgroup:
    """/kubepods/burstable/pod<uid>/<container id> under the unified hierarchy (cgroupfs
    driver); removes what it made."""

    def __init__(self, root):
        self.uid = str(uuid.uuid4())
        self.container_id = uuid.uuid4().hex + uuid.uuid4().hex  # 64 hex characters
        self.made = []
        path = root
        for part in ("kubepods", "burstable", "pod" + self.uid, self.container_id):
            path = os.path.join(path, part)
            if not os.path.isdir(path):
                os.mkdir(path)
                self.made.append(path)
        self.path = path

    def run(self, argv):
        """Runs argv inside the container's cgroup (joined between fork and exec)."""
        procs = os.path.join(self.path, "cgroup.procs")

        def join():
            with open(procs, "w") as f:
                f.write("0")

        subprocess.run(argv, preexec_fn=join, check=True)

    def remove(self):
        for path in reversed(self.made):
            for _ in range(50):  # the last task may take a moment to leave
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


def unified_root():
    if not os.path.exists(os.path.join(UNIFIED, "cgroup.procs")):
        if os.path.exists("/sys/fs/cgroup/cgroup.procs"):
            return "/sys/fs/cgroup"  # a cgroup v2-only host
        raise Skip("no cgroup v2 hierarchy")
    return UNIFIED


def executions(m, tool, **want):
    """tool_executions_total of tool summed over the series whose labels in want have
    those values (an absent label counts as "")."""
    total = 0.0
    for (name, labels), v in m.samples.items():
        d = dict(labels)
        if name == "tool_executions_total" and d.get("tool") == tool and \
                all(d.get(k, "") == val for k, val in want.items()):
            total += v
    return total


def all_executions(m, tool):
    return executions(m, tool)


def register(r):
    @r.test
    def test_kube_labels_name_the_pod_of_a_cgroup(ctx):
        root = unified_root()
        d = tempfile.mkdtemp(prefix="twkube.")
        api = FakeApi(d)
        first, later = PodCgroup(root), PodCgroup(root)
        api.pods = [pod("shop", "web-7d9f8c6b5-x2k4p", first.uid,
                        [("log-shipper", "b" * 64), ("nginx", first.container_id)])]
        agent = Agent(ctx.binary, api.agent_args(resync="30s")
                      + ["--metrics.labels=namespace,pod,container"])
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        try:
            agent.start()
            agent.wait_value("toolwatch_kubernetes_pods", 1, timeout=10)
            for _ in range(3):
                first.run([tool])
            subprocess.run([tool], check=True)  # on the host, outside any pod
            deadline = time.time() + 10
            while True:
                m = agent.scrape()
                named = executions(m, name, namespace="shop", pod="web-7d9f8c6b5-x2k4p",
                                   container="nginx")
                # every exit lands one exit-timer run after its task ends: wait for all four
                if (named >= 3 and all_executions(m, name) >= 4) or time.time() > deadline:
                    break
                time.sleep(0.1)
            assert named == 3, [(k, v) for k, v in m.samples.items()
                                if dict(k[1]).get("tool") == name]
            assert executions(m, name, namespace="", pod="", container="") == 1
            assert all_executions(m, name) == 4
            # every series of the tool has exactly the asked-for labels
            for (metric, labels), _ in m.samples.items():
                if metric == "tool_executions_total" and dict(labels).get("tool") == name:
                    assert set(dict(labels)) <= {"tool"} | set(NAME_LABELS), labels

            # a pod the API gets to know after the agent started: named within seconds,
            # long before the 30 s periodic list
            api.pods = api.pods + [pod("batch", "job-abcde", later.uid,
                                       [("job", later.container_id)], runtime="cri-o")]
            runs, t0 = 0, time.time()
            while True:
                later.run([tool])
                runs += 1
                m = agent.scrape()
                if executions(m, name, namespace="batch", pod="job-abcde", container="job"):
                    break
                assert time.time() - t0 < 10, "the new pod is not named after 10 s"
                time.sleep(0.2)
            # the last run's exit may land one exit-timer run after that scrape
            deadline = time.time() + 5
            while all_executions(m, name) < 4 + runs and time.time() < deadline:
                time.sleep(0.05)
                m = agent.scrape()
            assert all_executions(m, name) == 4 + runs
            assert m.get("toolwatch_kubernetes_pods") == 2
            assert m.get("toolwatch_kubernetes_lookups_total", result="hit") >= 1
        finally:
            rc = agent.stop()
            api.stop()
            later.remove()  # the last made first: first made kubepods/burstable
            first.remove()
        assert rc == 0, agent.read_log()[-2000:]

    @r.test
    def test_kube_labels_fall_back_when_the_api_fails(ctx):
        root = unified_root()
        d = tempfile.mkdtemp(prefix="twkube.")
        api = FakeApi(d)
        cg = PodCgroup(root)
        api.pods = [pod("shop", "web-7d9f8c6b5-x2k4p", cg.uid, [("nginx", cg.container_id)])]
        api.mode = "403"
        agent = Agent(ctx.binary, api.agent_args(resync="1s")
                      + ["--metrics.labels=pod_uid,container_id,namespace,pod,container"])
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)
        try:
            agent.start()
            agent.wait_value("toolwatch_kubernetes_failures_total", 1, timeout=10,
                             reason="http_403")
            for _ in range(3):
                cg.run([tool])
            deadline = time.time() + 10
            while True:
                m = agent.scrape()
                if all_executions(m, name) >= 3 or time.time() > deadline:
                    break
                time.sleep(0.1)
            assert executions(m, name, pod_uid=cg.uid, container_id=cg.container_id,
                              namespace="", pod="", container="") == 3, \
                [(k, v) for k, v in m.samples.items() if dict(k[1]).get("tool") == name]
            assert all_executions(m, name) == 3
            assert m.get("toolwatch_kubernetes_failures_total", reason="http_403") >= 1
            assert m.get("toolwatch_kubernetes_pods") == 0
        finally:
            rc = agent.stop()
            api.stop()
            cg.remove()
        assert rc == 0, agent.read_log()[-2000:]

    @r.test
    def test_kube_labels_trace_filters_by_pod_and_namespace_names(ctx):
        root = unified_root()
        d = tempfile.mkdtemp(prefix="twkube.")
        api = FakeApi(d)
        web, job = PodCgroup(root), PodCgroup(root)
        api.pods = [pod("shop", "web-7d9f8c6b5-x2k4p", web.uid, [("nginx", web.container_id)]),
                    pod("batch", "job-abcde", job.uid, [("job", job.container_id)])]
        # trace takes the client's connection flags, not the agent-only ones
        kube = [a for a in api.agent_args(timeout="5s")
                if a.split("=")[0] in ("--kubernetes.api-url", "--kubernetes.ca-file",
                                       "--kubernetes.token-file", "--kubernetes.node-name")]
        tool = ctx.work.tool("tw_exit")
        name = os.path.basename(tool)

        def trace(flt):
            out = tempfile.TemporaryFile()
            tr = subprocess.Popen([ctx.binary, "trace", "--json", "--tool", name,
                                   "--duration", "6s"] + flt + kube,
                                  stdout=out, stderr=subprocess.PIPE)
            time.sleep(2.5)  # the first pod list, then the programs loaded
            web.run([tool])
            job.run([tool])
            subprocess.run([tool], check=True)  # on the host: matches neither
            _, err = tr.communicate(timeout=30)
            assert tr.returncode == 0, err
            out.seek(0)
            return [json.loads(x) for x in out.read().decode().splitlines() if x.strip()]

        try:
            lines = trace(["--pod", "web-*"])
            assert [(x["namespace"], x["pod"], x["container"], x["pod_uid"]) for x in lines] \
                == [("shop", "web-7d9f8c6b5-x2k4p", "nginx", web.uid)], lines
            lines = trace(["--namespace", "batch"])
            assert [(x["namespace"], x["pod"], x["container"], x["container_id"])
                    for x in lines] == [("batch", "job-abcde", "job", job.container_id)], lines
            assert api.count() >= 2  # each trace listed the pods itself
        finally:
            api.stop()
            job.remove()  # the last made first: web made kubepods/burstable
            web.remove()
