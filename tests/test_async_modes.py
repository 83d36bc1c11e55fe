"""The server in each async mode: a screen on a real websocket sees the queue pushed and a
clerk's call."""

from __future__ import annotations

import threading

import pytest
import requests
import socketio

from tests.support.server import running_server
from tests.support.web import live_window


@pytest.mark.parametrize("mode", ["threading", "gevent", "eventlet"])
def test_call_reaches_a_websocket_screen(tmp_path, mode):
    with running_server(tmp_path, "--async-mode", mode) as base:
        screen = socketio.Client(reconnection=False)
        snapshot, call, queued = threading.Event(), threading.Event(), threading.Event()
        received: dict = {}
        screen.on("snapshot", lambda data: snapshot.set())

        def on_queue(data):
            # The hall's feed pushes the queue from a background task of the mode.
            if any(s["code"] == "enterprise" and s["waiting"] == 1 for s in data["services"]):
                queued.set()

        screen.on("queue", on_queue)

        def on_call(data):
            received.update(data)
            call.set()

        screen.on("call", on_call)
        screen.connect(base.url, transports=["websocket"])
        try:
            screen.emit("join", {"room": "zone:front_intake"})
            assert snapshot.wait(10)
            assert requests.post(f"{base}/api/v1/tickets", json={"service": "enterprise"}).ok
            assert queued.wait(10)
            clerk = live_window(base.url, 4, "c01")
            assert clerk.post(f"{base}/api/v1/windows/4/call-next").ok
            assert call.wait(10)
            assert (received["ticket"], received["window"]) == ("B001", 4)
        finally:
            screen.disconnect()
