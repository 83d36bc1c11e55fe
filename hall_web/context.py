"""What every request and scheduler job needs: config, database, clock, Socket.IO, back-ends."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_socketio import SocketIO

from hall_ops.cases.approval import Backends
from hall_ops.cases.notices import NoticeSettings
from hall_ops.clock import Clock
from hall_ops.config import HallConfig
from hall_ops.db import Database
from hall_ops.licences.store import MaterialStore


@dataclass
class HallContext:
    config: HallConfig
    db: Database
    clock: Clock
    socketio: SocketIO
    approval_backends: Backends
    """Made once: the dispatcher delivers through them and the callback checks their secrets."""
    always_open: bool
    """Demo mode: take tickets whatever the opening hours say."""
    message_queue: str | None = None
    """Redis URL the processes of this deployment share (Socket.IO, leader lock), if any."""
    notices: NoticeSettings | None = None
    """Channels that tell citizens their result is ready (``[notices]``); none: not told."""
    material_store: MaterialStore | None = None
    """Where scans of paper materials go (``[materials]``): the instance folder or S3."""


def current_hall() -> HallContext:
    hall: HallContext = current_app.extensions["hall"]
    return hall
