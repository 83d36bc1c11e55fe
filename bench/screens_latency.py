"""How long a call takes to reach every screen in the hall, against the bare floor.

For each async mode and screen count this starts the real server
(``python -m hall_web serve --demo --no-jobs`` on a tmp SQLite file) and, in the same run,
``bench/bare_server.py`` — a bare Flask-SocketIO server speaking the same screen contract
with no domain work, on the same server stack — alternating which goes first, and reports
the hall's figures as ratios to the bare floor's. Per server: take tickets, log a clerk in
at window 4, issue one screen device per screen (the hall's database), connect N Socket.IO
screens over WebSocket with their device token (each emits ``join`` {room: "hall"}), then
repeat:

    t0 = now; POST /api/v1/windows/4/call-next
    latency(screen) = arrival of the ``call`` event at that screen - t0
    call latency    = max over screens  (the last screen in the hall to show it)
    POST start, POST finish, and wait until every screen has had a ``queue`` push since the
    call and none came for QUIET seconds, so each call is measured on a quiet hall.

Screens acknowledge as ``static/js/screen.js`` does: a ``receipt`` {stage: shown} when the
call arrives and {stage: spoken} SPEAK_SECONDS later (its announcement played), each with an
ack; failed acks are counted.

Then the reconnect: the server is stopped and started again on the same database, and all
N screens connect and join at once (at most CONNECTING at a time per screen process);
``reconnect_s`` is the time until the last has its snapshot.

The screens run in separate worker processes (asyncio; python-socketio AsyncClient or
hand-spoken frames), the clerk in the main process, the server in its own: three
processes on the same machine, so the figures include the load generator's
own CPU use. Times are CLOCK_MONOTONIC, shared by all processes.

    .venv/bin/python bench/screens_latency.py --screens 200 500 --client raw \
        --async-mode threading --calls 100 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import multiprocessing as mp
import os
import queue as stdlib_queue
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import KINDS, MODES, ROOT, clerk_session, percentile, server

from tests.support.server import HallServer

WINDOW, CLERK, SERVICE = 4, "c01", "enterprise"  # window 4 serves enterprise (B) only
WAIT = 60.0  # generous: a lost event shows up as a timeout, not as a slow figure
QUIET = 0.3  # s without a queue push: the hall's coalesced pushes (push_seconds) are all in
SPEAK_SECONDS = 2.0  # a screen reports `spoken` this long after the call (its announcement)
CONNECTING = 100  # a screen process reconnects at most this many screens at a time


# ---------------------------------------------------------------- screen worker (own process)


def screen_worker(wid: int, url: str, tokens: list[str], kind: str, commands: mp.Queue,
                  results: mp.Queue) -> None:
    asyncio.run(_screens(wid, url, tokens, kind, commands, results))


class Tally:
    """What a worker's screens saw: call arrivals, queue pushes, receipt acks."""

    def __init__(self, count: int, wid: int, results: mp.Queue) -> None:
        self.arrivals: list[list[tuple[float, int]]] = [[] for _ in range(count)]
        self.queue_pushes = [0] * count
        self.last_queue = 0.0
        self.acks = {"ok": 0, "failed": 0}
        self.reported = 0
        self.wid, self.results = wid, results

    def call(self, i: int, arrived: float, seq: int) -> None:
        self.arrivals[i].append((arrived, seq))
        while all(len(a) > self.reported for a in self.arrivals):
            self.results.put(("call", self.wid, self.reported,
                              [a[self.reported] for a in self.arrivals]))
            self.reported += 1

    def queue(self, i: int) -> None:
        self.queue_pushes[i] += 1
        self.last_queue = time.monotonic()

    def ack(self, answer: Any) -> None:
        self.acks["ok" if isinstance(answer, dict) and answer.get("ok") else "failed"] += 1


class SocketIOScreen:
    """A screen as the pages are: python-socketio AsyncClient, every packet decoded."""

    def __init__(self, i: int, token: str, tally: Tally) -> None:
        import socketio  # the workers import the clients; the main process needs none

        self.i, self.token, self.tally = i, token, tally
        self.client = socketio.AsyncClient(reconnection=False)
        self.snapshot = asyncio.Event()

        @self.client.on("call")
        async def call(data: dict) -> None:
            tally.call(i, time.monotonic(), data["seq"])
            await self.receipt(data["seq"], "shown")
            asyncio.get_running_loop().call_later(
                SPEAK_SECONDS, lambda: asyncio.ensure_future(self.receipt(data["seq"],
                                                                          "spoken")))

        @self.client.on("queue")
        async def queue(_data: dict) -> None:
            tally.queue(i)

        @self.client.on("snapshot")
        async def snapshot(_data: dict) -> None:
            self.snapshot.set()

    async def receipt(self, seq: int, stage: str) -> None:
        if self.client.connected:
            await self.client.emit("receipt", {"call": seq, "repeat": None, "stage": stage},
                                   callback=self.tally.ack)

    async def connect(self, url: str) -> float:
        self.snapshot.clear()
        await self.client.connect(url, transports=["websocket"], wait_timeout=WAIT,
                                  headers={"Authorization": f"Bearer {self.token}"})
        await self.client.emit("join", {"room": "hall"})
        await asyncio.wait_for(self.snapshot.wait(), WAIT)
        return time.monotonic()

    async def close(self) -> None:
        await self.client.disconnect()


class RawScreen:
    """The same protocol spoken by hand (Engine.IO 4 / Socket.IO 5 text frames over an
    aiohttp WebSocket), decoding only the small `call` packets and the acks: the load
    generator then costs far less CPU, so the figures are closer to the server's own."""

    def __init__(self, i: int, token: str, tally: Tally, session: Any) -> None:
        self.i, self.token, self.tally, self.session = i, token, tally, session
        self.ws: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.acks = itertools.count()

    async def _until(self, prefix: str) -> None:
        while not (await self.ws.receive_str(timeout=WAIT)).startswith(prefix):
            pass

    async def connect(self, url: str) -> float:
        ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await self.session.ws_connect(
            ws_url, autoping=True, headers={"Authorization": f"Bearer {self.token}"})
        await self._until("0{")  # Engine.IO open
        await self.ws.send_str("40")  # Socket.IO connect, default namespace
        await self._until("40")
        await self.ws.send_str(json.dumps(["join", {"room": "hall"}]).join(("42", "")))
        await self._until('42["snapshot"')
        done = time.monotonic()
        self.reader = asyncio.create_task(self._read())
        return done

    async def receipt(self, seq: int, stage: str) -> None:
        message = ["receipt", {"call": seq, "repeat": None, "stage": stage}]
        with contextlib.suppress(Exception):  # a screen whose server went away says nothing
            await self.ws.send_str(f"42{next(self.acks)}{json.dumps(message)}")

    async def _read(self) -> None:
        import aiohttp

        loop = asyncio.get_running_loop()
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = msg.data
            if data.startswith('42["call"'):
                arrived = time.monotonic()
                seq = json.loads(data[2:])[1]["seq"]
                self.tally.call(self.i, arrived, seq)
                await self.receipt(seq, "shown")
                loop.call_later(SPEAK_SECONDS,
                                lambda s=seq: asyncio.ensure_future(self.receipt(s, "spoken")))
            elif data.startswith('42["queue"'):
                self.tally.queue(self.i)
            elif data.startswith("43"):  # an ack: 43<id>[answer]
                self.tally.ack(json.loads(data[data.index("["):])[0])
            elif data == "2":  # Engine.IO ping
                await self.ws.send_str("3")

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        if self.reader is not None:
            with contextlib.suppress(Exception):
                await self.reader


async def _gated(gate: asyncio.Semaphore, work: Any) -> Any:
    async with gate:
        return await work


async def _screens(wid: int, url: str, tokens: list[str], kind: str, commands: mp.Queue,
                   results: mp.Queue) -> None:
    import aiohttp

    tally = Tally(len(tokens), wid, results)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        screens: list[Any] = [
            RawScreen(i, token, tally, session) if kind == "raw"
            else SocketIOScreen(i, token, tally)
            for i, token in enumerate(tokens)
        ]
        started = time.monotonic()
        for first in range(0, len(screens), 50):  # batches: the dev server's backlog is 128
            await asyncio.gather(*(s.connect(url) for s in screens[first:first + 50]))
        results.put(("ready", wid, time.monotonic() - started))

        loop = asyncio.get_running_loop()
        seen = 0
        while True:
            command, arg = await loop.run_in_executor(None, commands.get)
            if command == "settle":  # every screen had a queue push since, then QUIET
                deadline = time.monotonic() + WAIT
                while time.monotonic() < deadline and (
                        min(tally.queue_pushes) <= seen
                        or time.monotonic() - tally.last_queue < QUIET):
                    await asyncio.sleep(0.005)
                seen = min(tally.queue_pushes)
                results.put(("settled", wid, min(tally.queue_pushes)))
            elif command == "reconnect":  # the server restarted at `arg`: all at once
                await asyncio.gather(*(s.close() for s in screens))
                gate = asyncio.Semaphore(CONNECTING)
                done = await asyncio.gather(*(_gated(gate, s.connect(arg)) for s in screens))
                results.put(("reconnected", wid, max(done)))
            elif command == "stop":
                await asyncio.sleep(SPEAK_SECONDS)  # the last spoken receipts
                await asyncio.gather(*(s.close() for s in screens), return_exceptions=True)
                results.put(("stopped", wid, dict(tally.acks)))
                return


# ---------------------------------------------------------------- one run


@dataclass
class RunResult:
    mode: str
    screens: int
    calls: int
    connect_s: float
    server: str = "production"
    call_max_ms: list[float] = field(default_factory=list)  # per call: the slowest screen
    call_min_ms: list[float] = field(default_factory=list)  # per call: the fastest screen
    per_screen_ms: list[float] = field(default_factory=list)  # every (call, screen) pair
    http_ms: list[float] = field(default_factory=list)  # call-next response time
    reconnect_s: float = float("nan")
    acks: dict[str, int] = field(default_factory=dict)

    def row(self) -> dict[str, float]:
        return {
            "max_p50": percentile(self.call_max_ms, 50),
            "max_p99": percentile(self.call_max_ms, 99),
            "min_p50": percentile(self.call_min_ms, 50),
            "scr_p50": percentile(self.per_screen_ms, 50),
            "scr_p90": percentile(self.per_screen_ms, 90),
            "scr_p99": percentile(self.per_screen_ms, 99),
            "scr_max": max(self.per_screen_ms),
            "http_p50": percentile(self.http_ms, 50),
            "connect_s": self.connect_s,
            "reconnect_s": self.reconnect_s,
            "acks_failed": float(self.acks.get("failed", 0)),
        }


def _collect(results: mp.Queue, kind: str, workers: int) -> list[tuple]:
    got: list[tuple] = []
    deadline = time.monotonic() + WAIT
    while len(got) < workers:
        try:
            item = results.get(timeout=max(0.1, deadline - time.monotonic()))
        except stdlib_queue.Empty:
            raise RuntimeError(f"timed out waiting for {kind} from the screen workers") from None
        if item[0] != kind:
            raise RuntimeError(f"expected {kind}, got {item[0]}")
        got.append(item)
    return got


def _screen_tokens(srv: HallServer, count: int) -> list[str]:
    """One screen device per screen, issued in the hall's database (as an admin would)."""
    from hall_ops.config import load_config
    from hall_ops.db import Database
    from hall_ops.staff import devices
    from hall_ops.staff.policy import StaffPolicy

    policy = StaffPolicy.from_config(load_config(ROOT / "config.toml"))
    db = Database(srv.database_url)
    try:
        with db.write() as s:
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            return [devices.issue_device(s, "bench", "screen", f"bench-{i}", "hall", now,
                                         policy)[1] for i in range(count)]
    finally:
        db.dispose()


def run_once(mode: str, screens: int, calls: int, workers: int, kind: str,
             server_kind: str = "production", reconnect: bool = False) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="hall-bench-") as tmp, \
            server(mode, kind=server_kind, workdir=Path(tmp)) as srv:
        kiosk = requests.Session()
        for _ in range(calls):
            reply = kiosk.post(f"{srv.url}/api/v1/tickets", json={"service": SERVICE}, timeout=10)
            reply.raise_for_status()
        clerk = clerk_session(srv.url, WINDOW, CLERK)
        api = f"{srv.url}/api/v1/windows/{WINDOW}"
        tokens = (_screen_tokens(srv, screens) if server_kind != "bare"
                  else [f"bare-{i}" for i in range(screens)])

        ctx = mp.get_context("spawn")
        results: mp.Queue = ctx.Queue()
        command_queues = [ctx.Queue() for _ in range(workers)]
        procs = [
            ctx.Process(target=screen_worker,
                        args=(w, srv.url, tokens[w::workers], kind, command_queues[w], results))
            for w in range(workers)
        ]
        for p in procs:
            p.start()
        try:
            ready = _collect(results, "ready", workers)
            result = RunResult(mode, screens, calls, max(r[2] for r in ready), server_kind)
            for k in range(calls):
                t0 = time.monotonic()
                reply = clerk.post(f"{api}/call-next", timeout=WAIT)
                result.http_ms.append((time.monotonic() - t0) * 1000)
                reply.raise_for_status()
                seq = reply.json()["call"]["seq"]
                arrivals = [a for item in _collect(results, "call", workers) for a in item[3]]
                if any(s != seq for _, s in arrivals):
                    raise RuntimeError(f"call {k}: a screen got another call than seq {seq}")
                latencies = [(t - t0) * 1000 for t, _ in arrivals]
                result.call_max_ms.append(max(latencies))
                result.call_min_ms.append(min(latencies))
                result.per_screen_ms.extend(latencies)
                for action in ("start", "finish"):
                    clerk.post(f"{api}/{action}", timeout=WAIT).raise_for_status()
                for q in command_queues:
                    q.put(("settle", None))
                if any(s[2] <= k for s in _collect(results, "settled", workers)):
                    raise RuntimeError(f"call {k}: some screens missed queue pushes")
            if reconnect:
                srv.stop()  # a restart: every screen loses its connection
                srv.start()
                t0 = time.monotonic()
                for q in command_queues:
                    q.put(("reconnect", srv.url))
                done = _collect(results, "reconnected", workers)
                result.reconnect_s = max(d[2] for d in done) - t0
            for q in command_queues:
                q.put(("stop", None))
            for _, _, acks in _collect(results, "stopped", workers):
                for name, n in acks.items():
                    result.acks[name] = result.acks.get(name, 0) + n
            return result
        finally:
            for q in command_queues:
                q.put(("stop", None))
            for p in procs:
                p.join(30)
                if p.is_alive():
                    p.terminate()


# ---------------------------------------------------------------- report


COLUMNS = [("mode", 9), ("screens", 7), ("server", 10), ("max_p50", 8), ("max_p99", 8),
           ("min_p50", 8), ("scr_p50", 8), ("scr_p90", 8), ("scr_p99", 8), ("scr_max", 8),
           ("http_p50", 8), ("connect_s", 9), ("reconnect_s", 11), ("acks_failed", 11)]
RATIOS = ["max_p50", "max_p99", "min_p50", "scr_p50", "scr_p90", "scr_p99", "scr_max",
          "http_p50", "connect_s", "reconnect_s"]


def _cell(value: object, width: int) -> str:
    if isinstance(value, str):
        return f"{value:<{width}}"
    return f"{value:>{width}.2f}" if isinstance(value, float) else f"{value:>{width}}"


def _table(columns: list[tuple[str, int]], rows: list[dict]) -> None:
    print("  ".join(f"{name:<{w}}" if i < 3 else f"{name:>{w}}"
                    for i, (name, w) in enumerate(columns)))
    for row in rows:
        print("  ".join(_cell(row[name], w) for name, w in columns))


def print_tables(rows: list[dict], ratios: list[dict]) -> None:
    print()
    _table(COLUMNS, rows)
    print(
        "\nms from sending call-next to the `call` event at the screens. max_*: per call the "
        "slowest screen (the hall is updated when the last screen is), p50/p99 over calls; "
        "min_p50: fastest screen; scr_*: every (call, screen) pair; http_p50: call-next "
        "response; connect_s: connecting and joining all screens (batches of 50); "
        "reconnect_s: after a restart, all screens at once until the last has its snapshot; "
        "acks_failed: receipts not acknowledged ok. Each figure is the median over the "
        "repeats.\n\nRatios, hall / bare floor (median of the per-run-pair ratios):"
    )
    _table([("mode", 9), ("screens", 7), ("server", 10)] + [(n, max(8, len(n)))
                                                           for n in RATIOS], ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screens", type=int, nargs="+", default=[200])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--async-mode", nargs="+", choices=MODES, default=["threading"])
    parser.add_argument("--repeat", type=int, default=1,
                        help="fresh servers per repeat, the order alternating; medians")
    parser.add_argument("--client-procs", type=int, default=1,
                        help="screen worker processes (the machine has few cores)")
    parser.add_argument("--client", choices=["socketio", "raw"], default="socketio",
                        help="python-socketio AsyncClient, or hand-spoken frames (less client CPU)")
    parser.add_argument("--server", choices=KINDS, default="production",
                        help="as ./hall serve runs it, or Flask-SocketIO's own server")
    parser.add_argument("--no-bare", action="store_true", help="the hall alone, no floor")
    parser.add_argument("--no-reconnect", action="store_true", help="skip the restart")
    args = parser.parse_args()

    kinds = [args.server] if args.no_bare else [args.server, "bare"]
    rows, ratios = [], []
    for screens in args.screens:
        for mode in args.async_mode:
            runs: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
            for r in range(args.repeat):
                for kind in kinds if r % 2 == 0 else kinds[::-1]:
                    run = run_once(mode, screens, args.calls, args.client_procs, args.client,
                                   kind, reconnect=not args.no_reconnect).row()
                    runs[kind].append(run)
                    print(f"{mode} {screens} screens, {kind}, run {r + 1} "
                          f"(load {os.getloadavg()[0]:.1f}): "
                          + ", ".join(f"{k} {v:.1f}" for k, v in run.items()), flush=True)
            for kind in kinds:
                row = {k: statistics.median(run[k] for run in runs[kind]) for k in runs[kind][0]}
                rows.append({"mode": mode, "screens": screens, "server": kind, **row})
            if not args.no_bare:
                ratios.append({"mode": mode, "screens": screens, "server": args.server, **{
                    name: statistics.median(h[name] / b[name] for h, b in
                                            zip(runs[args.server], runs["bare"], strict=True))
                    for name in RATIOS}})
    print_tables(rows, ratios)
    print(f"server: {args.server} vs bare; client: {args.client}, {args.client_procs} screen "
          f"process(es), {args.calls} calls, {args.repeat} repeat(s); receipts on "
          f"(shown at once, spoken after {SPEAK_SECONDS} s); load now "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
