"""The standard service-item catalogue (事项目录) and its service guides (办事指南).

One guide per item fixes materials, time limit, fee and department, so the
front desk and the back office judge an application the same way. The
catalogue is kept as two CSV files (``items.csv``, ``materials.csv``, see
``data/catalogue/README.md``) that clerks' supervisors can edit in a
spreadsheet; loading validates every row first and names ``file:line`` of the
first bad one, and only then upserts, so a typo never half-loads a catalogue.

Materials are identified by their Chinese name across items: the same name in
two items is the same document, which is what lets an intake record store a
shared material once (``hall_ops.cases.intake``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from hall_ops.db import Base
from hall_ops.errors import NotFound
from hall_ops.queue.models import Service

BOARDS: dict[str, str] = {
    "investment": "政府投资项目",
    "enterprise": "企业登记",
    "real_estate": "不动产登记",
    "non_resident": "非驻场部门事项",
}
"""The four boards accepted at comprehensive windows (板块)."""

ITEMS_FILE = "items.csv"
MATERIALS_FILE = "materials.csv"
LICENCES_FILE = "licences.csv"
"""Optional: which approved items issue which e-licence type (``hall_ops.licences``)."""
ITEM_COLUMNS = (
    "code", "name_zh", "name_en", "board", "department_code", "department_zh",
    "time_limit_days", "fee_yuan", "service_code",
)
ITEM_OPTIONAL = ("retention", "department_en")
"""Optional columns of items.csv: may be absent, or empty on a row (the default applies:
no retention of its own, the department's English name falls back to Chinese)."""
MATERIAL_COLUMNS = ("item_code", "name_zh", "name_en", "key", "copies", "e_licence")
RETENTION_PERIODS = ("permanent", "30y", "10y")
"""Retention periods of archived cases (保管期限: 永久, 定期30年, 定期10年); an item without
one in the catalogue gets ``[archive] default_retention``."""
LICENCE_COLUMNS = ("item_code", "licence_type", "name_zh", "name_en", "valid_years", "material_zh")
CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


class ServiceItem(Base):
    """A catalogue item. Items dropped from the file are deactivated, never deleted,
    because intake records keep pointing at them."""

    __tablename__ = "service_items"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200))
    board: Mapped[str] = mapped_column(String(32))
    department_code: Mapped[str] = mapped_column(String(32), index=True)
    department_name_zh: Mapped[str] = mapped_column(String(64))
    department_name_en: Mapped[str | None] = mapped_column(String(128), nullable=True)
    time_limit_days: Mapped[int] = mapped_column(Integer)
    """Legal time limit in working days (0 = decided on the spot, 即办件)."""
    fee_yuan: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    service_code: Mapped[str] = mapped_column(ForeignKey("services.code"), index=True)
    """The queue service whose windows accept this item."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    retention: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """How long the archive keeps a finished case of this item (``RETENTION_PERIODS``);
    None: the hall's default (``[archive] default_retention``)."""

    materials: Mapped[list[ItemMaterial]] = relationship(
        cascade="all, delete-orphan", order_by="ItemMaterial.position"
    )


class ItemMaterial(Base):
    """A material of an item's guide. ``key`` = intake is refused without it;
    otherwise it may be supplied later (容缺)."""

    __tablename__ = "item_materials"
    __table_args__ = (UniqueConstraint("item_code", "name_zh", name="uq_item_material_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("service_items.code"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200))
    key: Mapped[bool] = mapped_column(Boolean)
    copies: Mapped[int] = mapped_column(Integer, default=1)
    e_licence: Mapped[bool] = mapped_column(Boolean, default=False)
    """An e-licence from the library can replace the paper document."""


class LicenceType(Base):
    """A kind of e-licence the hall's items issue (营业执照 …), from ``licences.csv``.

    ``material_name_zh``: the catalogue material a licence of this type stands for at
    intake (the same Chinese name as in ``materials.csv``)."""

    __tablename__ = "licence_types"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200))
    valid_years: Mapped[int] = mapped_column(Integer)
    """0: valid until revoked."""
    material_name_zh: Mapped[str] = mapped_column(String(128))


class ItemLicence(Base):
    """The licence type an item issues when approved; items not listed issue none."""

    __tablename__ = "item_licences"

    item_code: Mapped[str] = mapped_column(ForeignKey("service_items.code"), primary_key=True)
    licence_type: Mapped[str] = mapped_column(ForeignKey("licence_types.code"), index=True)


class CatalogueError(ValueError):
    """A bad catalogue entry; the message starts with ``file:line``."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


# ---------------------------------------------------------------- loading


@dataclass(frozen=True)
class _Material:
    name_zh: str
    name_en: str
    key: bool
    copies: int
    e_licence: bool


@dataclass
class _Item:
    line: int
    code: str
    name_zh: str
    name_en: str
    board: str
    department_code: str
    department_zh: str
    department_en: str | None
    time_limit_days: int
    fee_yuan: Decimal
    service_code: str
    retention: str | None
    materials: list[_Material]


def load_catalogue(session: Session, path: str | Path) -> dict[str, int]:
    """Validate the catalogue in directory ``path`` and upsert it; returns counts.

    Raises ``CatalogueError`` naming file and line of the first bad entry:
    unknown board or service, missing column or field, negative time limit or
    fee, duplicate item code or material, a material of an unknown item, an
    item without materials, one department code with two names, or one
    material name with two English names.
    """
    from hall_ops.forms.spec import FORMS_FILE, read_forms, store_forms

    directory = Path(path)
    items = _read_items(directory / ITEMS_FILE, session)
    _read_materials(directory / MATERIALS_FILE, items)
    forms = read_forms(directory / FORMS_FILE, items)
    for item in items.values():
        if not item.materials:
            raise CatalogueError(
                directory / ITEMS_FILE, item.line, f"item {item.code} has no materials"
            )

    existing = {i.code: i for i in session.scalars(select(ServiceItem))}
    for position, parsed in enumerate(items.values()):
        row_item = existing.get(parsed.code) or ServiceItem(code=parsed.code)
        row_item.name_zh, row_item.name_en = parsed.name_zh, parsed.name_en
        row_item.board, row_item.department_code = parsed.board, parsed.department_code
        row_item.department_name_zh = parsed.department_zh
        row_item.department_name_en = parsed.department_en
        row_item.time_limit_days, row_item.fee_yuan = parsed.time_limit_days, parsed.fee_yuan
        row_item.service_code, row_item.active = parsed.service_code, True
        row_item.position, row_item.retention = position, parsed.retention
        # Update materials in place by name so their ids stay stable across reloads.
        by_name = {m.name_zh: m for m in row_item.materials}
        wanted: list[ItemMaterial] = []
        for m_position, m in enumerate(parsed.materials):
            row: ItemMaterial = by_name.get(m.name_zh) or ItemMaterial(name_zh=m.name_zh)
            row.position, row.name_en, row.key = m_position, m.name_en, m.key
            row.copies, row.e_licence = m.copies, m.e_licence
            wanted.append(row)
        row_item.materials = wanted
        session.add(row_item)
    session.flush()
    _load_licences(session, directory / LICENCES_FILE, items)
    deactivated = 0
    for code, stored in existing.items():
        if code not in items and stored.active:
            stored.active = False
            deactivated += 1
    session.flush()
    return {
        "items": len(items),
        "materials": sum(len(i.materials) for i in items.values()),
        "form_fields": store_forms(session, forms or {}),
        "deactivated": deactivated,
    }


def _rows(
    path: Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row dict) of a CSV file whose header has exactly ``columns``
    plus any of ``optional`` (which may be empty on a row; absent ones read as empty)."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise CatalogueError(path, 0, "no such file") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise CatalogueError(path, 1, "empty file")
        header = [h.strip() for h in header]
        missing = [c for c in columns if c not in header]
        unknown = [h for h in header if h not in columns and h not in optional]
        if missing:
            raise CatalogueError(path, 1, f"missing column(s) {missing}")
        if unknown:
            raise CatalogueError(path, 1, f"unknown column(s) {unknown}")
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise CatalogueError(
                    path, line, f"expected {len(header)} fields, found {len(values)}"
                )
            row = dict.fromkeys(optional, "")
            row.update({h: v.strip() for h, v in zip(header, values, strict=True)})
            empty = [c for c in columns if not row[c]]
            if empty:
                raise CatalogueError(path, line, f"missing field(s) {empty}")
            yield line, row


def _read_items(path: Path, session: Session) -> dict[str, _Item]:
    services = {s.code: s for s in session.scalars(select(Service))}
    items: dict[str, _Item] = {}
    departments: dict[str, tuple[str, int]] = {}
    for line, row in _rows(path, ITEM_COLUMNS, ITEM_OPTIONAL):
        code = row["code"]
        if not CODE_PATTERN.fullmatch(code):
            raise CatalogueError(path, line, f"item code {code!r} must be letters, digits, - or _")
        if code in items:
            raise CatalogueError(
                path, line, f"duplicate item code {code} (first on line {items[code].line})"
            )
        board = row["board"]
        if board not in BOARDS:
            raise CatalogueError(
                path, line, f"unknown board {board!r} (one of {', '.join(BOARDS)})"
            )
        service = services.get(row["service_code"])
        if service is None:
            raise CatalogueError(path, line, f"unknown service {row['service_code']!r}")
        if service.board not in (None, board):
            raise CatalogueError(
                path, line,
                f"service {service.code!r} serves board {service.board!r}, not {board!r}",
            )
        dept, dept_zh = row["department_code"], row["department_zh"]
        if dept in departments and departments[dept][0] != dept_zh:
            first_name, first_line = departments[dept]
            raise CatalogueError(
                path, line,
                f"department {dept} is called {dept_zh!r} here"
                f" but {first_name!r} on line {first_line}",
            )
        departments.setdefault(dept, (dept_zh, line))
        retention = row["retention"] or None
        if retention is not None and retention not in RETENTION_PERIODS:
            raise CatalogueError(
                path, line,
                f"retention {retention!r} must be one of {', '.join(RETENTION_PERIODS)} or empty",
            )
        items[code] = _Item(
            line=line,
            code=code,
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            board=board,
            department_code=dept,
            department_zh=dept_zh,
            department_en=row.get("department_en") or None,
            time_limit_days=_int(row["time_limit_days"], "time_limit_days", path, line),
            fee_yuan=_fee(row["fee_yuan"], path, line),
            service_code=service.code,
            retention=retention,
            materials=[],
        )
    return items


def _read_materials(path: Path, items: dict[str, _Item]) -> None:
    english: dict[str, tuple[str, int]] = {}
    for line, row in _rows(path, MATERIAL_COLUMNS):
        item = items.get(row["item_code"])
        if item is None:
            raise CatalogueError(path, line, f"unknown item {row['item_code']!r}")
        name = row["name_zh"]
        if any(m.name_zh == name for m in item.materials):
            raise CatalogueError(path, line, f"material {name!r} listed twice for {item.code}")
        first = english.setdefault(name, (row["name_en"], line))
        if first[0] != row["name_en"]:
            raise CatalogueError(
                path, line,
                f"material {name!r} is {row['name_en']!r} here but {first[0]!r} on line {first[1]}"
                " (one material, one English name)",
            )
        copies = _int(row["copies"], "copies", path, line)
        if copies < 1:
            raise CatalogueError(path, line, "copies must be at least 1")
        item.materials.append(
            _Material(
                name_zh=name,
                name_en=row["name_en"],
                key=_bool(row["key"], "key", path, line),
                copies=copies,
                e_licence=_bool(row["e_licence"], "e_licence", path, line),
            )
        )


def _load_licences(session: Session, path: Path, items: dict[str, _Item]) -> None:
    """Upsert ``licences.csv`` (optional): one row per item that issues a licence.

    One type, one name and validity throughout the file; its material must be a material
    of the catalogue, so intake can offer the licence in that material's place."""
    if not path.exists():
        session.execute(delete(ItemLicence))
        return
    materials = {m.name_zh for item in items.values() for m in item.materials}
    types: dict[str, tuple[tuple[str, str, int, str], int]] = {}
    issued: dict[str, str] = {}
    for line, row in _rows(path, LICENCE_COLUMNS):
        item, code = row["item_code"], row["licence_type"]
        if item not in items:
            raise CatalogueError(path, line, f"unknown item {item!r}")
        if item in issued:
            raise CatalogueError(path, line, f"item {item} issues a licence already")
        if not CODE_PATTERN.fullmatch(code):
            raise CatalogueError(
                path, line, f"licence type {code!r} must be letters, digits, - or _"
            )
        if row["material_zh"] not in materials:
            raise CatalogueError(path, line, f"material {row['material_zh']!r} is in no item")
        years = _int(row["valid_years"], "valid_years", path, line)
        fields = (row["name_zh"], row["name_en"], years, row["material_zh"])
        first = types.setdefault(code, (fields, line))
        if first[0] != fields:
            raise CatalogueError(
                path, line, f"licence type {code} differs from its row on line {first[1]}"
            )
        issued[item] = code
    for code, ((name_zh, name_en, years, material), _line) in types.items():
        row_type = session.get(LicenceType, code) or LicenceType(code=code)
        row_type.name_zh, row_type.name_en = name_zh, name_en
        row_type.valid_years, row_type.material_name_zh = years, material
        session.add(row_type)
    session.flush()
    session.execute(delete(ItemLicence))
    session.add_all(ItemLicence(item_code=item, licence_type=code) for item, code in issued.items())
    session.flush()


def _int(text: str, field: str, path: Path, line: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CatalogueError(path, line, f"{field} must be a whole number, got {text!r}") from None
    if value < 0:
        raise CatalogueError(path, line, f"{field} must not be negative, got {value}")
    return value


def _fee(text: str, path: Path, line: int) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CatalogueError(
            path, line, f"fee_yuan must be an amount in yuan, got {text!r}"
        ) from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise CatalogueError(
            path, line, f"fee_yuan must be ≥ 0 with at most 2 decimals, got {text!r}"
        )
    return value.quantize(Decimal("0.01"))


def _bool(text: str, field: str, path: Path, line: int) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise CatalogueError(path, line, f"{field} must be true or false, got {text!r}")
    return lowered == "true"


# ---------------------------------------------------------------- queries


def get_item(session: Session, code: str) -> ServiceItem:
    item = session.get(ServiceItem, code)
    if item is None or not item.active:
        raise NotFound(f"unknown service item {code!r}", code="unknown_item")
    return item


def item_summary(item: ServiceItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "name_zh": item.name_zh,
        "name_en": item.name_en,
        "board": item.board,
        "department": {"code": item.department_code, "name_zh": item.department_name_zh,
                       "name_en": item.department_name_en or item.department_name_zh},
        "time_limit_days": item.time_limit_days,
        "fee_yuan": f"{item.fee_yuan:.2f}",
        "service": item.service_code,
    }


def service_guide(session: Session, item_code: str) -> dict[str, Any]:
    """What a citizen needs before coming (kiosk, ticket page): materials, limit, fee, department.

    ``paper_materials`` counts what must be brought on paper when the
    e-licence library supplies what it can: the "fewer materials" figure.
    """
    item = get_item(session, item_code)
    return {
        **item_summary(item),
        "board_name_zh": BOARDS[item.board],
        "free": item.fee_yuan == 0,
        "materials": [
            {
                "name_zh": m.name_zh,
                "name_en": m.name_en,
                "key": m.key,
                "copies": m.copies,
                "e_licence": m.e_licence,
            }
            for m in item.materials
        ],
        "paper_materials": sum(1 for m in item.materials if not m.e_licence),
    }


def items_for_service(session: Session, service_code: str) -> list[dict[str, Any]]:
    """The active items a queue service's windows accept, in catalogue order."""
    if session.get(Service, service_code) is None:
        raise NotFound(f"unknown service {service_code!r}", code="unknown_service")
    items = session.scalars(
        select(ServiceItem)
        .where(ServiceItem.service_code == service_code, ServiceItem.active.is_(True))
        .order_by(ServiceItem.position)
    )
    return [item_summary(item) for item in items]
