"""Identity numbers of applicants: checked at the window, masked on anything printed.

A typo in a resident ID or credit code found at intake costs the citizen a
second trip later, when the department rejects the case; the check digits
catch almost every single-character slip, so we verify them up front.
Validators return the normalised value or raise ``InvalidInput`` with a
stable code and the reason.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from hall_ops.errors import InvalidInput

# ---------------------------------------------------------------- resident ID (GB 11643-1999)

PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82", "83",
    }
)
"""First two digits of the address code: provinces, plus 71/81/82/83 for Taiwan, Hong
Kong and Macao (residence permits of Hong Kong, Macao and Taiwan residents)."""

_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK = "10X98765432"


def resident_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def validate_resident_id(value: str, *, today: dt.date | None = None) -> str:
    """An 18-character mainland resident ID number, upper-cased ('x' → 'X').

    ``today`` rejects birth dates in the future (pass the hall's local date).
    """
    number = value.strip().upper() if isinstance(value, str) else ""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise _bad_id("a resident ID number has 17 digits and a final digit or X")
    # Only residence permits (71/81/82/83) carry a bare province code.
    if number[:2] not in PROVINCE_CODES or (number[2:6] == "0000" and number[:2] < "71"):
        raise _bad_id(f"unknown region code {number[:6]}")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _bad_id(f"invalid birth date {number[6:14]}") from None
    if birth.year < 1900 or today is not None and birth > today:
        raise _bad_id(f"implausible birth date {birth.isoformat()}")
    if resident_id_check_char(number[:17]) != number[17]:
        raise _bad_id("check digit does not match")
    return number


def _bad_id(reason: str) -> InvalidInput:
    return InvalidInput(f"invalid resident ID number: {reason}", code="invalid_resident_id")


# ---------------------------------------------------------------- credit code (GB 32100-2015)

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters a credit code may use: digits and capitals without I, O, S, V, Z."""

_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def credit_code_check_char(first17: str) -> str:
    values = (CREDIT_CODE_ALPHABET.index(c) for c in first17)
    total = sum(v * w for v, w in zip(values, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """An 18-character unified social credit code of an organisation, upper-cased."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if len(code) != 18:
        raise _bad_code("a credit code has 18 characters")
    wrong = sorted({c for c in code if c not in CREDIT_CODE_ALPHABET})
    if wrong:
        raise _bad_code(f"characters not allowed: {''.join(wrong)}")
    if not code[2:8].isdigit():
        raise _bad_code("characters 3 to 8 must be the region code (digits)")
    if credit_code_check_char(code[:17]) != code[17]:
        raise _bad_code("check character does not match")
    return code


def _bad_code(reason: str) -> InvalidInput:
    return InvalidInput(f"invalid unified social credit code: {reason}", code="invalid_credit_code")


# ---------------------------------------------------------------- phone


def validate_phone(value: str) -> str:
    """A mainland mobile (11 digits, 1[3-9]…) or a landline with area code (0…).

    Spaces and hyphens are dropped, and a +86 / 0086 prefix of a mobile number,
    so the stored form is digits only and the same number always compares equal.
    """
    digits = re.sub(r"[\s-]", "", value) if isinstance(value, str) else ""
    digits = re.sub(r"^(\+86|0086)(?=1)", "", digits)
    if re.fullmatch(r"1[3-9]\d{9}", digits) or re.fullmatch(r"0[1-9]\d{8,10}", digits):
        return digits
    raise InvalidInput(
        "invalid phone number: give an 11-digit mobile or a landline with area code",
        code="invalid_phone",
    )


# ---------------------------------------------------------------- masking (slips, screens, logs)


def mask_name(name: str) -> str:
    """Keep the first character: 张三 → 张*, 欧阳娜娜 → 欧***."""
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1)


def mask_id(number: str, *, keep_start: int = 1, keep_end: int = 1) -> str:
    """Keep the first and last characters of an ID number: 1****************X."""
    if len(number) <= keep_start + keep_end:
        return "*" * len(number)
    return number[:keep_start] + "*" * (len(number) - keep_start - keep_end) + number[-keep_end:]


def mask_phone(phone: str) -> str:
    """Mobile 138****5678; a landline keeps its area code and last four digits."""
    if len(phone) == 11 and phone.startswith("1"):
        return mask_id(phone, keep_start=3, keep_end=4)
    area = 3 if phone[:2] in {"01", "02"} else 4
    return mask_id(phone, keep_start=area, keep_end=4)


def masked_applicant(applicant: Mapping[str, Any]) -> dict[str, Any]:
    """An applicant ``{kind, name, id_number, phone}`` as screens, lists and paper show it.

    A person's name and ID number are masked; an organisation's name and credit code are
    public registration data and stay. The phone is masked either way.
    """
    masked = dict(applicant)
    if applicant.get("kind") == "person":
        masked["name"] = mask_name(str(applicant.get("name", "")))
        masked["id_number"] = mask_id(str(applicant.get("id_number", "")))
    masked["phone"] = mask_phone(str(applicant.get("phone", "")))
    return masked
