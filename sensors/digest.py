"""The server side of HTTP digest authentication (RFC 7616: MD5, qop=auth), for the simulators.

Cameras protect snapshots, vendor HTTP APIs and (in digest mode) ONVIF calls
this way; the simulated cameras check it as strictly, so the clients' digest
handling is tested for real.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import deque


def split_header(value: str) -> list[str]:
    """Split a digest header's comma list, leaving commas inside quotes alone."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


class DigestChecker:
    """Issues challenges and checks the answers for one user."""

    def __init__(self, user: str, password: str, realm: str) -> None:
        self.user, self.password, self.realm = user, password, realm
        self._nonces: deque[str] = deque(maxlen=100)
        self._lock = threading.Lock()

    def challenge(self) -> str:
        """A WWW-Authenticate header value with a fresh nonce."""
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces.append(nonce)
        return f'Digest realm="{self.realm}", qop="auth", algorithm=MD5, nonce="{nonce}"'

    def check(self, method: str, header: str | None) -> bool:
        if not header or not header.startswith("Digest "):
            return False
        params: dict[str, str] = {}
        for part in split_header(header[len("Digest "):]):
            key, _, value = part.partition("=")
            params[key.strip()] = value.strip().strip('"')
        with self._lock:
            known = params.get("nonce") in self._nonces
        if not known or params.get("username") != self.user or params.get("qop") != "auth":
            return False
        ha1 = hashlib.md5(f"{self.user}:{params.get('realm')}:{self.password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"{method}:{params.get('uri')}".encode()).hexdigest()
        expected = hashlib.md5(
            f"{ha1}:{params['nonce']}:{params.get('nc')}:{params.get('cnonce')}:auth:{ha2}".encode()
        ).hexdigest()
        return hmac.compare_digest(expected, params.get("response", ""))
