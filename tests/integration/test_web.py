# SPDX-License-Identifier: GPL-2.0
"""The HTTP side as an operator and an attacker see it: --web.config.file (TLS, client
certificates, bcrypt basic auth, headers, reload), gzip, several addresses, the telemetry
path, start-up errors, and slowloris/flood attacks while a real scrape must still succeed."""

import gzip
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import warnings

from lib import Agent, Metrics, Skip, free_port, http_get

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # libxcrypt's bcrypt, as the agent's crypt_r

CONFIG_DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                          "configuration.md")


def bcrypt(password):
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10))


def sh(*argv, cwd=None):
    subprocess.run(list(argv), check=True, cwd=cwd, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_pki(d):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all by openssl."""
    if not shutil.which("openssl"):
        raise Skip("openssl not installed (make deps)")
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
       "-subj", "/CN=toolwatch test CA", "-keyout", "ca.key", "-out", "ca.crt", cwd=d)
    server_cert(d, "server", "toolwatch test server")
    with open(os.path.join(d, "client.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\nsubjectAltName=DNS:prometheus.example\n")
    client_cert(d, "client")


def client_cert(d, stem):
    sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=prometheus",
       "-keyout", stem + ".key", "-out", stem + ".csr", cwd=d)
    sh("openssl", "x509", "-req", "-in", stem + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
       "-CAcreateserial", "-days", "2", "-extfile", "client.ext", "-out", stem + ".crt", cwd=d)


def server_cert(d, stem, cn):
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn,
       "-keyout", stem + ".key", "-out", stem + ".csr", cwd=d)
    sh("openssl", "x509", "-req", "-in", stem + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
       "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", stem + ".crt", cwd=d)


def served_subject(port):
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port],
                       input="", capture_output=True, text=True, timeout=10)
    m = re.search(r"subject=.*CN ?= ?([^\n,/]+)", p.stdout)
    return m.group(1).strip() if m else None


def curl(*args):
    """(exit code, http status or 0, headers+body text) of one curl call."""
    p = subprocess.run(["curl", "-s", "-i", "--max-time", "5", "-w", "\n%{http_code}"]
                       + list(args), capture_output=True, text=True, timeout=10)
    lines = p.stdout.rsplit("\n", 1)
    code = int(lines[-1]) if lines[-1].isdigit() else 0
    return p.returncode, code, lines[0]


class WebAgent(Agent):
    """An agent whose health is polled with curl (it may serve TLS with auth)."""

    def __init__(self, binary, args, curl_args=(), scheme="http"):
        super().__init__(binary, args)
        self.scheme = scheme
        self.curl_args = list(curl_args)

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def healthy(self):
        return curl(*(self.curl_args + [self.url + "/healthz"]))[1] == 200


def timed_get(port, path, source, timeout):
    """GET from a chosen loopback source address; (status, seconds)."""
    t0 = time.time()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                   source_address=(source, 0))
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        return r.status, time.time() - t0
    finally:
        c.close()


def documented_web_configs():
    with open(CONFIG_DOC) as f:
        text = f.read()
    return re.findall(r"<!-- web-config -->\n```yaml\n(.*?)```", text, re.S)


def register(r):
    @r.test
    def test_web_tls_basic_auth_client_certs_and_prometheus(ctx):
        d = tempfile.mkdtemp(prefix="twtls.")
        make_pki(d)
        web = os.path.join(d, "web.yml")
        with open(web, "w") as f:
            f.write("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                    "  client_auth_type: RequireAndVerifyClientCert\n"
                    "  client_ca_file: ca.crt\n"
                    "  client_allowed_sans: [prometheus.example]\n"
                    "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
                    "basic_auth_users:\n  prom: %s\n" % bcrypt("s3cret"))
        good = ["--cacert", d + "/ca.crt", "--cert", d + "/client.crt", "--key",
                d + "/client.key"]
        agent = WebAgent(ctx.binary, ["--web.config.file=" + web], good, "https")
        agent.start()
        url = agent.url + "/metrics"
        tmp = tempfile.mkdtemp(prefix="twprom.")
        prom = None
        try:
            rc, code, out = curl(*(good + [url]))
            assert code == 401 and "WWW-Authenticate: Basic" in out, (rc, code, out[:300])
            rc, code, _ = curl(*(good + ["-u", "prom:wrong", url]))
            assert code == 401, code
            rc, code, out = curl(*(good + ["-u", "prom:s3cret", url]))
            assert code == 200 and "toolwatch_build_info" in out, (code, out[:300])
            assert "X-Frame-Options: deny" in out, out[:400]
            # no client certificate where one is required: no HTTP answer at all; in TLS 1.2
            # the handshake itself fails (curl 35), in TLS 1.3 the client has finished its
            # side when the server refuses (curl 52, no reply)
            rc, code, _ = curl("--cacert", d + "/ca.crt", "-u", "prom:s3cret", url)
            assert rc != 0 and code == 0, (rc, code)
            rc, code, _ = curl("--tls-max", "1.2", "--cacert", d + "/ca.crt", "-u",
                               "prom:s3cret", url)
            assert rc == 35 and code == 0, (rc, code)
            # signed by the CA but for a name client_allowed_sans does not list: no answer
            with open(os.path.join(d, "client.ext"), "w") as f:
                f.write("extendedKeyUsage=clientAuth\nsubjectAltName=DNS:other.example\n")
            client_cert(d, "other")
            rc, code, _ = curl("--cacert", d + "/ca.crt", "--cert", d + "/other.crt", "--key",
                               d + "/other.key", "-u", "prom:s3cret", url)
            assert rc != 0 and code == 0, (rc, code)
            # a certificate the CA did not sign: refused in the handshake too
            sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
               "-subj", "/CN=rogue", "-keyout", "rogue.key", "-out", "rogue.crt", cwd=d)
            rc, code, _ = curl("--tls-max", "1.2", "--cacert", d + "/ca.crt", "--cert",
                               d + "/rogue.crt", "--key", d + "/rogue.key", "-u",
                               "prom:s3cret", url)
            assert rc == 35 and code == 0, (rc, code)
            # plain HTTP to the TLS port gets nothing either
            rc, code, _ = curl(url.replace("https", "http"))
            assert code != 200, code
            # a real Prometheus with basic_auth and tls_config: up == 1
            if not shutil.which("prometheus"):
                raise Skip("prometheus not installed (make deps)")
            port = free_port()
            cfg = os.path.join(tmp, "prometheus.yml")
            with open(cfg, "w") as f:
                f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                        "scrape_configs:\n  - job_name: toolwatch\n    scheme: https\n"
                        "    basic_auth:\n      username: prom\n      password: s3cret\n"
                        "    tls_config:\n      ca_file: %s/ca.crt\n"
                        "      cert_file: %s/client.crt\n      key_file: %s/client.key\n"
                        "    static_configs:\n      - targets: ['127.0.0.1:%d']\n"
                        % (d, d, d, agent.port))
            prom = subprocess.Popen(["prometheus", "--config.file=" + cfg,
                                     "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                                     "--web.listen-address=127.0.0.1:%d" % port],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            up = None
            deadline = time.time() + 60
            while time.time() < deadline and up != "1":
                time.sleep(1)
                try:
                    status, _, body = http_get("http://127.0.0.1:%d/api/v1/query?query=%s" % (
                        port, urllib.parse.quote('up{job="toolwatch"}')), timeout=3)
                except OSError:
                    continue
                res = json.loads(body)["data"]["result"] if status == 200 else []
                up = res[0]["value"][1] if res else None
            assert up == "1", "Prometheus up=%s over TLS with basic auth" % up
            # a certificate replaced on disk is served without a restart
            assert served_subject(agent.port) == "toolwatch test server"
            server_cert(d, "server2", "toolwatch rotated")
            os.rename(os.path.join(d, "server2.key"), os.path.join(d, "server.key"))
            os.rename(os.path.join(d, "server2.crt"), os.path.join(d, "server.crt"))
            deadline = time.time() + 10
            while served_subject(agent.port) != "toolwatch rotated" and time.time() < deadline:
                time.sleep(0.2)
            assert served_subject(agent.port) == "toolwatch rotated", agent.read_log()[-1000:]
            rc, code, _ = curl(*(good + ["-u", "prom:s3cret", url]))
            assert code == 200, code
            # a bad file on reload: logged, counted, the last good config stays
            with open(web, "a") as f:
                f.write("bogus_key: 1\n")
            deadline = time.time() + 10
            while "keeping the last good web config" not in agent.read_log() \
                    and time.time() < deadline:
                time.sleep(0.2)
            log = agent.read_log()
            assert "bogus_key" in log and web in log, log[-1000:]
            rc, code, out = curl(*(good + ["-u", "prom:s3cret", url]))
            assert code == 200, code
            m = Metrics(out.split("\n\n", 1)[1])
            assert m.get("toolwatch_web_config_reload_failures_total") == 1, out[-800:]
            assert m.get("toolwatch_web_config_reloads_total") >= 1
        finally:
            if prom:
                prom.terminate()
                prom.wait(timeout=30)
            assert agent.stop() == 0
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(d, ignore_errors=True)

    @r.test
    def test_web_bad_config_at_start_is_one_line_exit_2(ctx):
        d = tempfile.mkdtemp(prefix="twweb.")
        try:
            cases = [("tls_server_config:\n  cert_file: a.crt\n", "tls_server_config.key_file"),
                     ("basic_auth_users:\n  alice: plain\n", "basic_auth_users.alice"),
                     ("tls_server_config:\n  cert_file: no.crt\n  key_file: no.key\n",
                      "tls_server_config.cert_file"),
                     ("a: [\n", "YAML error")]
            for text, key in cases:
                web = os.path.join(d, "web.yml")
                with open(web, "w") as f:
                    f.write(text)
                p = subprocess.run([ctx.binary, "--web.config.file=" + web,
                                    "--web.listen-address=127.0.0.1:%d" % free_port()],
                                   capture_output=True, text=True, timeout=20)
                assert p.returncode == 2, (text, p.returncode, p.stderr)
                lines = p.stderr.strip().splitlines()
                assert len(lines) == 1, (text, p.stderr)
                assert web in lines[0] and key in lines[0], (text, lines)
            p = subprocess.run([ctx.binary, "--web.config.file=" + d + "/missing.yml",
                                "--web.listen-address=127.0.0.1:%d" % free_port()],
                               capture_output=True, text=True, timeout=20)
            assert p.returncode == 2 and "missing.yml" in p.stderr, p.stderr
        finally:
            shutil.rmtree(d, ignore_errors=True)

    @r.test
    def test_web_promtool_accepts_every_documented_example(ctx):
        if not shutil.which("promtool"):
            raise Skip("promtool not installed (make deps)")
        examples = documented_web_configs()
        assert len(examples) >= 2, "no <!-- web-config --> examples in docs/configuration.md"
        d = tempfile.mkdtemp(prefix="twweb.")
        try:
            make_pki(d)
            for i, text in enumerate(examples):
                web = os.path.join(d, "example%d.yml" % i)
                with open(web, "w") as f:
                    # the examples' file names, made to exist here
                    f.write(text.replace("/etc/toolwatch/", d + "/"))
                for name in ("server.crt", "server.key", "ca.crt"):
                    assert os.path.exists(os.path.join(d, name))
                p = subprocess.run(["promtool", "check", "web-config", web],
                                   capture_output=True, text=True, timeout=30)
                assert p.returncode == 0, (text, p.stdout, p.stderr)
                # and toolwatch reads it too: the config is read before binding, so a taken
                # port is the next (and only) complaint
                held = socket.socket()
                held.bind(("127.0.0.1", 0))
                held.listen(1)
                p = subprocess.run([ctx.binary, "--web.config.file=" + web,
                                    "--web.listen-address=127.0.0.1:%d" % held.getsockname()[1]],
                                   capture_output=True, text=True, timeout=20)
                held.close()
                assert p.returncode == 1 and "cannot listen" in p.stderr, (text, p.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    @r.test
    def test_web_gzip_body_decompresses_to_the_plain_body(ctx):
        agent = Agent(ctx.binary, ["--web.disable-exporter-metrics"]).start()
        try:
            def shape(text):  # every line without its value: series and their order
                return [ln.rsplit(" ", 1)[0] if not ln.startswith("#") else ln
                        for ln in text.splitlines()]

            req = urllib.request.Request(agent.url + "/metrics",
                                         headers={"Accept-Encoding": "gzip"})
            # counters move between two scrapes on a busy host: compare a gzip scrape
            # taken between two plain ones with the same series, line by line
            for _ in range(20):
                status, h, body = http_get(agent.url + "/metrics")
                assert status == 200 and "Content-Encoding" not in h
                with urllib.request.urlopen(req, timeout=5) as resp:
                    assert resp.headers["Content-Encoding"] == "gzip"
                    assert resp.headers["Vary"] == "Accept-Encoding"
                    raw = resp.read()
                after = http_get(agent.url + "/metrics")[2].decode()
                if shape(body.decode()) == shape(after):
                    break
            text = gzip.decompress(raw).decode()
            plain = Metrics(body.decode())
            Metrics(text)  # parses
            assert len(raw) * 4 < len(text), (len(raw), len(text))
            assert shape(text) == shape(body.decode())
            assert text.endswith("\n") and text.count("\n") == body.decode().count("\n")
            assert not any(k[0].startswith("process_") for k in plain.samples)
            req = urllib.request.Request(agent.url + "/metrics",
                                         headers={"Accept-Encoding": "gzip;q=0"})
            with urllib.request.urlopen(req, timeout=5) as resp:
                assert resp.headers["Content-Encoding"] is None
        finally:
            assert agent.stop() == 0

    @r.test
    def test_web_self_metrics_addresses_and_telemetry_path(ctx):
        second = free_port()
        agent = Agent(ctx.binary, ["--web.listen-address=127.0.0.1:%d" % second,
                                   "--web.telemetry-path=/m"]).start()
        try:
            for port in (agent.port, second):
                status, _, body = http_get("http://127.0.0.1:%d/m" % port)
                assert status == 200, (port, status)
                m = Metrics(body.decode())
                assert m.get("process_open_fds") > 3
                assert m.get("process_resident_memory_bytes") > 1e6
                assert m.get("process_max_fds") >= m.get("process_open_fds")
                assert abs(m.get("process_start_time_seconds") - time.time()) < 120
                assert "process_cpu_seconds_total" in body.decode()
                assert any(k[0] == "toolwatch_build_info" and ("libbpf", k[1]) for k in
                           m.samples)
                labels = dict(next(k[1] for k in m.samples if k[0] == "toolwatch_build_info"))
                assert set(labels) == {"version", "revision", "branch", "compiler", "libbpf"}
            assert http_get(agent.url + "/metrics")[0] == 404
            assert b'href="/m"' in http_get(agent.url + "/")[2]
        finally:
            assert agent.stop() == 0

    @r.test
    def test_web_start_errors_are_one_line_and_attach_nothing(ctx):
        held = socket.socket()
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        try:
            t0 = time.time()
            p = subprocess.run([ctx.binary, "--web.listen-address=127.0.0.1:%d" % port,
                                "--log.level=debug"], capture_output=True, text=True, timeout=30)
            took = time.time() - t0
            assert p.returncode == 1, (p.returncode, p.stderr)
            lines = p.stderr.strip().splitlines()
            # bound before loading: nothing loaded, attached or even tried
            assert len(lines) == 1 and "cannot listen on '127.0.0.1:%d'" % port in lines[0], \
                p.stderr
            assert took < 2, took
        finally:
            held.close()
        p = subprocess.run([ctx.binary, "--web.listen-address=:0"], capture_output=True,
                           text=True, timeout=10)
        assert p.returncode == 2 and "port 0" in p.stderr, p.stderr
        p = subprocess.run([ctx.binary, "--web.listen-address=no-such-host.invalid:%d"
                            % free_port()], capture_output=True, text=True, timeout=30)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 1 and len(lines) == 1, p.stderr
        assert "cannot resolve host 'no-such-host.invalid'" in lines[0], lines

    @r.test
    def test_web_slowloris_and_flood_do_not_stop_a_scrape(ctx):
        agent = Agent(ctx.binary, ["--web.read-header-timeout=2s"]).start()
        stop = threading.Event()
        socks = []

        def dribble(source, count):
            mine = []
            for _ in range(count):
                try:
                    s = socket.create_connection(("127.0.0.1", agent.port), timeout=2,
                                                 source_address=(source, 0))
                    s.sendall(b"GET /metrics HTTP/1.1\r\n")
                    mine.append(s)
                except OSError:
                    pass
            socks.extend(mine)
            while not stop.is_set():
                for s in list(mine):
                    try:
                        s.sendall(b"X")  # one byte: must not extend the header deadline
                    except OSError:
                        mine.remove(s)
                        try:  # reconnect: keep the pressure on
                            s2 = socket.create_connection(("127.0.0.1", agent.port),
                                                          timeout=2, source_address=(source, 0))
                            mine.append(s2)
                            socks.append(s2)
                        except OSError:
                            pass
                stop.wait(0.2)

        def flood(source, count):
            for _ in range(count):
                try:
                    s = socket.create_connection(("127.0.0.1", agent.port), timeout=2,
                                                 source_address=(source, 0))
                    socks.append(s)
                except OSError:
                    pass

        threads = [threading.Thread(target=dribble, args=("127.0.0.1", 300)),
                   threading.Thread(target=flood, args=("127.0.0.3", 2000))]
        try:
            for t in threads:
                t.start()
            time.sleep(2)
            worst = 0
            for i in range(10):
                status, took = timed_get(agent.port, "/metrics", "127.0.0.2", 5)
                assert status == 200, status
                worst = max(worst, took)
                status, took = timed_get(agent.port, "/healthz", "127.0.0.2", 5)
                assert status == 200, status
                worst = max(worst, took)
                time.sleep(0.3)
            assert worst < 1.0, "a scrape took %.2fs under attack" % worst
            # dribbled connections were cut at the header deadline, and counted
            c = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=5,
                                           source_address=("127.0.0.2", 0))
            c.request("GET", "/metrics")
            m = Metrics(c.getresponse().read().decode())
            c.close()
            assert m.get("toolwatch_http_header_timeouts_total") >= 16, \
                m.get("toolwatch_http_header_timeouts_total")
        finally:
            stop.set()
            for t in threads:
                t.join()
            for s in socks:
                s.close()
            assert agent.stop() == 0

    @r.test
    def test_trace_short_flags_like_execsnoop(ctx):
        p = subprocess.run([ctx.binary, "trace", "-V"], capture_output=True, text=True,
                           timeout=10)
        assert p.returncode == 0 and p.stdout.startswith("toolwatch trace "), p
        p = subprocess.run([ctx.binary, "trace", "-h"], capture_output=True, text=True,
                           timeout=10)
        assert p.returncode == 0 and "EXAMPLES" in p.stdout and "-x, --failed" in p.stdout
        ok_tool = ctx.work.tool("tw_exit")
        bad_tool = ctx.work.tool("tw_exit")
        # process N: its own execs; -x keeps only the failures; -t counts seconds
        target = subprocess.Popen(["/bin/sh", "-c", "sleep 2; %s 0 0; exec %s 7 0"
                                   % (ok_tool, bad_tool)])
        p = subprocess.run([ctx.binary, "trace", "-p", str(target.pid), "-x", "-t",
                            "--duration", "5s"], capture_output=True, text=True, timeout=30)
        target.wait()
        lines = p.stdout.splitlines()
        assert p.returncode == 0, p.stderr
        assert lines[0].startswith("TIME(s)"), lines
        rows = [ln.split() for ln in lines[1:]]
        assert len(rows) == 1 and rows[0][1].startswith("tw_exit"), p.stdout
        assert rows[0][2] == str(target.pid), p.stdout
        assert float(rows[0][0]) < 10 and "exit 7" in lines[1], lines

    @r.test
    def test_web_tls_handshake_flood_does_not_stop_a_scrape(ctx):
        d = tempfile.mkdtemp(prefix="twtls.")
        make_pki(d)
        web = os.path.join(d, "web.yml")
        with open(web, "w") as f:
            f.write("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                    "  max_version: TLS12\n"
                    "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]\n")
        ca = ["--cacert", d + "/ca.crt"]
        agent = WebAgent(ctx.binary, ["--web.config.file=" + web,
                                      "--web.read-header-timeout=2s"], ca, "https").start()
        socks = []
        try:
            # the version and suite the config names are the ones negotiated
            s = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % agent.port],
                               input="", capture_output=True, text=True, timeout=10).stdout
            assert "Cipher is ECDHE-RSA-AES128-SHA\n" in s and "TLSv1.2" in s, s[-1500:]
            # connections that never send a ClientHello, from two addresses
            for source, n in (("127.0.0.1", 200), ("127.0.0.3", 500)):
                for _ in range(n):
                    try:
                        socks.append(socket.create_connection(
                            ("127.0.0.1", agent.port), timeout=2, source_address=(source, 0)))
                    except OSError:
                        pass
            time.sleep(0.5)
            worst = 0
            for _ in range(5):
                t0 = time.time()
                rc, code, _ = curl(*(ca + ["--interface", "127.0.0.2", agent.url + "/metrics"]))
                worst = max(worst, time.time() - t0)
                assert code == 200, (rc, code)
            assert worst < 1.0, "a TLS scrape took %.2fs under a handshake flood" % worst
            # the silent handshakes were cut at the deadline
            time.sleep(2.5)
            rc, code, out = curl(*(ca + ["--interface", "127.0.0.2", agent.url + "/metrics"]))
            m = Metrics(out.split("\n\n", 1)[1])
            assert m.get("toolwatch_http_header_timeouts_total") >= 32, out[-600:]
        finally:
            for s in socks:
                s.close()
            assert agent.stop() == 0
            shutil.rmtree(d, ignore_errors=True)

    @r.test
    def test_web_basic_auth_without_tls_and_sighup_reload(ctx):
        d = tempfile.mkdtemp(prefix="twweb.")
        web = os.path.join(d, "web.yml")
        with open(web, "w") as f:
            f.write("basic_auth_users:\n  alice: %s\n" % bcrypt("one"))
        agent = WebAgent(ctx.binary, ["--web.config.file=" + web]).start()
        try:
            url = agent.url + "/metrics"
            assert curl(url)[1] == 401
            assert curl("-u", "alice:one", url)[1] == 200
            # /healthz asks for no credentials: a kubelet probe has none
            assert curl(agent.url + "/healthz")[1] == 200
            # the same mtime and size: only SIGHUP makes the agent read it again
            st = os.stat(web)
            with open(web, "w") as f:
                f.write("basic_auth_users:\n  alice: %s\n" % bcrypt("two"))
            os.utime(web, ns=(st.st_atime_ns, st.st_mtime_ns))
            agent.proc.send_signal(__import__("signal").SIGHUP)
            deadline = time.time() + 5
            while curl("-u", "alice:two", url)[1] != 200 and time.time() < deadline:
                time.sleep(0.1)
            assert curl("-u", "alice:two", url)[1] == 200, agent.read_log()[-800:]
            assert curl("-u", "alice:one", url)[1] == 401
            assert "web config '%s' loaded" % web in agent.read_log()
        finally:
            assert agent.stop() == 0
            shutil.rmtree(d, ignore_errors=True)
