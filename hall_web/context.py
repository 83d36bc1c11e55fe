"""What every request and scheduler job needs: config, database, clock, Socket.IO, back-ends."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_socketio import SocketIO

from hall_ops.cases.approval import Backends
from hall_ops.cases.notices import NoticeSettings
from hall_ops.clock import Clock
from hall_ops.config import HallConfig
from hall_ops.db import Database
from hall_ops.evaluation.ratings import EvaluationRules, link_url
from hall_ops.licences.store import MaterialStore
from hall_ops.printing import PrinterConfig
from hall_ops.queue.silent import SilentCalling
from hall_ops.region.directory import HallDirectory


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
    evaluation: EvaluationRules | None = None
    """``[evaluation]`` with the hall's calendar (好差评 and its rectifications)."""
    link_secret: str = ""
    """Signs the rating links of notices (the app's secret key)."""
    silent_calling: SilentCalling | None = None
    """Queue SMS (无声叫号) when the SMS gateway has the queue template; none: not offered."""
    printers: tuple[PrinterConfig, ...] = ()
    """The kiosks' ESC/POS printers (``[[printers]]``); without one: the browser prints."""

    @property
    def rules(self) -> EvaluationRules:
        if self.evaluation is None:
            self.evaluation = EvaluationRules.from_config(self.config)
        return self.evaluation

    def rating_link(self, case_number: str, now: dt.datetime) -> str | None:
        """The rating page of a case for its result notice (None without a public URL)."""
        return link_url(self.link_secret, self.rules, case_number, now)


def current_hall() -> HallContext:
    hall: HallContext = current_app.extensions["hall"]
    return hall


def hall_directory() -> HallDirectory | None:
    """The other halls of this hall's deployment (``hall_web.deployment``); None for a hall
    of its own, where features spanning halls are not offered."""
    directory: HallDirectory | None = current_app.extensions.get("hall_directory")
    return directory
