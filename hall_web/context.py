"""What every request and Socket.IO handler needs: config, database, clock, publisher."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_socketio import SocketIO

from displays.screens import Publisher
from hall_ops.clock import Clock
from hall_ops.config import HallConfig
from hall_ops.db import Database


@dataclass
class HallContext:
    config: HallConfig
    db: Database
    clock: Clock
    socketio: SocketIO
    publisher: Publisher
    always_open: bool
    """Demo mode: take tickets whatever the opening hours say."""


def current_hall() -> HallContext:
    return current_app.extensions["hall"]
