"""The nginx site of docs/deploy.md, run by Debian's nginx in front of a real hall server.

The site is read from the doc's ``nginx`` block (one source: what an installer copies is
what runs here), with the doc's ports, certificate, log and package paths replaced by
the test's; nginx itself runs from a temporary prefix on free loopback ports, so no root
and no system configuration are needed. Through it: TLS, the redirect from HTTP, static
files served by nginx, forwarded headers believed exactly as far as they should be, and
screens on a websocket and on long-polling receiving a clerk's call — in each async mode
(gunicorn's gthread and gevent workers, eventlet's own server), behind one nginx.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio
from sqlalchemy import select

from hall_ops.db import Database
from hall_ops.queue.models import Ticket, TicketEvent
from tests.support.server import ROOT, HallServer, free_port, site_config
from tests.support.services import service_missing
from tests.support.web import HallSession

DOC = ROOT / "docs" / "deploy.md"
PACKAGE_STATIC = ROOT / "hall_web" / "static"
WORKERS = {"threading": "gthread", "gevent": "gevent"}  # gunicorn's; eventlet runs its own


def documented_site() -> str:
    blocks = re.findall(r"```nginx\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "docs/deploy.md must hold exactly one nginx block"
    return blocks[0]


def site_for_test(replacements: dict[str, str]) -> str:
    site = documented_site()
    for documented, here in replacements.items():
        assert documented in site, f"docs/deploy.md's nginx site no longer has {documented!r}"
        site = site.replace(documented, here)
    return site


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK)
                                      else None)
    if found is None:
        service_missing("nginx is not installed (./hall test installs Debian's nginx)")
    return found


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}:\n{log.read_text()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on {port}:\n{log.read_text()}")


class Proxy:
    def __init__(self, prefix: Path, http_port: int, https_port: int) -> None:
        self.prefix = prefix
        self.cert = str(prefix / "cert.pem")
        """The test's self-signed certificate, which HTTPS requests check the site against."""
        self.http = f"http://127.0.0.1:{http_port}"
        self.https = f"https://127.0.0.1:{https_port}"
        self.access_log = prefix / "hall.access.log"

    def session(self) -> requests.Session:
        """HTTPS that checks the site's certificate against the test's own, and only it
        (``trust_env`` off: REQUESTS_CA_BUNDLE would otherwise replace it)."""
        session = requests.Session()
        session.trust_env = False
        session.verify = self.cert
        return session


class Nginx:
    """Debian's nginx running the documented site, for one hall port (the site's upstream)."""

    def __init__(self, nginx: str, prefix: Path) -> None:
        self.nginx, self.prefix = nginx, prefix
        self.hall_port, self.http_port, self.https_port = free_port(), free_port(), free_port()
        self.proxy = Proxy(prefix, self.http_port, self.https_port)
        self.error_log = prefix / "error.log"
        self.process: subprocess.Popen[bytes] | None = None

    def configure(self) -> None:
        cert, key = self.prefix / "cert.pem", self.prefix / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=hall.example.gov.cn", "-keyout", str(key), "-out",
                        str(cert), "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:hall.example.gov.cn"],
                       check=True, capture_output=True, timeout=60)
        site = site_for_test({
            "server 127.0.0.1:5000;": f"server 127.0.0.1:{self.hall_port};",
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "listen 443 ssl;": f"listen 127.0.0.1:{self.https_port} ssl;",
            "/etc/ssl/hall/fullchain.pem": str(cert),
            "/etc/ssl/hall/privkey.pem": str(key),
            "/var/log/nginx/hall.access.log": str(self.proxy.access_log),
            "/srv/hall/venv/lib/python3.11/site-packages/hall_web/static/": f"{PACKAGE_STATIC}/",
        })
        prefix = self.prefix
        (prefix / "hall.conf").write_text(site)
        # The test's own main file: everything nginx writes stays under the prefix. As root,
        # the workers keep root's rights to read the pytest folder (0700); as anyone else,
        # nginx ignores "user" and runs as that user.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        temp_paths = "".join(f"    {kind}_temp_path {prefix / kind};\n"
                             for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (prefix / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\n"
            f"error_log {self.error_log} info;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            "    include /etc/nginx/mime.types;\n"
            "    default_type application/octet-stream;\n"
            f"    access_log {prefix / 'other.access.log'};\n"
            f"{temp_paths}"
            f"    include {prefix / 'hall.conf'};\n"
            "}\n")
        check = subprocess.run(self._command("-t"), capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr

    def _command(self, *flags: str) -> list[str]:
        return [self.nginx, *flags, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"),
                "-e", str(self.error_log)]

    def start(self) -> None:
        self.process = subprocess.Popen(self._command(), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT, process_group=0)
        _wait_for_port(self.https_port, self.process, self.error_log)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()  # nginx: fast shutdown of the master and its worker
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """One nginx (and certificate) for the module; each async mode's hall takes its place
    behind it in turn, on the same upstream port."""
    binary = _nginx()
    if shutil.which("openssl") is None:
        service_missing("openssl is not installed (needed for the test certificate)")
    running = Nginx(binary, tmp_path_factory.mktemp("nginx"))
    running.configure()
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(params=["threading", "gevent", "eventlet"])
def hall_behind_nginx(
    request: pytest.FixtureRequest, nginx: Nginx, tmp_path: Path
) -> Iterator[tuple[HallServer, Proxy]]:
    """A hall in the given async mode (gunicorn's gthread and gevent workers, eventlet's
    server) behind the module's nginx."""
    config = site_config(tmp_path, trusted_proxies=1)
    with HallServer(tmp_path, "--async-mode", request.param, config=config,
                    port=nginx.hall_port) as hall:
        assert f"({request.param}, sqlite)" in hall.log()
        worker = WORKERS.get(request.param)
        assert worker is None or f"Using worker: {worker}" in hall.log()
        yield hall, nginx.proxy


def test_screens_get_a_call_through_nginx(hall_behind_nginx: tuple[HallServer, Proxy]) -> None:
    hall, proxy = hall_behind_nginx
    web = proxy.session()

    redirect = requests.get(f"{proxy.http}/kiosk", allow_redirects=False, timeout=10)
    assert redirect.status_code == 301
    assert redirect.headers["Location"] == "https://127.0.0.1/kiosk"

    # Static files come from nginx (no request id: the hall never saw the request).
    asset = web.get(f"{proxy.https}/static/vendor/socket.io.min.js", timeout=10)
    assert asset.status_code == 200
    assert asset.content == (PACKAGE_STATIC / "vendor" / "socket.io.min.js").read_bytes()
    assert asset.headers["Cache-Control"] == "no-cache"
    assert "X-Request-ID" not in asset.headers
    assert web.get(f"{proxy.https}/metrics", timeout=10).status_code == 403
    ready = web.get(f"{proxy.https}/readyz", timeout=10)
    assert ready.json()["status"] == "ready"

    screens, calls = [], []
    for room, transport in (("zone:front_intake", "websocket"), ("hall", "polling")):
        client = socketio.Client(reconnection=False, http_session=proxy.session())
        got_snapshot, got_call = threading.Event(), threading.Event()
        client.on("snapshot", lambda _data, ev=got_snapshot: ev.set())
        client.on("call", lambda data, ev=got_call, seen=calls: (seen.append(data), ev.set()))
        client.connect(proxy.https, transports=[transport], wait_timeout=20)
        assert client.transport() == transport
        assert client.call("join", {"room": room}, timeout=20) == {"ok": True, "room": room}
        assert got_snapshot.wait(20)
        screens.append((client, got_call))
    try:
        # A kiosk behind nginx, with a forged X-Forwarded-For in front of nginx's own entry.
        ticket = web.post(f"{proxy.https}/api/v1/tickets", json={"service": "enterprise"},
                          headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
        assert ticket.status_code == 201, ticket.text
        assert ticket.json()["status_url"].startswith(f"{proxy.https}/t/")
        request_id = ticket.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id

        clerk = HallSession(proxy.https)  # sends the CSRF token, as the clerk's page does
        clerk.trust_env, clerk.verify = False, proxy.cert
        clerk.headers["Referer"] = f"{proxy.https}/clerk"  # checked over HTTPS
        assert clerk.post(f"{proxy.https}/api/v1/windows/4/login",
                          json={"clerk": "c01", "pin": "1234"}, timeout=10).status_code == 200
        called = clerk.post(f"{proxy.https}/api/v1/windows/4/call-next", timeout=10)
        assert called.status_code == 200, called.text
        for _client, got_call in screens:
            assert got_call.wait(20), hall.log()
        assert [(c["ticket"], c["window"]) for c in calls] == [("B001", 4), ("B001", 4)]
    finally:
        for client, _ in screens:
            client.disconnect()

    # nginx's access log names the same request id the hall answered with.
    assert f"rid={request_id}" in proxy.access_log.read_text()
    # The audit trail has the address nginx saw (loopback), not the forged one.
    db = Database(hall.database_url)
    try:
        with db.read() as session:
            taken = session.scalars(select(TicketEvent).join(Ticket)
                                    .where(Ticket.number == "B001", TicketEvent.kind == "taken"))
            origin = taken.one().origin
    finally:
        db.dispose()
    assert origin is not None and origin.startswith("127.0.0.1")
    assert "203.0.113.9" not in origin
