# SPDX-License-Identifier: GPL-2.0
"""A fake Kubernetes API server for the tests: HTTPS with a CA made by openssl at test
time, a bearer token checked on every request, GET /api/v1/pods?fieldSelector=
spec.nodeName=NODE answered with a PodList shaped like the real API's (the fields a
kubelet-managed pod has, managedFields included), and failure modes switched at run time:
slow (never answers), 401/403/500 with a Status body, truncated JSON, a 50 MB body."""

import ctypes
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lib import Skip

NODE = "node-a"
PR_SET_PDEATHSIG = 1


def sh(*argv, cwd=None):
    subprocess.run(list(argv), check=True, cwd=cwd, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_ca_and_server_cert(d):
    """ca.crt/ca.key and server.crt/server.key for 127.0.0.1, made by openssl now."""
    if not shutil.which("openssl"):
        raise Skip("openssl not installed (make deps)")
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
       "-subj", "/CN=kubernetes test CA", "-keyout", "ca.key", "-out", "ca.crt", cwd=d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver",
       "-keyout", "server.key", "-out", "server.csr", cwd=d)
    sh("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
       "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.crt", cwd=d)


def pod(namespace, name, uid, containers, init=(), ephemeral=(), runtime="containerd",
        node=NODE):
    """One item of a PodList as the API server returns it; containers: [(name, id)]."""
    def status(cname, cid, running=True):
        s = {"name": cname, "state": {"running": {"startedAt": "2026-12-01T10:00:02Z"}}
             if running else {"terminated": {"exitCode": 0, "reason": "Completed",
                                             "containerID": "%s://%s" % (runtime, cid)}},
             "lastState": {}, "ready": running, "restartCount": 0,
             "image": "docker.io/library/busybox:1.36",
             "imageID": "docker.io/library/busybox@sha256:" + "ab" * 32,
             "containerID": "%s://%s" % (runtime, cid), "started": running}
        return s

    st = {"phase": "Running",
          "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": None,
                          "lastTransitionTime": "2026-12-01T10:00:03Z"}],
          "hostIP": "10.0.0.11", "podIP": "10.244.1.17", "podIPs": [{"ip": "10.244.1.17"}],
          "startTime": "2026-12-01T10:00:00Z",
          "containerStatuses": [status(n, i) for n, i in containers],
          "qosClass": "Burstable"}
    if init:
        st["initContainerStatuses"] = [status(n, i, running=False) for n, i in init]
    if ephemeral:
        st["ephemeralContainerStatuses"] = [status(n, i) for n, i in ephemeral]
    return {
        "metadata": {
            "name": name, "generateName": name.rsplit("-", 1)[0] + "-", "namespace": namespace,
            "uid": uid, "resourceVersion": "918001",
            "creationTimestamp": "2026-12-01T10:00:00Z",
            "labels": {"app": name.split("-")[0]},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                 "name": name.rsplit("-", 1)[0],
                                 "uid": "22a5a8be-7cee-42cd-a6c3-02b620f4ce88",
                                 "controller": True, "blockOwnerDeletion": True}],
            "managedFields": [{"manager": "kubelet", "operation": "Update", "apiVersion": "v1",
                               "time": "2026-12-01T10:00:03Z", "fieldsType": "FieldsV1",
                               "fieldsV1": {"f:status": {"f:conditions": {}}},
                               "subresource": "status"}]},
        "spec": {
            "containers": [{"name": n, "image": "busybox:1.36", "resources": {},
                            "terminationMessagePath": "/dev/termination-log",
                            "imagePullPolicy": "IfNotPresent"} for n, _ in containers],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst", "serviceAccountName": "default", "nodeName": node,
            "securityContext": {}, "schedulerName": "default-scheduler",
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                             "effect": "NoExecute", "tolerationSeconds": 300}],
            "priority": 0, "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority"},
        "status": st,
    }


def pod_list(pods):
    return {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "918273"},
            "items": list(pods)}


def status_body(code, reason, message):
    return json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {},
                       "status": "Failure", "message": message, "reason": reason,
                       "code": code}).encode()


class FakeApi:
    """The server, in a child process of its own (its TLS and its 50 MB bodies never hold
    the test's interpreter while the test measures the agent). Switch it through the
    attributes mode (good, slow, 401, 403, 500, truncated, huge, huge_stream), token and
    pods; requests lists what it was asked (path, authorization, mode)."""

    def __init__(self, d, token="test-token-1", node=NODE):
        self.dir = d
        make_ca_and_server_cert(d)
        self.ca = os.path.join(d, "ca.crt")
        self.node = node
        self.state_path = os.path.join(d, "state.json")
        self.log_path = os.path.join(d, "requests.log")
        self._state = {"mode": "good", "token": token, "pods": [], "node": node}
        self._write_state()
        open(self.log_path, "w").close()
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state_path, self.log_path))
        httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(d, "server.crt"), os.path.join(d, "server.key"))
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        self.port = httpd.server_address[1]
        self.url = "https://127.0.0.1:%d" % self.port
        self.pid = os.fork()
        if self.pid == 0:  # the child serves until killed, or until the test dies
            try:
                ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                httpd.serve_forever()
            finally:
                os._exit(0)
        httpd.server_close()

    def _write_state(self):
        with open(self.state_path + ".tmp", "w") as f:
            json.dump(self._state, f)
        os.rename(self.state_path + ".tmp", self.state_path)

    def __setattr__(self, name, value):
        if name in ("mode", "token", "pods"):
            self._state[name] = value
            self._write_state()
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        if name in ("mode", "token", "pods"):
            return self._state[name]
        raise AttributeError(name)

    @property
    def requests(self):
        with open(self.log_path) as f:
            return [tuple(json.loads(line)) for line in f if line.endswith("\n")]

    def token_file(self):
        path = os.path.join(self.dir, "token")
        with open(path + ".tmp", "w") as f:
            f.write(self.token + "\n")
        os.rename(path + ".tmp", path)  # as the kubelet swaps a projected token
        return path

    def agent_args(self, timeout="1s", resync="1s", url=None, ca=True, token_file=None):
        return ["--kubernetes.enable", "--kubernetes.api-url=" + (url or self.url)] + \
               (["--kubernetes.ca-file=" + self.ca] if ca else []) + [
                "--kubernetes.token-file=" + (token_file or self.token_file()),
                "--kubernetes.node-name=" + self.node, "--kubernetes.timeout=" + timeout,
                "--kubernetes.resync-interval=" + resync]

    def count(self, mode=None):
        return sum(1 for r in self.requests if mode is None or r[2] == mode)

    def stop(self):
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0


def _handler(state_path, log_path):
    huge_size = 50 * 1000 * 1000
    huge_head = b'{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":' \
                b'{"name":"x","namespace":"y","uid":"z","annotations":{"a":"'
    huge_tail = b'"}}}]}'
    cache = {}

    def send(h, code, body, length=True):
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        if length:
            h.send_header("Content-Length", str(len(body)))
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        try:
            h.wfile.write(body)  # one write: the copy and TLS run without the GIL
        except OSError:
            pass  # the agent hung up at its cap, as it should

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            h = self
            with open(state_path) as f:
                st = json.load(f)
            mode = st["mode"]
            with open(log_path, "a") as f:
                f.write(json.dumps([h.path, h.headers.get("Authorization"), mode]) + "\n")
            url = urllib.parse.urlsplit(h.path)
            query = urllib.parse.parse_qs(url.query)
            if mode == "slow":
                time.sleep(3600)  # never answers; the process is killed at the end
                return
            if h.headers.get("Authorization") != "Bearer " + st["token"] or mode == "401":
                send(h, 401, status_body(401, "Unauthorized", "Unauthorized"))
                return
            if url.path != "/api/v1/pods" or \
                    query.get("fieldSelector") != ["spec.nodeName=" + st["node"]]:
                send(h, 400, status_body(400, "BadRequest", "unexpected " + h.path))
                return
            if mode == "403":
                send(h, 403, status_body(
                    403, "Forbidden", 'pods is forbidden: User "system:serviceaccount:'
                    'toolwatch:toolwatch" cannot list resource "pods" in API group "" at '
                    'the cluster scope'))
            elif mode == "500":
                send(h, 500, status_body(500, "InternalError", "etcdserver: request timed out"))
            elif mode == "truncated":
                body = json.dumps(pod_list(st["pods"])).encode()
                send(h, 200, body[:len(body) * 2 // 3])
            elif mode in ("huge", "huge_stream"):
                # a valid PodList start, then 50 MB of one annotation value
                if "huge" not in cache:
                    cache["huge"] = huge_head + b"x" * (huge_size - len(huge_head)
                                                        - len(huge_tail)) + huge_tail
                send(h, 200, cache["huge"], length=mode == "huge")
            else:
                send(h, 200, json.dumps(pod_list(st["pods"])).encode())

    return Handler


def free_port_closed():
    """A loopback port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(fn, timeout=10.0, interval=0.05):
    """Calls fn until it returns a true value; returns it (or the last value at timeout)."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(interval)
