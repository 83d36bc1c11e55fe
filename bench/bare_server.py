"""The floor for screen figures: a bare Flask-SocketIO server speaking the hall's screen
contract with no domain work, served as ``serve`` serves the hall (gunicorn's gthread or
gevent worker, one worker; eventlet's own server), so a benchmark can run it in the same
run as the hall and report the hall's figures as ratios to it.

The contract, as ``bench/screens_latency.py`` and the screens use it:

* ``GET /api/v1/hall`` (ready), ``GET /api/v1/session`` (a CSRF token), ``POST
  /api/v1/windows/<n>/login``, ``POST /api/v1/tickets``;
* Socket.IO ``join`` {room} → ``snapshot`` {room, calls, queue, missed, at} and the ack
  {ok, room}; ``receipt`` and ``heartbeat`` → {ok: true} (nothing stored);
* ``POST /api/v1/windows/<n>/call-next`` → ``call`` to ``hall``, ``manager``, the zone and
  the window, then one ``queue`` push; ``start`` and ``finish`` → one ``queue`` push each.

Started like the hall (``HallServer`` passes ``serve --config … --port …``; the flags it
does not use are ignored):

    .venv/bin/python bench/bare_server.py serve --port 5050 --async-mode threading
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ZONE = "front_intake"
SERVICES = [{"code": "enterprise", "letter": "B", "name_zh": "企业开办", "name_en": "Business",
             "zone": ZONE, "waiting": 0, "open_windows": 1, "estimate_minutes": 5.0}]


def create_app(async_mode: str) -> Any:
    from flask import Flask, jsonify, request
    from flask_socketio import SocketIO, emit, join_room

    app = Flask("bare")
    socketio = SocketIO(app, async_mode=async_mode)
    lock = threading.Lock()
    seq = itertools.count(1)
    state: dict[str, Any] = {"waiting": 0, "taken": 0, "calls": []}

    def now() -> str:
        return dt.datetime.now(dt.UTC).isoformat()

    def queue() -> dict[str, Any]:
        return {"services": [{**SERVICES[0], "waiting": state["waiting"]}],
                "windows": [], "at": now()}

    @app.get("/api/v1/hall")
    def hall() -> Any:
        return jsonify({"name_en": "Bare floor", "name_zh": "基准"})

    @app.get("/api/v1/session")
    def session() -> Any:
        return jsonify({"csrf_token": "bare"})

    @app.post("/api/v1/windows/<int:number>/login")
    def login(number: int) -> Any:
        return jsonify({"window": number})

    @app.post("/api/v1/tickets")
    def take() -> Any:
        with lock:
            state["waiting"] += 1
            state["taken"] += 1
            number = f"B{state['taken']:03d}"
        socketio.emit("queue", queue(), to=["hall", "manager", f"zone:{ZONE}"])
        return jsonify({"number": number, "service": request.json["service"]}), 201

    @app.post("/api/v1/windows/<int:number>/<action>")
    def window(number: int, action: str) -> Any:
        answer: dict[str, Any] = {"window": number}
        if action == "call-next":
            with lock:
                state["waiting"] = max(0, state["waiting"] - 1)
                call = {"seq": next(seq), "ticket": f"B{state['taken']:03d}", "window": number,
                        "zone": ZONE, "service": "enterprise", "recall": False, "at": now()}
                state["calls"] = [call, *state["calls"]][:8]
            socketio.emit("call", call, to=["hall", "manager", f"zone:{ZONE}",
                                            f"window:{number}"])
            answer["call"] = call
        elif action not in ("start", "finish"):
            return jsonify({"error": "not_found", "message": action}), 404
        socketio.emit("queue", queue(), to=["hall", "manager", f"zone:{ZONE}"])
        return jsonify(answer)

    @socketio.on("join")
    def on_join(data: Any) -> dict[str, Any]:
        room = data.get("room") if isinstance(data, dict) else None
        if not isinstance(room, str):
            return {"error": "invalid_room", "message": "room"}
        join_room(room)
        emit("snapshot", {"room": room, "calls": state["calls"], "queue": queue(),
                          "missed": [], "at": now()})
        return {"ok": True, "room": room}

    @socketio.on("receipt")
    def on_receipt(_data: Any) -> dict[str, Any]:
        return {"ok": True}

    @socketio.on("heartbeat")
    def on_heartbeat(_data: Any = None) -> dict[str, Any]:
        return {"ok": True}

    app.extensions["bare"] = socketio
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5050)
    parser.add_argument("--async-mode", choices=["threading", "gevent", "eventlet"],
                        default="threading")
    args, _ignored = parser.parse_known_args()
    if args.async_mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()
        app = create_app("eventlet")
        app.extensions["bare"].run(app, host=args.host, port=args.port, log_output=False)
        return
    from hall_ops.config import ServerOptions
    from hall_web.server import HallApplication, gunicorn_options

    settings = gunicorn_options(args.async_mode, args.host, args.port, ServerOptions())
    print(f"bare floor ({args.async_mode}) on {args.host}:{args.port}", flush=True)
    HallApplication(lambda: create_app(args.async_mode), settings).run()


if __name__ == "__main__":
    main()
