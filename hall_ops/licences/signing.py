"""Signatures of e-licences: one ``Signer`` protocol, SM2/SM3 and Ed25519 behind it.

The national e-licence scheme (GB/T 36901-2018 and the standards around it) signs with
SM2 over an SM3 digest, so SM2 is the default; Ed25519 (``cryptography``) is the other
implementation, so the algorithm can be swapped per installation (``[licences]
algorithm``) and licences of either kind keep verifying: every signature names its
algorithm.

Each issuing department has its own key pair, made on first use. Private keys live in the
instance folder (``instance/licence_keys/<department>.<algorithm>.key``, mode 0600), never
in the database; public keys are published (``GET /api/v1/licences/keys``) so anyone can
check a licence offline.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from gmssl import func, sm2

ALGORITHMS = ("sm2", "ed25519")
KEYS_FOLDER = "licence_keys"
_DEPARTMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class SigningKeyError(RuntimeError):
    """A key file is missing, malformed or readable by others."""


class Signer(Protocol):
    """Signs with one private key; ``public_key`` is what verifiers are given (text)."""

    algorithm: str
    public_key: str

    def sign(self, data: bytes) -> bytes: ...


class Verifier(Protocol):
    def __call__(self, public_key: str, data: bytes, signature: bytes) -> bool: ...


# ---------------------------------------------------------------- SM2 with SM3 (gmssl)


class SM2Signer:
    """SM2 signature over SM3(Z_A || message), Z_A with the standard's default user ID
    (``CryptSM2.sign_with_sm3``); keys as hex: private d (64 digits), public x‖y (128)."""

    algorithm = "sm2"

    def __init__(self, private_key: str) -> None:
        self._private = private_key
        probe = sm2.CryptSM2(private_key=private_key, public_key="")
        point = probe._kg(int(private_key, 16), sm2.default_ecc_table["g"])
        self.public_key: str = point
        self._crypt = sm2.CryptSM2(private_key=private_key, public_key=point)

    @staticmethod
    def new_private_key() -> str:
        """A uniformly random d in [1, n-2], as hex."""
        n = int(sm2.default_ecc_table["n"], 16)
        return f"{secrets.randbelow(n - 2) + 1:064x}"

    def sign(self, data: bytes) -> bytes:
        k = func.random_hex(self._crypt.para_len)
        return bytes.fromhex(self._crypt.sign_with_sm3(data, k))


def verify_sm2(public_key: str, data: bytes, signature: bytes) -> bool:
    if not re.fullmatch(r"[0-9a-fA-F]{128}", public_key) or len(signature) != 64:
        return False
    crypt = sm2.CryptSM2(private_key="", public_key=public_key)
    try:
        return bool(crypt.verify_with_sm3(signature.hex(), data))
    except (ValueError, ZeroDivisionError, TypeError):
        return False


# ---------------------------------------------------------------- Ed25519 (cryptography)


class Ed25519Signer:
    """Ed25519; keys as base64 of the raw 32 bytes."""

    algorithm = "ed25519"

    def __init__(self, private_key: str) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key))
        raw = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public_key: str = base64.b64encode(raw).decode()

    @staticmethod
    def new_private_key() -> str:
        raw = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return base64.b64encode(raw).decode()

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)


def verify_ed25519(public_key: str, data: bytes, signature: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


SIGNERS: dict[str, type[SM2Signer] | type[Ed25519Signer]] = {
    "sm2": SM2Signer, "ed25519": Ed25519Signer,
}
VERIFIERS: dict[str, Verifier] = {"sm2": verify_sm2, "ed25519": verify_ed25519}


def verify(algorithm: str, public_key: str, data: bytes, signature: bytes) -> bool:
    """True only for a signature by ``public_key``'s private key over ``data``."""
    verifier = VERIFIERS.get(algorithm)
    return verifier is not None and verifier(public_key, data, signature)


def make_signer(algorithm: str, private_key: str) -> Signer:
    if algorithm not in SIGNERS:
        raise SigningKeyError(f"unknown signature algorithm {algorithm!r}; one of {ALGORITHMS}")
    signer: Signer = SIGNERS[algorithm](private_key)
    return signer


# ---------------------------------------------------------------- department keys


@dataclass
class Keyring:
    """The departments' signing keys in ``<instance>/licence_keys``; a department's key pair
    is made the first time it signs (written aside and linked into place, so two processes
    starting together end with one key)."""

    folder: Path
    algorithm: str = "sm2"

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise SigningKeyError(f"unknown signature algorithm {self.algorithm!r}")
        self._cache: dict[tuple[str, str], Signer] = {}

    @classmethod
    def in_instance(cls, instance: str | Path, algorithm: str = "sm2") -> Keyring:
        return cls(Path(instance) / KEYS_FOLDER, algorithm)

    def signer(self, department: str, algorithm: str | None = None) -> Signer:
        algorithm = algorithm or self.algorithm
        if not _DEPARTMENT.fullmatch(department):
            raise SigningKeyError(f"not a department code: {department!r}")
        cached = self._cache.get((department, algorithm))
        if cached is not None:
            return cached
        path = self.folder / f"{department}.{algorithm}.key"
        if not path.exists():
            self._create(path, SIGNERS[algorithm].new_private_key())
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SigningKeyError(f"{path}: readable by others; chmod 600 it")
        try:
            signer = make_signer(algorithm, path.read_text().strip())
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"{path}: not a {algorithm} private key") from exc
        self._cache[(department, algorithm)] = signer
        return signer

    def _create(self, path: Path, private_key: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(private_key + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()


_installed: Keyring | None = None


def install(keyring: Keyring) -> None:
    """The keyring this process signs with (once, at start-up, like ``privacy.install``)."""
    global _installed
    _installed = keyring


def keyring() -> Keyring:
    if _installed is None:
        raise RuntimeError("no licence keyring installed: call hall_ops.licences.signing.install()")
    return _installed
