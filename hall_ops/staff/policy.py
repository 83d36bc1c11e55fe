"""How staff credentials are checked: lockout thresholds and the password hasher.

Read from the ``[security]`` table of config.toml; every key is optional.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hall_ops.config import ConfigError, HallConfig

DEFAULT_HALL = "main"


def hall_code(config: HallConfig) -> str:
    """The hall's code (``[hall] code``): the scope of its grants, windows and devices."""
    return config.sections.hall.code


@dataclass(frozen=True)
class StaffPolicy:
    hall: str = DEFAULT_HALL
    max_failures: int = 5
    """Wrong passwords (or PINs) in a row before the account (or PIN) locks."""
    lockout: dt.timedelta = dt.timedelta(minutes=15)
    min_password_length: int = 8
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    """argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile)."""

    @classmethod
    def from_config(cls, config: HallConfig, **overrides: Any) -> StaffPolicy:
        section = config.sections.security.model_dump(exclude_none=True)
        values: dict[str, Any] = {"hall": hall_code(config)}
        for key in ("max_failures", "min_password_length"):
            if key in section:
                values[key] = _positive_int(section, key)
        if "lockout_minutes" in section:
            values["lockout"] = dt.timedelta(minutes=_positive_int(section, "lockout_minutes"))
        return cls(**{**values, **overrides})

    def hash(self, secret: str) -> str:
        return self.hasher.hash(secret)

    def verify(self, stored: str | None, secret: str) -> bool:
        """Constant work whether or not there is a stored hash, so timing does not tell
        a known login from an unknown one."""
        try:
            return self.hasher.verify(stored or self._dummy_hash, secret) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)

    @cached_property
    def _dummy_hash(self) -> str:
        return self.hasher.hash("no such account")


def _positive_int(section: Mapping[str, Any], key: str) -> int:
    value = section[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"[security]: '{key}' must be a positive whole number")
    return value
