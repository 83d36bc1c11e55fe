"""Personal data at rest: resident ID numbers encrypted, still findable by a keyed hash.

PIPL counts resident ID numbers as sensitive personal information. They are
stored AES-256-GCM encrypted under a key kept outside the database (a file
in the instance folder, made once with mode 0600, or ``HALL_PII_KEY``), so a
copy of the database or a backup alone reveals none. Equality look-ups go
through a blind index: HMAC-SHA256 under a second key derived from the same
master key, stored beside the ciphertext.

Each value is bound to its column by a ``context`` string (the GCM
associated data and the HMAC's prefix): a ciphertext copied into another
column does not decrypt, and the same number has unrelated hashes in two
columns.

Wiring a column::

    applicant_id_number: Mapped[str] = mapped_column(EncryptedString("cases.applicant_id_number"))
    applicant_id_hash: Mapped[str] = mapped_column(String(64), index=True)

    @validates("applicant_id_number")
    def _index_id(self, _key, value):
        self.applicant_id_hash = blind_index(value, "cases.applicant_id_number")
        return value

and ``privacy.install(PersonalDataCipher.from_instance(app.instance_path))`` at start-up.
A record that copies a whole identity (a hand-off's payload) is an ``EncryptedJSON`` column.
Encrypted columns cannot be compared in SQL (every encryption differs): look
up by ``applicant_id_hash == blind_index(number, context)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import String, Text
from sqlalchemy.types import TypeDecorator

ENV_KEY = "HALL_PII_KEY"
KEY_FILE = "personal_data.key"
PREFIX = "v1:"


class PersonalDataKeyError(RuntimeError):
    """The personal-data key is missing, malformed or readable by others."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError) as exc:
        raise PersonalDataKeyError(f"{where}: not base64") from exc
    if len(key) != 32:
        raise PersonalDataKeyError(f"{where}: the key must be 32 bytes, got {len(key)}")
    return key


def new_key() -> str:
    """A fresh master key in the format of the key file and of ``HALL_PII_KEY``."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


class PersonalDataCipher:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise PersonalDataKeyError("the master key must be 32 bytes")
        self._aead = AESGCM(_derive(master_key, b"hall-ops personal data encryption v1"))
        self._index_key = _derive(master_key, b"hall-ops personal data blind index v1")

    @classmethod
    def from_instance(
        cls, instance: str | Path, *, environ: dict[str, str] | None = None
    ) -> PersonalDataCipher:
        """The key from ``HALL_PII_KEY`` if set, else ``<instance>/personal_data.key``,
        created on first use. Lose it and the encrypted numbers are gone: back it up
        apart from the database."""
        env = os.environ if environ is None else environ
        if env.get(ENV_KEY):
            return cls(_decode_key(env[ENV_KEY], ENV_KEY))
        path = Path(instance) / KEY_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            # Written aside, then linked into place: processes starting together all read
            # the one key that won, never a half-written file.
            draft = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(new_key() + "\n")
            try:
                os.link(draft, path)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise PersonalDataKeyError(
                f"{path}: readable by others (mode {stat.filemode(mode)}); chmod 600 it"
            )
        return cls(_decode_key(path.read_text(), str(path)))

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, stored: str, context: str) -> str:
        if not stored.startswith(PREFIX):
            raise ValueError(f"{context}: not an encrypted value")
        try:
            raw = base64.urlsafe_b64decode(stored[len(PREFIX) :].encode())
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise ValueError(f"{context}: cannot decrypt (wrong key or altered value)") from exc

    def blind_index(self, value: str, context: str) -> str:
        """Hex HMAC of the value, upper-cased and trimmed (ID numbers: 'x' is 'X')."""
        message = context.encode() + b"\x00" + value.strip().upper().encode()
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()


_installed: PersonalDataCipher | None = None


def install(cipher: PersonalDataCipher) -> None:
    """Make ``cipher`` the one encrypted columns use in this process (once, at start-up)."""
    global _installed
    _installed = cipher


def cipher() -> PersonalDataCipher:
    if _installed is None:
        raise RuntimeError("no personal-data key installed: call hall_ops.privacy.install() first")
    return _installed


def blind_index(value: str, context: str) -> str:
    return cipher().blind_index(value, context)


class EncryptedString(TypeDecorator[str]):
    """A string column stored encrypted with the installed cipher."""

    impl = String
    cache_ok = True

    def __init__(self, context: str, length: int = 200) -> None:
        super().__init__(length)
        self.context = context

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else cipher().encrypt(str(value), self.context)

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else cipher().decrypt(value, self.context)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document stored encrypted with the installed cipher: for records that carry a
    whole identity (a hand-off's applicant). It cannot be queried in SQL, only read back."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return cipher().encrypt(json.dumps(value, ensure_ascii=False), self.context)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else json.loads(cipher().decrypt(value, self.context))
