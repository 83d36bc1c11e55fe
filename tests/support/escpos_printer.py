"""A network ESC/POS printer for the tests: a real TCP listener (port 9100's protocol) that
keeps every byte it is sent and answers the real-time paper status ``DLE EOT 4`` with the
status byte of its paper: 0x12 paper ok, 0x1E near its end, 0x72 out."""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.support.server import free_port

DLE_EOT_PAPER = b"\x10\x04\x04"
STATUS = {"ok": 0x12, "low": 0x1E, "out": 0x72}


class EscposPrinterStub:
    def __init__(self) -> None:
        self.port = free_port()
        self.paper = "ok"
        self.jobs: list[bytes] = []
        """What each connection sent, status queries included."""
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        received = b""
        with conn:
            conn.settimeout(5)
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                received += chunk
                if chunk.endswith(DLE_EOT_PAPER):
                    conn.sendall(bytes([STATUS[self.paper]]))
        with self._lock:
            self.jobs.append(received)

    @property
    def printed(self) -> list[bytes]:
        """The jobs that were more than a status query."""
        with self._lock:
            return [j for j in self.jobs if j.replace(DLE_EOT_PAPER, b"")]

    def close(self) -> None:
        """Switched off: stops listening (shutdown wakes the accepting thread)."""
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
