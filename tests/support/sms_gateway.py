"""A local SMS gateway for tests: a real HTTP server on loopback that checks signatures.

It answers ``SendSms`` as the mainland cloud SMS services do and checks a request the
way such a gateway does, written from their documentation rather than from our client:
known access key, signature method and version, a timestamp within 15 minutes, a nonce
never seen before, and the HMAC-SHA1 signature over the sorted, percent-encoded
parameters. ``down = True`` answers 503 (an outage the gateway itself reports);
``stop()`` and ``start()`` take the whole server away and back on the same port.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote

from tests.support.server import free_port


def _encode(value: str) -> str:
    return quote(value, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


class SmsGatewayStub:
    def __init__(self, access_key_id: str, access_key_secret: str, sign_name: str,
                 template_code: str, *more_templates: str) -> None:
        self.keys = {access_key_id: access_key_secret}
        self.sign_name = sign_name
        self.template_code = template_code
        self.templates = {template_code, *more_templates}
        """The provider's approved templates (result notice, silent calling's queue SMS)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.down = False
        self.accepted: list[dict[str, str]] = []
        self.rejected: list[str] = []
        self.nonces: set[str] = set()
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def check(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        signature = params.pop("Signature", "")
        secret = self.keys.get(params.get("AccessKeyId", ""))
        if secret is None:
            return 403, {"Code": "InvalidAccessKeyId.NotFound"}
        if (params.get("SignatureMethod"), params.get("SignatureVersion")) != ("HMAC-SHA1", "1.0"):
            return 400, {"Code": "InvalidSignatureMethod"}
        canonical = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params.items()))
        to_sign = "POST&%2F&" + _encode(canonical)
        expected = base64.b64encode(
            hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
        if not hmac.compare_digest(expected, signature):
            return 400, {"Code": "SignatureDoesNotMatch"}
        sent = dt.datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%SZ")
        if abs(dt.datetime.now(dt.UTC).replace(tzinfo=None) - sent) > dt.timedelta(minutes=15):
            return 400, {"Code": "InvalidTimeStamp.Expired"}
        with self.lock:
            if params["SignatureNonce"] in self.nonces:
                return 400, {"Code": "SignatureNonceUsed"}
            self.nonces.add(params["SignatureNonce"])
        if params.get("Action") != "SendSms":
            return 400, {"Code": "InvalidAction"}
        if params.get("SignName") != self.sign_name:
            return 400, {"Code": "isv.SMS_SIGNATURE_ILLEGAL"}
        if params.get("TemplateCode") not in self.templates:
            return 400, {"Code": "isv.SMS_TEMPLATE_ILLEGAL"}
        json.loads(params["TemplateParam"])
        with self.lock:
            self.accepted.append(params)
        return 200, {"Code": "OK", "Message": "OK", "BizId": uuid.uuid4().hex,
                     "RequestId": uuid.uuid4().hex}

    def start(self) -> SmsGatewayStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if stub.down:
                    status, answer = 503, {"Code": "ServiceUnavailable"}
                else:
                    status, answer = stub.check(dict(parse_qsl(body, keep_blank_values=True)))
                    if status != 200:
                        stub.rejected.append(answer["Code"])
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> SmsGatewayStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
