"""What an item's application form asks (申请表): typed fields described in the catalogue.

``forms.csv`` (beside ``items.csv``, optional) lists each item's own fields; the applicant
section every form starts with is fixed here, because intake needs exactly those values.
At run time a pydantic model is built from the descriptions (``form_model``) and validates
what a citizen typed, at the kiosk, on the phone, and again when the clerk accepts it: one
set of rules on every path. Every refusal names the field, a stable code and the field's
label in both languages, so a page can put the message beside the box it concerns.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, create_model
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from hall_ops.cases.catalogue import (
    CODE_PATTERN,
    CatalogueError,
    _bool,
    _rows,
    get_item,
    item_summary,
)
from hall_ops.cases.identity import validate_credit_code, validate_phone, validate_resident_id
from hall_ops.db import Base
from hall_ops.errors import HallError, InvalidInput

FORMS_FILE = "forms.csv"
FORM_COLUMNS = ("item_code", "field", "type", "required", "label_zh", "label_en")
FORM_OPTIONAL = ("help_zh", "help_en", "min_length", "max_length", "pattern", "minimum",
                 "maximum", "choices")
FIELD_TYPES = ("text", "number", "date", "choice", "id_number", "phone", "address")
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_TEXT = 500
MAX_ITEMS = 10
"""Items one form may cover: a case accepts a handful together."""
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Choice:
    code: str
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form. Ranges: ``min_length``/``max_length`` for text and address,
    ``minimum``/``maximum`` for numbers (decimal text) and dates (ISO date or ``today``)."""

    name: str
    type: str
    required: bool
    label_zh: str
    label_en: str
    help_zh: str = ""
    help_en: str = ""
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    minimum: str | None = None
    maximum: str | None = None
    choices: tuple[Choice, ...] = ()

    def describe(self) -> dict[str, Any]:
        """For the pages that draw the form (kiosk, phone, intake)."""
        return {
            "name": self.name, "type": self.type, "required": self.required,
            "label_zh": self.label_zh, "label_en": self.label_en,
            "help_zh": self.help_zh, "help_en": self.help_en,
            "min_length": self.min_length, "max_length": self.max_length,
            "pattern": self.pattern, "minimum": self.minimum, "maximum": self.maximum,
            "choices": [{"code": c.code, "label_zh": c.label_zh, "label_en": c.label_en}
                        for c in self.choices],
        }


APPLICANT: tuple[FieldSpec, ...] = (
    FieldSpec("kind", "choice", True, "申请人类型", "Applicant is", choices=(
        Choice("person", "个人", "a person"), Choice("organisation", "单位", "an organisation"))),
    FieldSpec("name", "text", True, "申请人姓名或单位名称", "Name of the person or organisation",
              max_length=128),
    FieldSpec("id_number", "id_number", True, "身份证号码或统一社会信用代码",
              "Resident ID number or unified social credit code",
              help_zh="个人填18位身份证号码，单位填18位统一社会信用代码",
              help_en="A person: the 18-character resident ID; an organisation: the 18-character"
                      " unified social credit code"),
    FieldSpec("phone", "phone", True, "联系电话", "Phone",
              help_zh="手机号或带区号的固定电话", help_en="A mobile, or a landline with area code"),
    FieldSpec("email", "text", False, "电子邮箱", "E-mail", max_length=254,
              help_zh="选填，用于办结通知", help_en="Optional, for the result notice"),
)
"""The section every form starts with: what the intake record needs of the applicant."""
_APPLICANT_MODEL = tuple(
    replace(spec, type="text", max_length=32) if spec.name == "id_number" else spec
    for spec in APPLICANT
)
"""The applicant's ID is checked after the section, as a resident ID or a credit code
according to ``kind``."""


class ItemFormField(Base):
    """A field of an item's form, as the catalogue's ``forms.csv`` describes it. Replaced
    whole on every catalogue load (nothing points at these rows)."""

    __tablename__ = "item_form_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("service_items.code"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(16))
    required: Mapped[bool] = mapped_column(Boolean)
    label_zh: Mapped[str] = mapped_column(String(128))
    label_en: Mapped[str] = mapped_column(String(200))
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    """help texts, lengths, pattern, range and choices: ``FieldSpec``'s other attributes."""

    def spec(self) -> FieldSpec:
        rules = dict(self.rules)
        choices = tuple(Choice(**c) for c in rules.pop("choices", []))
        return FieldSpec(self.name, self.type, self.required, self.label_zh, self.label_en,
                         choices=choices, **rules)


# ---------------------------------------------------------------- the catalogue's forms.csv


def read_forms(path: Path, items: Iterable[str]) -> dict[str, list[FieldSpec]] | None:
    """Validate ``forms.csv`` against the catalogue's items; None if the file is absent.
    Raises ``CatalogueError`` naming file and line of the first bad row."""
    if not path.exists():
        return None
    known = set(items)
    forms: dict[str, list[FieldSpec]] = {}
    for line, row in _rows(path, FORM_COLUMNS, FORM_OPTIONAL):
        code = row["item_code"]
        if code not in known:
            raise CatalogueError(path, line, f"unknown item {code!r}")
        name = row["field"]
        if not FIELD_NAME.fullmatch(name):
            raise CatalogueError(path, line, f"field {name!r}: lower-case letters, digits, _")
        if any(f.name == name for f in forms.get(code, [])):
            raise CatalogueError(path, line, f"field {name!r} listed twice for {code}")
        kind = row["type"]
        if kind not in FIELD_TYPES:
            raise CatalogueError(path, line, f"type {kind!r}: one of {', '.join(FIELD_TYPES)}")
        try:
            spec = _spec_from_row(name, kind, row, path, line)
        except ValueError as exc:
            raise CatalogueError(path, line, str(exc)) from None
        forms.setdefault(code, []).append(spec)
    return forms


def _spec_from_row(name: str, kind: str, row: dict[str, str], path: Path, line: int) -> FieldSpec:
    lengths = {key: _length(row[key], key) for key in ("min_length", "max_length")}
    if kind not in ("text", "address") and any(v is not None for v in lengths.values()):
        raise ValueError("min_length/max_length belong to text and address fields")
    if kind in ("text", "address"):
        low, high = lengths["min_length"], lengths["max_length"]
        lengths = {"min_length": low if low is not None else (5 if kind == "address" else None),
                   "max_length": high if high is not None else 200}
        if lengths["max_length"] > MAX_TEXT:  # type: ignore[operator]
            raise ValueError(f"max_length is at most {MAX_TEXT}")
        if low is not None and low > lengths["max_length"]:  # type: ignore[operator]
            raise ValueError("min_length exceeds max_length")
    pattern = row["pattern"] or None
    if pattern is not None:
        if kind != "text":
            raise ValueError("pattern belongs to text fields")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern does not compile: {exc}") from None
    minimum, maximum = row["minimum"] or None, row["maximum"] or None
    if (minimum or maximum) and kind not in ("number", "date"):
        raise ValueError("minimum/maximum belong to number and date fields")
    for bound in (minimum, maximum):
        if bound is not None:
            _bound(kind, bound, dt.date(2000, 1, 1))
    choices = _choices(row["choices"]) if row["choices"] else ()
    if (kind == "choice") != bool(choices):
        raise ValueError("a choice field lists its choices (code:中文:English|…), others none")
    return FieldSpec(
        name, kind, _bool(row["required"], "required", path, line), row["label_zh"],
        row["label_en"], help_zh=row["help_zh"], help_en=row["help_en"], pattern=pattern,
        minimum=minimum, maximum=maximum, choices=choices, **lengths,
    )


def _length(text: str, key: str) -> int | None:
    if not text:
        return None
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"{key} must be a whole number, got {text!r}")
    return int(text)


def _choices(text: str) -> tuple[Choice, ...]:
    choices = []
    for part in text.split("|"):
        pieces = part.split(":")
        if len(pieces) != 3 or not all(p.strip() for p in pieces):
            raise ValueError(f"choice {part!r}: code:中文:English")
        code = pieces[0].strip()
        if not CODE_PATTERN.fullmatch(code):
            raise ValueError(f"choice code {code!r}: letters, digits, - or _")
        choices.append(Choice(code, pieces[1].strip(), pieces[2].strip()))
    if len({c.code for c in choices}) != len(choices):
        raise ValueError("a choice code is listed twice")
    return tuple(choices)


def _bound(kind: str, text: str, today: dt.date) -> Decimal | dt.date:
    if kind == "number":
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"bound {text!r} is not a number") from None
        if not value.is_finite():
            raise ValueError(f"bound {text!r} is not a number")
        return value
    if text == "today":
        return today
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"bound {text!r}: an ISO date (2026-01-31) or today") from None


def store_forms(session: Session, forms: Mapping[str, Sequence[FieldSpec]]) -> int:
    """Replace the stored form fields with ``forms`` (already validated); returns the count."""
    session.execute(delete(ItemFormField))
    count = 0
    for code, specs in forms.items():
        for position, spec in enumerate(specs):
            rules = spec.describe()
            for key in ("name", "type", "required", "label_zh", "label_en"):
                rules.pop(key)
            session.add(ItemFormField(
                item_code=code, position=position, name=spec.name, type=spec.type,
                required=spec.required, label_zh=spec.label_zh, label_en=spec.label_en,
                rules={k: v for k, v in rules.items() if v not in (None, "", [])},
            ))
            count += 1
    session.flush()
    return count


def item_fields(session: Session, item_code: str) -> tuple[FieldSpec, ...]:
    """The item's own fields (an active item; an item without any has the applicant section
    only)."""
    get_item(session, item_code)
    rows = session.scalars(
        select(ItemFormField).where(ItemFormField.item_code == item_code)
        .order_by(ItemFormField.position)
    )
    return tuple(row.spec() for row in rows)


def form_description(session: Session, item_code: str) -> dict[str, Any]:
    """The item, the applicant section and the item's own fields, as the pages draw them."""
    return {
        "item": item_summary(get_item(session, item_code)),
        "applicant": [f.describe() for f in APPLICANT],
        "fields": [f.describe() for f in item_fields(session, item_code)],
    }


# ---------------------------------------------------------------- run-time models


FIELD_CODES = ("missing_field", "too_short", "too_long", "pattern_mismatch", "out_of_range",
               "invalid_choice", "invalid_date", "invalid_number", "invalid_resident_id",
               "invalid_credit_code", "invalid_phone", "invalid_email", "invalid_field",
               "unknown_field")
"""What a refused field's ``code`` may be."""


def _fail(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message)


def _text_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _fail("invalid_field", "expected text")
    text = str(value).strip()
    if any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise _fail("invalid_field", "control characters are refused")
    return text or None


def _checker(spec: FieldSpec, today: dt.date) -> Callable[[Any], Any]:
    """The validator of one field: the value normalised, or a coded refusal."""

    def check(value: Any) -> Any:
        text = _text_value(value)
        if text is None:
            if spec.required:
                raise _fail("missing_field", "required")
            return None
        try:
            return _typed(spec, text, today)
        except HallError as exc:  # the identity validators' own codes
            raise _fail(exc.code, str(exc)) from None

    return check


def _typed(spec: FieldSpec, text: str, today: dt.date) -> Any:
    kind = spec.type
    if kind in ("text", "address"):
        if spec.min_length is not None and len(text) < spec.min_length:
            raise _fail("too_short", f"at least {spec.min_length} characters")
        if len(text) > (spec.max_length or 200):
            raise _fail("too_long", f"at most {spec.max_length or 200} characters")
        if spec.pattern is not None and not re.fullmatch(spec.pattern, text):
            raise _fail("pattern_mismatch", "does not match the required format")
        return text
    if kind == "choice":
        if text not in {c.code for c in spec.choices}:
            raise _fail("invalid_choice", "not one of the choices")
        return text
    if kind == "phone":
        return validate_phone(text)
    if kind == "id_number":
        return validate_resident_id(text, today=today)
    if kind == "number":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise _fail("invalid_number", "not a number") from None
        if not number.is_finite() or not text.isascii():
            raise _fail("invalid_number", "not a number")
        _in_range(spec, number, today)
        return str(number)
    try:
        day = dt.date.fromisoformat(text) if text.isascii() and len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise _fail("invalid_date", "a date as YYYY-MM-DD")
    _in_range(spec, day, today)
    return day.isoformat()


def _in_range(spec: FieldSpec, value: Decimal | dt.date, today: dt.date) -> None:
    low = _bound(spec.type, spec.minimum, today) if spec.minimum else None
    high = _bound(spec.type, spec.maximum, today) if spec.maximum else None
    if low is not None and value < low or high is not None and value > high:  # type: ignore[operator]
        raise _fail("out_of_range", f"between {spec.minimum or '…'} and {spec.maximum or '…'}")


@lru_cache(maxsize=256)
def section_model(name: str, specs: tuple[FieldSpec, ...], today: dt.date) -> type[BaseModel]:
    """A pydantic model of one section, built from its field descriptions (cached: the
    descriptions are values, and ``today`` moves the date bounds)."""
    fields: dict[str, Any] = {
        spec.name: (Annotated[Any, BeforeValidator(_checker(spec, today))], None)
        for spec in specs
    }
    return create_model(
        f"Form_{re.sub(r'[^A-Za-z0-9_]', '_', name)}",
        __config__=ConfigDict(extra="forbid", validate_default=True),
        **fields,
    )


@dataclass
class FilledForm:
    """A validated form: items, the applicant section and each item's own fields."""

    items: list[str]
    applicant: dict[str, Any]
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        return {"items": self.items, "applicant": self.applicant, "fields": self.fields}

    def paths(self) -> dict[str, Any]:
        """Every value by its path (``applicant.name``, ``fields.QY-01.capital``)."""
        out = {f"applicant.{k}": v for k, v in self.applicant.items()}
        for code, values in self.fields.items():
            out.update({f"fields.{code}.{k}": v for k, v in values.items()})
        return out


class FormRefused(InvalidInput):
    """The form has refused fields; ``errors`` lists each (field path, code, both labels)."""

    code = "invalid_form"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        first = errors[0]
        super().__init__(
            f"{len(errors)} field(s) to correct, first {first['field']}: {first['message']}",
            field=first["field"], errors=errors,
        )


def validate_form(session: Session, data: Mapping[str, Any], today: dt.date) -> FilledForm:
    """Check a whole form (``{"items", "applicant", "fields"}``) against the catalogue.

    Every refused field is reported at once (``FormRefused``), not only the first, so the
    citizen corrects the form in one go.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput("the form must be an object", code="bad_json")
    items = data.get("items")
    if (not isinstance(items, list) or not items or len(items) > MAX_ITEMS
            or not all(isinstance(i, str) for i in items)):
        raise InvalidInput(f"choose 1–{MAX_ITEMS} items", code="no_items", field="items")
    if len(set(items)) != len(items):
        raise InvalidInput("an item is listed twice", code="duplicate_item", field="items")
    unknown_keys = set(data) - {"items", "applicant", "fields"}
    if unknown_keys:
        raise InvalidInput(f"unknown part(s) {sorted(unknown_keys)}", code="invalid_field",
                           field=sorted(unknown_keys)[0])
    errors: list[dict[str, Any]] = []
    applicant = _section(session, "applicant", "applicant", _APPLICANT_MODEL,
                         data.get("applicant"), today, errors)
    if applicant is not None:
        _applicant_identity(applicant, today, errors)
    given = data.get("fields") or {}
    if not isinstance(given, Mapping):
        raise InvalidInput("fields must be an object per item", code="invalid_field",
                           field="fields")
    stray = sorted(set(given) - set(items))
    if stray:
        raise InvalidInput(f"fields of an item not chosen: {stray}", code="invalid_field",
                           field=f"fields.{stray[0]}")
    fields: dict[str, dict[str, Any]] = {}
    for code in items:
        specs = item_fields(session, code)
        values = _section(session, code, f"fields.{code}", specs, given.get(code), today, errors)
        if specs:
            fields[code] = values or {}
    if errors:
        raise FormRefused(errors)
    assert applicant is not None
    return FilledForm(list(items), applicant, fields)


def _section(
    session: Session, name: str, path: str, specs: tuple[FieldSpec, ...], values: Any,
    today: dt.date, errors: list[dict[str, Any]],
) -> dict[str, Any] | None:
    labels = {s.name: s for s in specs}
    try:
        model = section_model(name, specs, today)
        return model.model_validate(values or {}).model_dump()
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            key = str(error["loc"][0]) if error["loc"] else ""
            spec = labels.get(key)
            code = "unknown_field" if error["type"] == "extra_forbidden" else (
                error["type"] if error["type"] in FIELD_CODES else "invalid_field")
            errors.append({
                "field": f"{path}.{key}" if key else path,
                "code": code,
                "message": error["msg"],
                "label_zh": spec.label_zh if spec else key,
                "label_en": spec.label_en if spec else key,
            })
        return None


def _applicant_identity(applicant: dict[str, Any], today: dt.date,
                        errors: list[dict[str, Any]]) -> None:
    """The ID field holds a resident ID for a person, a credit code for an organisation; the
    e-mail, if given, looks like one."""
    spec = APPLICANT[2]
    try:
        applicant["id_number"] = (
            validate_credit_code(applicant["id_number"]) if applicant["kind"] == "organisation"
            else validate_resident_id(applicant["id_number"], today=today)
        )
    except HallError as exc:
        errors.append({"field": "applicant.id_number", "code": exc.code, "message": str(exc),
                       "label_zh": spec.label_zh, "label_en": spec.label_en})
    email = applicant.get("email")
    if email is not None and not EMAIL.fullmatch(email):
        errors.append({"field": "applicant.email", "code": "invalid_email",
                       "message": "not an e-mail address", "label_zh": APPLICANT[4].label_zh,
                       "label_en": APPLICANT[4].label_en})

