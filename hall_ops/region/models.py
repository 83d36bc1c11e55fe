"""The deployment's hierarchy of halls, kept in the deployment's database.

``deployment.toml`` seeds it on the first start; from then on this table is the truth
(halls added later by an admin live only here). A hall's own tables are in its own
database (a schema or a SQLite file of its own), never here: every hall database holds
this table too, empty, as every database of the code has the whole schema.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hall_ops.db import Base


class RegionHall(Base):
    __tablename__ = "halls"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    """``[a-z0-9][a-z0-9_]{0,31}``: the URL prefix ``/h/<code>/``, the schema ``hall_<code>``."""
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(16))
    """One of ``hall_ops.region.directory.LEVELS``."""
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("halls.code"), nullable=True)
    config_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    """The hall's config file, relative to deployment.toml's folder; None: a region node
    without a floor of its own."""
    position: Mapped[int] = mapped_column(Integer, default=0)
    """Order among its siblings (the file's order)."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
