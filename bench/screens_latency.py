"""How long a call takes to reach every screen in the hall.

For each async mode and screen count this starts the real server
(``python -m hall_web serve --demo --no-jobs`` on a tmp SQLite file), takes
tickets, logs a clerk in at window 4, connects N Socket.IO screens over
WebSocket (each emits ``join`` {room: "hall"}), then repeats:

    t0 = now; POST /api/v1/windows/4/call-next
    latency(screen) = arrival of the ``call`` event at that screen - t0
    call latency    = max over screens  (the last screen in the hall to show it)
    POST start, POST finish, and wait until every screen has had the
    resulting ``queue`` pushes, so each call is measured on a quiet hall.

The screens run in separate worker processes (asyncio + python-socketio
AsyncClient), the clerk in the main process, the server in its own: three
processes on the same machine, so the figures include the load generator's
own CPU use. Times are CLOCK_MONOTONIC, shared by all processes.

    .venv/bin/python bench/screens_latency.py --screens 200 500 \
        --async-mode threading gevent eventlet --calls 100 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import queue as stdlib_queue
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import KINDS, MODES, clerk_session, percentile, server

WINDOW, CLERK, SERVICE = 4, "c01", "enterprise"  # window 4 serves enterprise (B) only
QUEUE_PUSHES_PER_CALL = 3  # call-next, start and finish each push one `queue` to the hall room
WAIT = 60.0  # generous: a lost event shows up as a timeout, not as a slow figure


# ---------------------------------------------------------------- screen worker (own process)


def screen_worker(wid: int, url: str, count: int, kind: str, commands: mp.Queue,
                  results: mp.Queue) -> None:
    asyncio.run(_screens(wid, url, count, kind, commands, results))


class SocketIOScreen:
    """A screen as the pages are: python-socketio AsyncClient, every packet decoded."""

    def __init__(self, i: int, url: str, on_call: Callable[[int, float, int], None],
                 on_queue: Callable[[int], None]) -> None:
        import socketio  # the workers import the clients; the main process needs none

        self.url = url
        self.client = socketio.AsyncClient(reconnection=False)
        self.snapshot = asyncio.Event()

        @self.client.on("call")
        async def call(data: dict) -> None:
            on_call(i, time.monotonic(), data["seq"])

        @self.client.on("queue")
        async def queue(_data: dict) -> None:
            on_queue(i)

        @self.client.on("snapshot")
        async def snapshot(_data: dict) -> None:
            self.snapshot.set()

    async def connect(self) -> None:
        await self.client.connect(self.url, transports=["websocket"], wait_timeout=WAIT)
        await self.client.emit("join", {"room": "hall"})
        await asyncio.wait_for(self.snapshot.wait(), WAIT)

    async def close(self) -> None:
        await self.client.disconnect()


class RawScreen:
    """The same protocol spoken by hand (Engine.IO 4 / Socket.IO 5 text frames over an
    aiohttp WebSocket), decoding only the small `call` packets: the load generator
    then costs far less CPU, so the figures are closer to the server's own."""

    def __init__(self, i: int, url: str, session: Any, on_call: Callable[[int, float, int], None],
                 on_queue: Callable[[int], None]) -> None:
        self.i, self.session = i, session
        self.ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.on_call, self.on_queue = on_call, on_queue
        self.ws: Any = None
        self.reader: asyncio.Task[None] | None = None

    async def _until(self, prefix: str) -> None:
        while not (await self.ws.receive_str(timeout=WAIT)).startswith(prefix):
            pass

    async def connect(self) -> None:
        self.ws = await self.session.ws_connect(self.ws_url, autoping=True)
        await self._until("0{")  # Engine.IO open
        await self.ws.send_str("40")  # Socket.IO connect, default namespace
        await self._until("40")
        await self.ws.send_str(json.dumps(["join", {"room": "hall"}]).join(("42", "")))
        await self._until('42["snapshot"')
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        import aiohttp

        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = msg.data
            if data.startswith('42["call"'):
                arrived = time.monotonic()
                self.on_call(self.i, arrived, json.loads(data[2:])[1]["seq"])
            elif data.startswith('42["queue"'):
                self.on_queue(self.i)
            elif data == "2":  # Engine.IO ping
                await self.ws.send_str("3")

    async def close(self) -> None:
        await self.ws.close()
        if self.reader is not None:
            await self.reader


async def _screens(wid: int, url: str, count: int, kind: str, commands: mp.Queue,
                   results: mp.Queue) -> None:
    import aiohttp

    arrivals: list[list[tuple[float, int]]] = [[] for _ in range(count)]
    queue_pushes = [0] * count
    reported = 0

    def on_call(i: int, arrived: float, seq: int) -> None:
        nonlocal reported
        arrivals[i].append((arrived, seq))
        while all(len(a) > reported for a in arrivals):
            results.put(("call", wid, reported, [a[reported] for a in arrivals]))
            reported += 1

    def on_queue(i: int) -> None:
        queue_pushes[i] += 1

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        screens: list[Any] = [
            RawScreen(i, url, session, on_call, on_queue) if kind == "raw"
            else SocketIOScreen(i, url, on_call, on_queue)
            for i in range(count)
        ]
        started = time.monotonic()
        for first in range(0, count, 50):  # batches: the dev server's listen backlog is 128
            await asyncio.gather(*(s.connect() for s in screens[first:first + 50]))
        results.put(("ready", wid, time.monotonic() - started))

        loop = asyncio.get_running_loop()
        while True:
            command, arg = await loop.run_in_executor(None, commands.get)
            if command == "settle":  # wait until every screen has had `arg` queue pushes
                deadline = time.monotonic() + WAIT
                while min(queue_pushes) < arg and time.monotonic() < deadline:
                    await asyncio.sleep(0.002)
                results.put(("settled", wid, min(queue_pushes)))
            elif command == "stop":
                await asyncio.gather(*(s.close() for s in screens), return_exceptions=True)
                results.put(("stopped", wid, None))
                return


# ---------------------------------------------------------------- one run


@dataclass
class RunResult:
    mode: str
    screens: int
    calls: int
    connect_s: float
    call_max_ms: list[float] = field(default_factory=list)  # per call: the slowest screen
    call_min_ms: list[float] = field(default_factory=list)  # per call: the fastest screen
    per_screen_ms: list[float] = field(default_factory=list)  # every (call, screen) pair
    http_ms: list[float] = field(default_factory=list)  # call-next response time

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


def run_once(mode: str, screens: int, calls: int, workers: int, kind: str,
             server_kind: str = "production") -> RunResult:
    with server(mode, kind=server_kind) as srv:
        kiosk = requests.Session()
        for _ in range(calls):
            reply = kiosk.post(f"{srv.url}/api/v1/tickets", json={"service": SERVICE}, timeout=10)
            reply.raise_for_status()
        clerk = clerk_session(srv.url, WINDOW, CLERK)
        api = f"{srv.url}/api/v1/windows/{WINDOW}"

        ctx = mp.get_context("spawn")
        results: mp.Queue = ctx.Queue()
        command_queues = [ctx.Queue() for _ in range(workers)]
        shares = [screens // workers + (1 if w < screens % workers else 0) for w in range(workers)]
        procs = [
            ctx.Process(target=screen_worker,
                        args=(w, srv.url, shares[w], kind, command_queues[w], results))
            for w in range(workers)
        ]
        for p in procs:
            p.start()
        try:
            ready = _collect(results, "ready", workers)
            result = RunResult(mode, screens, calls, max(r[2] for r in ready))
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
                    q.put(("settle", QUEUE_PUSHES_PER_CALL * (k + 1)))
                settled = _collect(results, "settled", workers)
                if min(s[2] for s in settled) < QUEUE_PUSHES_PER_CALL * (k + 1):
                    raise RuntimeError(f"call {k}: some screens missed queue pushes")
            return result
        finally:
            for q in command_queues:
                q.put(("stop", None))
            for p in procs:
                p.join(30)
                if p.is_alive():
                    p.terminate()


# ---------------------------------------------------------------- report


COLUMNS = [("mode", 9), ("screens", 7), ("max_p50", 8), ("max_p99", 8), ("min_p50", 8),
           ("scr_p50", 8), ("scr_p90", 8), ("scr_p99", 8), ("scr_max", 8), ("http_p50", 8),
           ("connect_s", 9)]


def _cell(value: object, width: int) -> str:
    if isinstance(value, str):
        return f"{value:<{width}}"
    return f"{value:>{width}.1f}" if isinstance(value, float) else f"{value:>{width}}"


def print_table(rows: list[dict]) -> None:
    print()
    print("  ".join(f"{name:<{w}}" if i == 0 else f"{name:>{w}}"
                    for i, (name, w) in enumerate(COLUMNS)))
    for row in rows:
        print("  ".join(_cell(row[name], w) for name, w in COLUMNS))
    print(
        "\nms from sending call-next to the `call` event at the screens. max_*: per call the "
        "slowest screen (the hall is updated when the last screen is), p50/p99 over calls; "
        "min_p50: fastest screen; scr_*: every (call, screen) pair; http_p50: call-next "
        "response; connect_s: connecting and joining all screens. Each figure is the median "
        "over the repeats."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screens", type=int, nargs="+", default=[200])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--async-mode", nargs="+", choices=MODES, default=["threading"])
    parser.add_argument("--repeat", type=int, default=1, help="fresh server per repeat; medians")
    parser.add_argument("--client-procs", type=int, default=1,
                        help="screen worker processes (the machine has few cores)")
    parser.add_argument("--client", choices=["socketio", "raw"], default="socketio",
                        help="python-socketio AsyncClient, or hand-spoken frames (less client CPU)")
    parser.add_argument("--server", choices=KINDS, default="production",
                        help="as ./hall serve runs it, or Flask-SocketIO's own server")
    args = parser.parse_args()

    rows = []
    for screens in args.screens:
        for mode in args.async_mode:
            runs = []
            for r in range(args.repeat):
                run = run_once(mode, screens, args.calls, args.client_procs, args.client,
                               args.server).row()
                runs.append(run)
                print(f"{mode} {screens} screens, run {r + 1}: "
                      + ", ".join(f"{k} {v:.1f}" for k, v in run.items()), flush=True)
            row = {k: statistics.median(run[k] for run in runs) for k in runs[0]}
            rows.append({"mode": mode, "screens": screens, **row})
    print_table(rows)
    print(f"server: {args.server}; client: {args.client}, {args.client_procs} screen "
          f"process(es), {args.calls} calls, "
          f"{args.repeat} repeat(s)")


if __name__ == "__main__":
    main()
