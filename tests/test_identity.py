"""Identity validators and masking: check digits catch the slips a clerk makes."""

from __future__ import annotations

import datetime as dt

import pytest

from hall_ops.cases.identity import (
    CREDIT_CODE_ALPHABET,
    mask_id,
    mask_name,
    mask_phone,
    resident_id_check_char,
    validate_credit_code,
    validate_phone,
    validate_resident_id,
)
from hall_ops.errors import InvalidInput

# The example number printed in GB 11643-1999 and the example code of GB 32100-2015.
STANDARD_ID = "11010519491231002X"
STANDARD_CREDIT_CODE = "91350100M000100Y43"
OTHER_IDS = ["330106198507201239", "44030420000229009X", "510104196812050029"]
TODAY = dt.date(2026, 11, 25)


def _rejects_id(number: str) -> bool:
    try:
        validate_resident_id(number, today=TODAY)
    except InvalidInput as exc:
        assert exc.code == "invalid_resident_id"
        return True
    return False


def test_standard_examples_are_valid_and_normalised():
    assert validate_resident_id(STANDARD_ID) == STANDARD_ID
    assert validate_resident_id(" 11010519491231002x ") == STANDARD_ID
    assert validate_credit_code(STANDARD_CREDIT_CODE) == STANDARD_CREDIT_CODE
    assert validate_credit_code(STANDARD_CREDIT_CODE.lower()) == STANDARD_CREDIT_CODE
    for number in OTHER_IDS:
        assert validate_resident_id(number, today=TODAY) == number


@pytest.mark.parametrize("number", [STANDARD_ID, *OTHER_IDS])
def test_every_single_digit_slip_in_a_resident_id_is_caught(number):
    for pos in range(17):
        for digit in "0123456789":
            if digit != number[pos]:
                assert _rejects_id(number[:pos] + digit + number[pos + 1 :]), (pos, digit)
    for check in "0123456789X":
        if check != number[17]:
            assert _rejects_id(number[:17] + check)


@pytest.mark.parametrize("number", [STANDARD_ID, *OTHER_IDS])
def test_every_adjacent_swap_in_a_resident_id_is_caught(number):
    for pos in range(16):
        a, b = number[pos], number[pos + 1]
        if a != b:
            assert _rejects_id(number[:pos] + b + a + number[pos + 2 :]), pos


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("11010519491231002", "17 digits"),
        ("1101051949123100XX", "17 digits"),
        ("001105194912310027", "region"),  # no province 00
        ("110105194902300025", "birth date"),  # 30 February
        ("110105203001010016", "birth date"),  # born after today
        ("440524188001010014", "birth date"),  # valid check digit, born 1880
    ],
)
def test_resident_id_reasons(number, reason):
    # Give each a correct check digit, so the test shows the named reason is what fails.
    valid_body = len(number) == 18 and number[:17].isdigit()
    fixed = number[:17] + resident_id_check_char(number[:17]) if valid_body else number
    with pytest.raises(InvalidInput) as err:
        validate_resident_id(fixed, today=TODAY)
    assert reason in err.value.message


def test_every_single_character_slip_in_a_credit_code_is_caught():
    code = STANDARD_CREDIT_CODE
    for pos in range(18):
        for char in CREDIT_CODE_ALPHABET:
            if char != code[pos]:
                with pytest.raises(InvalidInput) as err:
                    validate_credit_code(code[:pos] + char + code[pos + 1 :])
                assert err.value.code == "invalid_credit_code"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100I43", "not allowed: I"),  # I, O, S, V, Z are not in the alphabet
        ("91350100M00O100Y43", "not allowed: O"),
        ("913501A0M000100Y43", "region"),
    ],
)
def test_credit_code_reasons(code, reason):
    with pytest.raises(InvalidInput) as err:
        validate_credit_code(code)
    assert reason in err.value.message


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("008619912345678", "19912345678"),
        ("0571-87654321", "057187654321"),
        ("010 12345678", "01012345678"),
    ],
)
def test_phone_numbers_are_normalised(raw, stored):
    assert validate_phone(raw) == stored


@pytest.mark.parametrize(
    "raw", ["12345678901", "1380013800", "138001380001", "87654321", "", "phone"]
)
def test_bad_phone_numbers(raw):
    with pytest.raises(InvalidInput) as err:
        validate_phone(raw)
    assert err.value.code == "invalid_phone"


def test_masking():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("李") == "李"
    assert mask_id(STANDARD_ID) == "1" + "*" * 16 + "X"
    assert mask_id(STANDARD_CREDIT_CODE, keep_start=2, keep_end=2) == "91" + "*" * 14 + "43"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("057187654321") == "0571****4321"
    assert mask_phone("01012345678") == "010****5678"
