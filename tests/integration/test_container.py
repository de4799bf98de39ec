# SPDX-License-Identifier: GPL-2.0
"""The image, built with deploy/image.sh and run the way deploy/kubernetes/base/toolwatch.yaml
runs it, in a dockerd (Debian's docker.io) that the test starts and stops itself.

Docker 20.10 does not know CAP_BPF and CAP_PERFMON by name (nor numbers), so the
container runs with --cap-drop ALL under a runtime wrapper that adds exactly the manifest's
capabilities to the OCI config (and, as containerd's RuntimeDefault seccomp profile does
for them, lets bpf and perf_event_open through). The engine has no bridge network
(--bridge=none --iptables=false: nothing touches the host's firewall), so the agent uses
the host network and listens on a loopback port instead of the pod's :9477. The manifest's
pod labels are on, their names served by the fake Kubernetes API (kube_fake.py)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

try:
    import yaml
except ImportError:  # a python3 other than Debian's: use Debian's python3-yaml (make deps)
    sys.path.append("/usr/lib/python3/dist-packages")
    import yaml

from kube_fake import FakeApi, pod as api_pod
from test_kube_labels import PodCgroup
from lib import Metrics, Skip, free_port, http_get
from test_lifecycle import TOOLWATCH_PROGRAMS, assert_no_leftover_programs, held_prog_ids

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MANIFEST = os.path.join(ROOT, "deploy", "kubernetes", "base", "toolwatch.yaml")
DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"  # Debian's client, the daemon's own version
IMAGE = "toolwatch:test"
BASE = "toolwatch-base:bookworm"
CGROUP_PARENTS = ["/sys/fs/cgroup/unified/docker", "/sys/fs/cgroup/docker"]
# off unless --probe.enable names them
# exec_failed_libc needs the host's C library (PID 1's maps: CAP_SYS_PTRACE) and uprobes,
# which the engine refuses the DaemonSet's container (EACCES): best effort, like these
OPT_IN_PROBES = {"exec_failed", "exec_failed_libc", "runqlat", "delayacct", "netcalls"}
# Image layers outlive a run (build/ is the cache; make clean drops it): the ASan pass and
# later runs rebuild only what changed.
DATA_ROOT = os.path.join(ROOT, "build", "container")
# The capabilities' bits in /proc/PID/status (capability.h)
CAP_BITS = {"CHOWN": 0, "DAC_OVERRIDE": 1, "FOWNER": 3, "KILL": 5, "SETUID": 7,
            "NET_ADMIN": 12, "NET_RAW": 13, "IPC_LOCK": 14, "SYS_PTRACE": 19,
            "SYS_ADMIN": 21, "SYS_RESOURCE": 24, "PERFMON": 38, "BPF": 39}
# A short --metrics.identity-idle-timeout: a live pod's idle series must outlast it
IDLE_S = 3
# new pods each running quick tools: every execution under its pod's names
NEW_PODS, RUNS = 20, 10
# What containerd's RuntimeDefault profile allows for a capability beyond Docker 20.10's
SECCOMP_FOR_CAP = {"CAP_BPF": ["bpf"], "CAP_PERFMON": ["perf_event_open"]}

RUNTIME_WRAPPER = """#!/usr/bin/python3
# OCI runtime wrapper: adds %(caps)r to the container's capability sets, then runs runc.
import json, os, sys
CAPS = %(caps)r
SYSCALLS = %(syscalls)r
a = sys.argv
if "create" in a and "--bundle" in a:
    path = os.path.join(a[a.index("--bundle") + 1], "config.json")
    with open(path) as f:
        c = json.load(f)
    caps = c["process"].setdefault("capabilities", {})
    for k in ("bounding", "effective", "permitted"):
        caps[k] = sorted(set(caps.get(k) or []) | set(CAPS))
    sc = c.get("linux", {}).get("seccomp")
    if sc is not None and SYSCALLS:
        sc["syscalls"].append({"names": SYSCALLS, "action": "SCMP_ACT_ALLOW"})
    with open(path, "w") as f:
        json.dump(c, f)
os.execv("/usr/sbin/runc", ["runc"] + a[1:])
"""


def cgroup2_mount():
    """Where this host mounts its cgroup2 file system (a node's /sys/fs/cgroup)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[fields.index("-") + 1] == "cgroup2":
                return fields[4]
    raise Skip("no cgroup2 file system mounted")


def daemonset():
    with open(MANIFEST) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    return next(d for d in docs if d["kind"] == "DaemonSet")


class Engine:
    """A private dockerd: own data root, exec root, socket and config; no bridge."""

    def __init__(self, runtimes):
        """runtimes: {name: capabilities it adds}, each an OCI runtime of the daemon."""
        self.tmp = tempfile.mkdtemp(prefix="twd.")  # short: containerd's socket lives here
        self.sock = os.path.join(self.tmp, "d.sock")
        self.exec_root = os.path.join(self.tmp, "x")
        self.proc = None
        # dockerd makes the parent cgroup of its containers; leave none behind we made
        self.cgroups = [d for d in CGROUP_PARENTS if not os.path.isdir(d)]
        self.runtimes = []
        for name, caps in runtimes.items():
            path = os.path.join(self.tmp, name)
            syscalls = sorted({s for c in caps for s in SECCOMP_FOR_CAP.get(c, [])})
            with open(path, "w") as f:
                f.write(RUNTIME_WRAPPER % {"caps": sorted(caps), "syscalls": syscalls})
            os.chmod(path, 0o755)
            self.runtimes += ["--add-runtime", "%s=%s" % (name, path)]
        self.env = dict(os.environ, DOCKER_HOST="unix://" + self.sock, DOCKER=DOCKER,
                        DOCKER_CONFIG=os.path.join(self.tmp, "cli"))

    def start(self, timeout=60.0):
        os.makedirs(DATA_ROOT, exist_ok=True)
        cfg = os.path.join(self.tmp, "daemon.json")
        with open(cfg, "w") as f:
            f.write("{}\n")
        self.log = open(os.path.join(self.tmp, "dockerd.log"), "w")
        self.proc = subprocess.Popen(
            [DOCKERD, "--data-root", DATA_ROOT, "--exec-root", self.exec_root,
             "-H", "unix://" + self.sock, "--pidfile", os.path.join(self.tmp, "d.pid"),
             "--config-file", cfg, "--bridge=none", "--iptables=false", "--ip6tables=false",
             "--ip-masq=false"] + self.runtimes,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("dockerd exited with %d: %s"
                                     % (self.proc.returncode, self.read_log()[-2000:]))
            if self.docker("version", check=False).returncode == 0:
                return self
            time.sleep(0.2)
        raise AssertionError("dockerd not answering after %.0fs: %s"
                             % (timeout, self.read_log()[-2000:]))

    def read_log(self):
        with open(os.path.join(self.tmp, "dockerd.log")) as f:
            return f.read()

    def docker(self, *args, check=True, timeout=120):
        p = subprocess.run([DOCKER] + list(args), env=self.env, capture_output=True,
                           text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("docker %s: %s%s" % (" ".join(args), p.stdout, p.stderr))
        return p

    def stop(self):
        """Removes every container, stops dockerd (and its containerd), then ends whatever
        of theirs is left and unmounts what they left mounted."""
        if self.proc and self.proc.poll() is None:
            ids = self.docker("ps", "-aq", check=False).stdout.split()
            if ids:
                self.docker("rm", "-f", *ids, check=False)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in os.listdir("/proc"):  # shims and containerd started under our exec root
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if pid.isdigit() and self.tmp.encode() in cmd and int(pid) != os.getpid():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split()[4] for line in f]
        for m in sorted(mounts, reverse=True):
            if m.startswith(self.tmp) or m.startswith(DATA_ROOT + "/"):
                subprocess.run(["umount", "-l", m], capture_output=True)
        if self.proc:
            self.log.close()
        for d in self.cgroups:  # empty once the containers are gone; rmdir refuses otherwise
            try:
                os.rmdir(d)
            except OSError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def docker_args(ds, port, state_dir, extra=()):
    """docker run flags equivalent to the DaemonSet's pod: the test of least privilege;
    extra: agent flags the test adds (before the listen address, which comes last)."""
    pod = ds["spec"]["template"]["spec"]
    c = pod["containers"][0]
    sc = c["securityContext"]
    assert not sc.get("privileged"), "the DaemonSet must not be privileged"
    assert sc["capabilities"]["drop"] == ["ALL"], sc
    args = ["--runtime", "twcaps", "--cap-drop", "ALL", "--network", "host",
            "--user", str(sc["runAsUser"]), "--memory", c["resources"]["limits"]["memory"]
            .replace("Mi", "m").replace("Gi", "g")]
    if pod.get("hostPID"):
        args.append("--pid=host")
    if sc.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    if sc.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    for m in c["volumeMounts"]:
        host = volumes[m["name"]]["hostPath"]
        src = state_dir if host["path"] == "/var/lib/toolwatch" else host["path"]
        if host["path"] == "/sys/fs/cgroup":  # the node's cgroup2, wherever this host has it
            src = cgroup2_mount()
        if host.get("type") == "Directory":
            assert os.path.isdir(src), "hostPath %s must exist" % src
        args += ["-v", "%s:%s%s" % (src, m["mountPath"], ":ro" if m.get("readOnly") else "")]
    for e in c.get("env", []):
        if e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName":
            args += ["-e", "%s=%s" % (e["name"], os.uname().nodename)]
    agent = [a for a in c["args"] if not a.startswith("--web.listen-address")]
    assert len(agent) == len(c["args"]) - 1, c["args"]
    return args, agent + list(extra) + ["--web.listen-address=127.0.0.1:%d" % port]


def scrape(url):
    status, headers, body = http_get(url + "/metrics")
    assert status == 200, "scrape returned %d" % status
    return Metrics(body.decode("utf-8")), headers


def tool_total(m, tool):
    """A tool's executions summed over its series (the DaemonSet adds identity labels)."""
    return sum(v for k, v in m.samples.items()
               if k[0] == "tool_executions_total" and dict(k[1]).get("tool") == tool)


def wait_count(url, tool, expected, timeout=15.0):
    deadline = time.time() + timeout
    while True:
        got = tool_total(scrape(url)[0], tool)
        if got >= expected or time.time() > deadline:
            break
        time.sleep(0.1)
    time.sleep(0.5)  # nothing more arrives
    return tool_total(scrape(url)[0], tool)


def cap_mask(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    raise AssertionError("no CapEff for %d" % pid)


def register(r):
    @r.test
    def test_container_runs_as_the_daemonset(ctx):
        if not (os.path.exists(DOCKERD) and os.path.exists(DOCKER)):
            raise Skip("docker.io not installed (make deps)")
        if not shutil.which("debootstrap"):
            raise Skip("debootstrap not installed (make deps)")
        ds = daemonset()
        c = ds["spec"]["template"]["spec"]["containers"][0]
        manifest_caps = c["securityContext"]["capabilities"]["add"]
        caps = ["CAP_" + cap for cap in manifest_caps]
        runtimes = {"twcaps": caps}
        for cap in caps:  # the manifest's set less one capability
            runtimes["twno" + cap[4:].lower()] = [c for c in caps if c != cap]
        engine = Engine(runtimes)
        state = tempfile.mkdtemp(prefix="twstate.")
        # a pod on this node, named by the fake API the agent reaches over the host network
        api_dir = tempfile.mkdtemp(prefix="twkube.")
        api = FakeApi(api_dir)
        pod_cg = PodCgroup(cgroup2_mount())
        api.pods = [api_pod("shop", "web-0", pod_cg.uid, [("app", pod_cg.container_id)])]
        new_pods = []
        extra = [a for a in api.agent_args(resync="1s") if a != "--kubernetes.enable"] + \
            ["--metrics.identity-idle-timeout=%ds" % IDLE_S]
        try:
            engine.start()
            t0 = time.time()
            p = subprocess.run([os.path.join(ROOT, "deploy", "image.sh"), IMAGE], cwd=ROOT,
                               env=engine.env, capture_output=True, text=True, timeout=1500)
            assert p.returncode == 0, "image build failed:\n%s%s" % (p.stdout, p.stderr[-3000:])
            print("     image built in %.1fs" % (time.time() - t0), flush=True)

            port = free_port()
            url = "http://127.0.0.1:%d" % port
            run_args, agent_args = docker_args(ds, port, state, extra)
            run_args += ["-v", "%s:%s:ro" % (api_dir, api_dir)]
            cid = engine.docker("run", "-d", "--name", "toolwatch", *run_args, IMAGE,
                                *agent_args).stdout.strip()
            deadline = time.time() + 30
            while True:
                try:
                    if http_get(url + "/healthz", timeout=1)[0] == 200:
                        break
                except OSError:
                    pass
                st = json.loads(engine.docker("inspect", cid).stdout)[0]["State"]
                assert st["Running"] and time.time() < deadline, \
                    "agent container not healthy: %s" % engine.docker("logs", cid).stderr
                time.sleep(0.1)
            pid = json.loads(engine.docker("inspect", cid).stdout)[0]["State"]["Pid"]

            # exactly the manifest's capabilities, nothing more
            want = sum(1 << CAP_BITS[cap] for cap in manifest_caps)
            assert cap_mask(pid) == want, "CapEff %x, manifest %x" % (cap_mask(pid), want)

            # every default probe family attaches with them (exec_failed, runqlat, delayacct
            # and netcalls are opt-in: --probe.enable)
            m, headers = scrape(url)
            assert headers.get("Content-Type", "").startswith("text/plain"), headers
            probes = {dict(k[1])["probe"]: v for k, v in m.samples.items()
                      if k[0] == "toolwatch_probe_enabled"}
            off = sorted(p for p, v in probes.items() if v != 1 and p not in OPT_IN_PROBES)
            assert probes and not off, "probes off in the container: %s\n%s" % (
                off, engine.docker("logs", cid).stderr)
            status, _, body = http_get(url + "/healthz")
            assert status == 200, (status, body)

            # a host tool, counted exactly
            tool = ctx.work.tool("tw_exit")
            ctx.work.spawn(7, [tool, "0"])
            got = wait_count(url, os.path.basename(tool), 7)
            assert got == 7, "host tool counted %s times, ran 7" % got

            # a tool in a second container (its own PID and mount namespaces), exactly
            name = "twctr_%d" % os.getpid()
            engine.docker("run", "--rm", "--network", "none", BASE, "sh", "-c",
                          "cp /bin/true /tmp/%s && for i in 1 2 3 4 5; do /tmp/%s; done"
                          % (name, name))
            got = wait_count(url, name, 5)
            assert got == 5, "tool in a container counted %s times, ran 5" % got

            # a pod's tools under the manifest's labels; idle past the identity idle time,
            # the live pod's series stays, its count intact (no reset); gone, it leaves
            logs = engine.docker("logs", cid).stderr
            assert "cannot tell live cgroups from gone ones" not in logs and \
                "shows only the agent's cgroup namespace" not in logs, logs[-2000:]
            assert "missing capabilities: none" in logs, logs[-2000:]
            ptool = ctx.work.tool("tw_exit")
            pname = os.path.basename(ptool)
            names = {"namespace": "shop", "pod": "web-0", "container": "app"}

            def pod_count():
                return sum(v for k, v in scrape(url)[0].samples.items()
                           if k[0] == "tool_executions_total" and
                           dict(k[1]) == dict(names, tool=pname))
            for _ in range(3):
                pod_cg.run([ptool, "0"])
            deadline = time.time() + 15
            while pod_count() < 3 and time.time() < deadline:
                time.sleep(0.2)
            assert pod_count() == 3, [k for k in scrape(url)[0].samples
                                      if dict(k[1]).get("tool") == pname]
            time.sleep(IDLE_S * 2 + 2)  # well past the idle time (and a 1 s tick)
            assert pod_count() == 3, "the live pod's idle series left or restarted"
            pod_cg.remove()
            deadline = time.time() + IDLE_S + 10
            while pod_count() and time.time() < deadline:
                time.sleep(0.2)
            assert pod_count() == 0, "the gone pod's series is still there"
            print("     a live pod's series outlived %ds of idle time (%.0fs) with its count; "
                  "gone, it left" % (IDLE_S, IDLE_S * 2 + 2), flush=True)

            # new pods whose tools last a millisecond: gone before their records are read,
            # each still counted under its own pod (the agent walks the host's cgroup tree,
            # its ids from inode numbers: the seccomp profile refuses name_to_handle_at)
            new_pods = [PodCgroup(cgroup2_mount()) for _ in range(NEW_PODS)]
            api.pods = api.pods + [api_pod("batch", "job-%d" % i, p.uid,
                                           [("step", p.container_id)])
                                   for i, p in enumerate(new_pods)]
            deadline = time.time() + 15
            while scrape(url)[0].get("toolwatch_kubernetes_pods") < 1 + NEW_PODS:
                assert time.time() < deadline, "the API's new pods not listed in 15 s"
                time.sleep(0.2)
            qtool = ctx.work.tool("tw_exit")
            qname = os.path.basename(qtool)
            loop = "for i in %s; do %s 0 1; done" % (" ".join(["x"] * RUNS), qtool)
            for p in new_pods:
                p.run(["/bin/sh", "-c", loop])
            want = {"job-%d" % i: RUNS for i in range(NEW_PODS)}
            deadline = time.time() + 20
            while True:
                got = {}
                for k, v in scrape(url)[0].samples.items():
                    d = dict(k[1])
                    if k[0] == "tool_executions_total" and d.get("tool") == qname:
                        key = d.get("pod", "") if d.get("namespace") == "batch" else ""
                        got[key] = got.get(key, 0) + v
                if got == want or time.time() > deadline:
                    break
                time.sleep(0.2)
            assert got == want, "executions by pod: %s" % got
            print("     %d new pods x %d quick tools: every execution under its pod"
                  % (NEW_PODS, RUNS), flush=True)

            # the container's memory (RSS, page cache and BPF maps are charged to it)
            stats = engine.docker("stats", "--no-stream", "--format", "{{.MemUsage}}",
                                  cid).stdout.strip()
            print("     container memory: %s" % stats, flush=True)

            # each capability is needed: without it the agent cannot start
            for cap in caps:
                spare = tempfile.mkdtemp(prefix="twstate.", dir=state)
                run = [a.replace(state + ":", spare + ":") for a in run_args]
                run[run.index("twcaps")] = "twno" + cap[4:].lower()
                p = engine.docker("run", "--rm", *run, IMAGE, *agent_args[:-1],
                                  "--web.listen-address=127.0.0.1:%d" % free_port(),
                                  check=False, timeout=60)
                assert p.returncode == 1 and "cannot load BPF programs" in p.stderr, \
                    "without %s: exit %d: %s" % (cap, p.returncode, p.stderr[-1000:])

            # SIGTERM (docker stop) detaches every program
            held = held_prog_ids(pid)
            names = {p.get("name") for p in __import__("test_lifecycle").bpf_programs()
                     if p["id"] in held}
            assert TOOLWATCH_PROGRAMS <= names, names
            engine.docker("stop", "-t", "20", cid)
            st = json.loads(engine.docker("inspect", cid).stdout)[0]["State"]
            logs = engine.docker("logs", cid).stderr
            assert st["ExitCode"] == 0, "agent exited %d: %s" % (st["ExitCode"], logs[-2000:])
            assert "shutting down" in logs, logs[-2000:]
            assert_no_leftover_programs(held)
        finally:
            engine.stop()
            api.stop()
            for p in reversed(new_pods):  # the last made first, then the first pod's
                p.remove()
            pod_cg.remove()
            shutil.rmtree(state, ignore_errors=True)
            shutil.rmtree(api_dir, ignore_errors=True)
