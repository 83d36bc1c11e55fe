"""Clerk PINs: stored only as salted PBKDF2 hashes (config.toml and database)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

_ITERATIONS = 200_000


def hash_pin(pin: str, *, salt: str | None = None, iterations: int = _ITERATIONS) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt}${digest}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    candidate = hash_pin(pin, salt=salt, iterations=int(iterations)).rsplit("$", 1)[1]
    return hmac.compare_digest(candidate, digest)


if __name__ == "__main__":
    import getpass

    print(hash_pin(getpass.getpass("PIN: ")))
