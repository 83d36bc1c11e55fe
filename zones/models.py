"""The zone table: the hall's zones, seeded from config.toml and then kept in the admin page
(``hall_ops.floor.admin``); their rules are in ``zones.definitions``."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hall_ops.db import Base


class Zone(Base):
    __tablename__ = "zones"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
