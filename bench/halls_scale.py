"""Many halls' screens over several processes behind one address, and one process killed.

A deployment of ``--halls`` halls (each the demo hall; a PostgreSQL schema and a Redis
channel each) is served by P processes (``python -m hall_web serve --deployment``,
gunicorn's ``gthread`` worker, websocket transport) behind one nginx whose upstream is
the documented one (docs/deploy.md: ``ip_hash``, one line per process). Every screen
connects from **its own loopback address** (127.a.b.1, a /24 of its own, since
``ip_hash`` hashes the first three octets), so nginx spreads the screens over the
processes as it spreads a real hall's screens, with the documented configuration
unchanged. ``--direct`` skips nginx: screen i connects to process i mod P.

Each hall has ``--screens`` screens (joined to the ``hall`` room) and a clerk at window 4
(from an address of its own too) who, for ``--seconds``, calls the next ticket, starts
and finishes it, and waits ``--think`` seconds: a closed loop per hall, all halls at
once. Per call the time from sending call-next to the ``call`` event at the **last**
screen of its hall. With ``--kill``, one process is killed (SIGKILL, master and worker)
halfway through: its screens reconnect after 0.5–1.5 s (python-socketio's default
back-off) through nginx to another process, join again and get the snapshot, whose
recent calls must include every call they missed.

Afterwards the calls are read from the database (so a call whose answer the kill cut off
counts too) and checked screen by screen: **lost** = a call that one of its hall's
screens neither received nor found in a snapshot after reconnecting (must be 0);
**foreign** = a call received by a screen of another hall (must be 0); **resynced** = a
(call, screen) pair that arrived only through the snapshot. Latency figures cover the
calls every screen of the hall received live.

The load generator shares the machine's cores with the servers, nginx, PostgreSQL and
Redis: the screens speak Socket.IO by hand (``screens_latency.py --client raw``'s
technique: aiohttp websockets, only ``call`` packets decoded) in ``--client-procs``
processes, the clerks are threads of the main process; the load average and the client
processes' CPU time are printed with the figures.

    .venv/bin/python bench/halls_scale.py                                  # quick
    .venv/bin/python bench/halls_scale.py --halls 20 --screens 50 --procs 1 2 4 --kill \\
        --seconds 60 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import ROOT, percentile

sys.path.insert(0, str(ROOT))
from sqlalchemy import create_engine, select, text

from hall_ops import queue
from hall_ops.clock import iso_utc, system_clock
from hall_ops.config import load_config
from hall_ops.db import Database
from hall_ops.queue.models import Ticket, TicketEvent
from tests.support.server import HallServer, free_port
from tests.support.web import HallSession

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/0"
WINDOW, CLERK, SERVICE = 4, "c01", "enterprise"
WAIT = 60.0
BACKOFF = (0.5, 1.5)
"""Seconds before a screen reconnects: python-socketio's default delay 1 s ± 50 %."""


@dataclass(frozen=True)
class Hall:
    code: str
    database_url: str

    @property
    def prefix(self) -> str:
        """The hall's path under the deployment's address."""
        return f"/h/{self.code}"

    def database(self) -> Database:
        return Database(self.database_url, schema=f"hall_{self.code}")


def screen_address(index: int) -> str:
    """A loopback address whose first three octets (what ``ip_hash`` hashes) are its own."""
    return f"127.{1 + index // 250}.{index % 250}.1"


def clerk_address(hall: int) -> str:
    return f"127.250.{hall}.1"


# ---------------------------------------------------------------- deployment under test


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"hall_scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_deployment(workdir: Path, halls: int, connections: int) -> tuple[Path, list[str]]:
    """A deployment of ``halls`` halls, each the demo hall of config.toml, under one city,
    on a Redis channel of this run's own (other runs on the same Redis — tests, other
    benchmarks — publish on theirs); and the halls' codes. ``connections``: ``[server]
    connections``, in threading mode the threads of a process, one per open websocket —
    with fewer than its screens, a process has no thread left for the clerks' requests."""
    hall = (ROOT / "config.toml").read_text(encoding="utf-8")
    catalogue = 'path = "data/catalogue"'
    assert catalogue in hall
    hall = hall.replace(catalogue, f"path = {json.dumps(str(ROOT / 'data' / 'catalogue'))}")
    (workdir / "hall.toml").write_text(hall, encoding="utf-8")
    codes = [f"h{i:02d}" for i in range(halls)]
    path = workdir / "deployment.toml"
    path.write_text(
        '[deployment]\nname_zh = "基准"\nname_en = "Bench"\ndemo = true\n'
        f'message_queue_channel = "bench{uuid.uuid4().hex[:8]}"\n\n'
        f"[server]\nconnections = {connections}\n\n"
        '[[halls]]\ncode = "city"\nname_zh = "市"\nname_en = "City"\nlevel = "city"\n\n'
        + "".join(f'[[halls]]\ncode = "{c}"\nname_zh = "大厅{c}"\nname_en = "Hall {c}"\n'
                  f'level = "district"\nparent = "city"\nconfig = "hall.toml"\n\n'
                  for c in codes), encoding="utf-8")
    return path, codes


def seed_tickets(hall: Hall, count: int) -> None:
    """Tickets waiting for window 4 before the run, issued by the domain function (the
    kiosk's path is measured by ticket_rate.py; here only calls are)."""
    config = load_config(ROOT / "config.toml")
    db = hall.database()
    try:
        with db.write(origin="bench") as s:
            for _ in range(count):
                queue.take_ticket(s, config, SERVICE, system_clock(), ignore_hours=True)
    finally:
        db.dispose()


NGINX_SITE = """\
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
{temp_paths}
    upstream hall {{
        ip_hash;
{servers}
    }}
    map $http_upgrade $hall_connection {{
        default upgrade;
        ''      "";
    }}
    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Upgrade    $http_upgrade;
        proxy_set_header Connection $hall_connection;
        proxy_set_header Host       $http_host;
        location / {{
            proxy_pass http://hall;
            proxy_buffering off;
            proxy_read_timeout 1h;
        }}
    }}
}}
"""


@contextmanager
def nginx(ports: list[int], workdir: Path) -> Iterator[str]:
    """nginx on a free loopback port with the documented upstream (``ip_hash``) over
    ``ports``; plain HTTP (TLS is test_deploy_nginx's subject, not this one's)."""
    if shutil.which("nginx") is None:
        raise SystemExit("halls_scale: nginx is not installed (./hall test installs Debian's "
                         "nginx), or run with --direct")
    prefix = workdir / "nginx"
    prefix.mkdir()
    port = free_port()
    temp_paths = "".join(f"    {k}_temp_path {prefix / k};\n"
                         for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_SITE.format(
        prefix=prefix, port=port, temp_paths=temp_paths,
        servers="\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;"
                          for p in ports)))
    user = ["-g", "user root root;"] if os.geteuid() == 0 else []
    process = subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(conf), *user],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               process_group=0)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/api/v1/hall", timeout=2)
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start: "
                                       + (prefix / "error.log").read_text()) from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


# ---------------------------------------------------------------- screens (own processes)


@dataclass
class ScreenLog:
    hall: int
    index: int
    calls: list[tuple[int, str, str, bool, float]] = field(default_factory=list)
    """(seq, at, ticket, recall, arrival) of every live ``call``."""
    snapshots: list[tuple[float, list[tuple[int, str]]]] = field(default_factory=list)
    """(arrival, [(seq, at) …]) of every snapshot after a reconnect."""
    outages: list[tuple[float, float]] = field(default_factory=list)
    """(connection lost, joined again)."""


async def run_screen(log: ScreenLog, urls: list[str], prefix: str, stop: asyncio.Event,
                     ready: asyncio.Event) -> None:
    import aiohttp

    def record(data: str) -> None:
        if data.startswith('42["call"'):
            arrived = time.monotonic()
            call = json.loads(data[2:])[1]
            log.calls.append((call["seq"], call["at"], call["ticket"], call["recall"], arrived))

    connector = aiohttp.TCPConnector(local_addr=(screen_address(log.index), 0), limit=1)
    attempt = 0
    async with aiohttp.ClientSession(connector=connector) as session:
        while not stop.is_set():
            url = urls[(log.index + attempt) % len(urls)]
            ws_url = (url.replace("http://", "ws://") + prefix
                      + "/socket.io/?EIO=4&transport=websocket")
            try:
                ws = await session.ws_connect(ws_url, autoping=True)
                await ws.send_str("40")
                while not (msg := await ws.receive_str(timeout=WAIT)).startswith("40"):
                    pass
                await ws.send_str('42["join",{"room":"hall"}]')
                # A call pushed between joining the room and the snapshot comes first.
                while not (msg := await ws.receive_str(timeout=WAIT)).startswith('42["snapshot"'):
                    record(msg)
            except (TimeoutError, aiohttp.ClientError, TypeError):
                attempt += 1
                await asyncio.sleep(random.uniform(*BACKOFF))
                continue
            joined = time.monotonic()
            if log.outages:
                log.outages[-1] = (log.outages[-1][0], joined)
                calls = json.loads(msg[2:])[1]["calls"]
                log.snapshots.append((joined, [(c["seq"], c["at"]) for c in calls]))
            ready.set()
            async for frame in ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                if frame.data == "2":  # Engine.IO ping
                    await ws.send_str("3")
                else:
                    record(frame.data)
            if stop.is_set():
                await ws.close()
                return
            log.outages.append((time.monotonic(), float("nan")))
            attempt += 1
            await asyncio.sleep(random.uniform(*BACKOFF))


def screen_worker(screens: list[tuple[int, int, str]], urls: list[str], commands: mp.Queue,
                  results: mp.Queue) -> None:
    """Run ``screens`` ((hall, index, prefix) …) until told to stop; report their logs."""

    async def main() -> None:
        stop = asyncio.Event()
        logs = [ScreenLog(h, i) for h, i, _ in screens]
        readies = [asyncio.Event() for _ in screens]
        tasks = []
        started = time.monotonic()
        for first in range(0, len(screens), 50):
            batch = range(first, min(first + 50, len(screens)))
            tasks += [asyncio.create_task(run_screen(logs[k], urls, screens[k][2], stop,
                                                     readies[k])) for k in batch]
            await asyncio.wait_for(asyncio.gather(*(readies[k].wait() for k in batch)), WAIT)
        results.put(("ready", time.monotonic() - started))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, commands.get)
        stop.set()
        await asyncio.sleep(2)  # calls still on their way
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        results.put(("logs", logs, time.process_time()))

    asyncio.run(main())


# ---------------------------------------------------------------- clerks (threads)


class BoundAdapter(HTTPAdapter):
    """Requests from one loopback address, so ``ip_hash`` sends each hall's clerk to a
    process of its own choosing, as clerks at different desks would be."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


@dataclass
class ClerkLog:
    calls: list[tuple[int, str, float]] = field(default_factory=list)
    """(seq, at, t0) of every call the clerk was answered."""
    failed: list[str] = field(default_factory=list)
    """Requests that failed (a process killed under them), by action; the clerk then
    looks at the window, as the console shows it, and goes on from there."""


def clerk_loop(hall_index: int, base: str, seconds: float, think: float,
               start: threading.Barrier, log: ClerkLog) -> None:
    session = HallSession(base)
    adapter = BoundAdapter(clerk_address(hall_index))
    session.mount("http://", adapter)
    api = f"{base}/api/v1/windows/{WINDOW}"
    login = session.post(f"{api}/login", json={"clerk": CLERK, "pin": "1234"}, timeout=WAIT)
    login.raise_for_status()
    start.wait()
    end = time.monotonic() + seconds

    def post(action: str) -> requests.Response | None:
        try:
            reply = session.post(f"{api}/{action}", timeout=WAIT)
        except requests.RequestException:
            reply = None
        if reply is None or reply.status_code >= 500:
            log.failed.append(action)
            return None
        reply.raise_for_status()
        return reply

    while time.monotonic() < end:
        t0 = time.monotonic()
        reply = post("call-next")
        if reply is not None:
            call = reply.json()["call"]
            if call is None:
                raise RuntimeError(f"hall {hall_index}: no tickets left; seed more")
            log.calls.append((call["seq"], call["at"], t0))
        else:  # the answer was lost: the console shows the window as it is
            state = session.get(api, timeout=WAIT).json()["state"]
            if state == "idle":
                continue
            if state == "calling":  # called, but nobody may have heard it: call again
                post("recall")
        for action in ("start", "finish"):
            if post(action) is None:
                state = session.get(api, timeout=WAIT).json()["state"]
                if state == "calling":
                    post("start")
                if state in ("calling", "serving"):
                    post("finish")
                break
        time.sleep(think)


# ---------------------------------------------------------------- one run


@dataclass
class RunResult:
    procs: int
    killed: bool
    calls: int = 0
    seconds: float = 0.0
    last_ms: list[float] = field(default_factory=list)
    lost: int = 0
    """Calls some screen of the hall never showed: not live, not in a snapshot after
    reconnecting, not as the clerk's recall of the number."""
    lost_pairs: int = 0
    cut: int = 0
    """Calls whose answer a kill cut off and that screens missed (made, never pushed)."""
    cut_recalled: int = 0
    """… of which every missing screen showed the clerk's recall of the number."""
    foreign: int = 0
    resynced_pairs: int = 0
    resynced_calls: int = 0
    clerk_failures: int = 0
    reconnects: int = 0
    rejoin_s: list[float] = field(default_factory=list)
    connect_s: float = 0.0
    client_cpu_s: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)
    spread: list[int] = field(default_factory=list)
    lost_detail: list[str] = field(default_factory=list)
    """What each lost call's unreached screens saw around it, to tell why."""

    def row(self) -> dict[str, float]:
        return {
            "calls/s": self.calls / self.seconds,
            "p50": percentile(self.last_ms, 50) if self.last_ms else float("nan"),
            "p99": percentile(self.last_ms, 99) if self.last_ms else float("nan"),
            "lost": self.lost,
            "cut": self.cut,
            "foreign": self.foreign,
            "resynced": self.resynced_calls,
            "rejoin_max": max(self.rejoin_s, default=0.0),
            "connect_s": self.connect_s,
            "client_cpu": self.client_cpu_s,
        }


def called_events(hall: Hall) -> tuple[dict[tuple[int, str], str], set[tuple[int, str]]]:
    """The hall's calls from its database, (seq, at) as the screens receive them → the
    ticket's number; and the (seq, at) of its recalls."""
    db = hall.database()
    try:
        with db.read() as s:
            rows = s.execute(select(TicketEvent.id, TicketEvent.at, TicketEvent.kind,
                                    Ticket.number)
                             .join(Ticket, Ticket.id == TicketEvent.ticket_id)
                             .where(TicketEvent.kind.in_(("called", "recalled")))).all()
    finally:
        db.dispose()
    calls = {(seq, iso_utc(at)): number for seq, at, kind, number in rows if kind == "called"}
    return calls, {(seq, iso_utc(at)) for seq, at, kind, _ in rows if kind == "recalled"}


def server_connections(port: int) -> int:
    """Established connections to a process's ``port``: how many screens it holds."""
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    return out.count("\n")


def run_once(url: str, deployment: Path, codes: list[str], screens: int, procs: int,
             seconds: float, think: float, kill: bool, client_procs: int,
             direct: bool) -> RunResult:
    """One run on the invocation's database, which keeps the halls' schemas (and demo
    staff) from run to run: a process of 20 halls makes them in minutes on this machine.
    Each run judges only the calls made in it."""
    result = RunResult(procs=procs, killed=kill)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hall-scale-")))
        args = ("--message-queue", REDIS, "--async-mode", "threading")
        servers = []
        for p in range(procs):  # one after the other: the first creates the schemas
            servers.append(stack.enter_context(
                HallServer(workdir, *args, database_url=url, name=f"p{p}",
                           deployment=deployment, timeout=900)))
        halls = [Hall(code, url) for code in codes]
        expected_calls = int(seconds / max(think, 0.05)) + 50
        before = {}
        for hall in halls:
            seed_tickets(hall, expected_calls)
            before[hall.code] = max((seq for seq, _ in called_events(hall)[0]), default=0)
        base = servers[0].url if direct else stack.enter_context(
            nginx([s.port for s in servers], workdir))
        urls = [s.url for s in servers] if direct else [base]

        every = [(h, h * screens + i, hall.prefix) for h, hall in enumerate(halls)
                 for i in range(screens)]
        ctx = mp.get_context("spawn")
        results: mp.Queue = ctx.Queue()
        commands = [ctx.Queue() for _ in range(client_procs)]
        workers = [ctx.Process(target=screen_worker,
                               args=(every[w::client_procs], urls, commands[w], results))
                   for w in range(client_procs)]
        for w in workers:
            w.start()
        try:
            result.connect_s = max(results.get(timeout=WAIT * 3)[1] for _ in workers)
            result.spread = [server_connections(s.port) for s in servers]
            barrier = threading.Barrier(len(halls) + 1, timeout=WAIT * 5)
            clerks = [ClerkLog() for _ in halls]
            threads = [threading.Thread(target=clerk_loop, daemon=True, args=(
                h, base + hall.prefix, seconds, think, barrier, clerks[h]))
                for h, hall in enumerate(halls)]
            for t in threads:
                t.start()
            load_before = os.getloadavg()[0]
            barrier.wait()
            started = time.monotonic()
            if kill:
                time.sleep(seconds / 2)
                victim = servers[-1]
                assert victim.process is not None
                os.killpg(victim.process.pid, signal.SIGKILL)
            for t in threads:
                t.join()
            result.seconds = time.monotonic() - started
            result.load = (load_before, os.getloadavg()[0])
        finally:
            for q in commands:
                q.put("stop")
        logs: list[ScreenLog] = []
        for _ in workers:
            _, got, cpu = results.get(timeout=WAIT)
            logs += got
            result.client_cpu_s += cpu
        for w in workers:
            w.join(30)
        judge(result, halls, clerks, logs, before)
    return result


def judge(result: RunResult, halls: list[Hall], clerks: list[ClerkLog],
          logs: list[ScreenLog], before: dict[str, int]) -> None:
    """Every call of this run in each hall's database against every screen of that hall."""
    by_hall: dict[int, list[ScreenLog]] = defaultdict(list)
    for log in logs:
        by_hall[log.hall].append(log)
    all_calls = {h: called_events(hall) for h, hall in enumerate(halls)}
    for h, clerk in enumerate(clerks):
        result.clerk_failures += len(clerk.failed)
        calls, recalls = all_calls[h]
        calls = {c: n for c, n in calls.items() if c[0] > before[halls[h].code]}
        result.calls += len(calls)
        sent = {(seq, at): t0 for seq, at, t0 in clerk.calls}
        live = [{(seq, at): arrived for seq, at, _, recall, arrived in log.calls if not recall}
                for log in by_hall[h]]
        recalled = [{number for _, _, number, recall, _ in log.calls if recall}
                    for log in by_hall[h]]
        resynced = [{c for _, snap in log.snapshots for c in snap} for log in by_hall[h]]
        for log in by_hall[h]:
            result.foreign += sum(1 for seq, at, *_ in log.calls
                                  if (seq, at) not in calls and (seq, at) not in recalls)
            result.reconnects += len(log.outages)
            result.rejoin_s += [up - down for down, up in log.outages]
        for call, number in calls.items():
            missing = [k for k, got in enumerate(live) if call not in got]
            not_resynced = [k for k in missing if call not in resynced[k]]
            result.resynced_pairs += len(missing) - len(not_resynced)
            result.resynced_calls += bool(missing) and not not_resynced
            unheard = [k for k in not_resynced if number not in recalled[k]]
            if not_resynced and call not in sent:
                # The kill cut the call's answer off: the clerk recalled the number.
                result.cut += 1
                result.cut_recalled += not unheard
            result.lost_pairs += len(unheard)
            result.lost += bool(unheard)
            for k in unheard[:3]:
                log = by_hall[h][k]
                t0 = sent.get(call)
                near = sorted(seq for seq, *_ in log.calls if abs(seq - call[0]) <= 2)
                outages = [(round(a, 3), round(b, 3)) for a, b in log.outages]
                snaps = [(round(t, 3), [c[0] for c in snap]) for t, snap in log.snapshots]
                result.lost_detail.append(
                    f"hall {halls[h].code} call {call} {number} sent at "
                    f"{'?' if t0 is None else f'{t0:.3f}'} (answered: {call in sent}); "
                    f"screen {log.index}: outages {outages}, snapshots {snaps}, "
                    f"live seqs near it {near}")
            if not missing and call in sent:
                result.last_ms.append((max(got[call] for got in live) - sent[call]) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--halls", type=int, default=2)
    parser.add_argument("--screens", type=int, default=20, help="per hall")
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--think", type=float, default=0.5,
                        help="each hall's clerk waits this long between calls")
    parser.add_argument("--kill", action="store_true",
                        help="also run each process count (>1) with one process killed")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--client-procs", type=int, default=1)
    parser.add_argument("--direct", action="store_true",
                        help="no nginx: screen i connects to process i mod P")
    args = parser.parse_args()

    plans = [(p, False) for p in args.procs]
    if args.kill:
        plans += [(p, True) for p in args.procs if p > 1]
    runs: dict[tuple[int, bool], list[RunResult]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="hall-scale-") as tmp, \
            postgres_database() as url:
        deployment, codes = bench_deployment(Path(tmp), args.halls,
                                             max(1000, args.halls * args.screens + 200))
        measure(args, plans, runs, url, deployment, codes)


def measure(args: argparse.Namespace, plans: list[tuple[int, bool]],
            runs: dict[tuple[int, bool], list[RunResult]], url: str, deployment: Path,
            codes: list[str]) -> None:
    for r in range(args.repeat):  # alternate the plans within each repeat
        for procs, kill in plans:
            run = run_once(url, deployment, codes, args.screens, procs, args.seconds,
                           args.think, kill, args.client_procs, args.direct)
            runs[(procs, kill)].append(run)
            row = run.row()
            print(f"run {r + 1}: {procs} process(es){' killed one' if kill else ''}: "
                  + ", ".join(f"{k} {v:.1f}" for k, v in row.items())
                  + f"; screens per process {run.spread}, clerk failures {run.clerk_failures},"
                    f" reconnects {run.reconnects}, load {run.load[0]:.1f}→{run.load[1]:.1f}",
                  flush=True)
            for line in run.lost_detail[:10]:
                print("   lost:", line)
    print(f"\n{args.halls} hall(s) × {args.screens} screens, clerks think {args.think:g} s, "
          f"{args.seconds:g} s per run, {'direct' if args.direct else 'nginx ip_hash'}; "
          f"medians of {args.repeat}")
    names = ["calls/s", "p50", "p99", "lost", "cut", "foreign", "resynced", "rejoin_max",
             "connect_s", "client_cpu"]
    print(f"{'processes':<16}" + "".join(f"{n:>11}" for n in names))
    for (procs, kill), results in runs.items():
        rows = [r.row() for r in results]
        label = f"{procs}{' (one killed)' if kill else ''}"
        print(f"{label:<16}" + "".join(
            f"{statistics.median(r[n] for r in rows):>11.1f}" for n in names))
    print("p50/p99: ms from call-next to the call at the last screen of its hall; lost and "
          "foreign must be 0; resynced: calls some screen got only from its snapshot after "
          "reconnecting; rejoin_max: longest outage of a screen, s; client_cpu: the screen "
          "processes' CPU seconds")


if __name__ == "__main__":
    main()
