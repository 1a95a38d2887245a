"""The HTTP SMS driver against a real (loopback) gateway."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from academail.notify import HttpSms


class _Gateway(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str]]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        type(self).received.append((self.headers["Authorization"], body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    _Gateway.received = []
    _Gateway.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms"
    server.shutdown()
    server.server_close()


async def test_sends_json_with_bearer_token(gateway: str):
    error = await HttpSms(gateway, "jeton-secret").send("+33612345678", "Code : 123456")
    assert error is None
    assert _Gateway.received == [
        ("Bearer jeton-secret", {"to": "+33612345678", "text": "Code : 123456"})
    ]


async def test_gateway_errors_are_reported_not_raised(gateway: str):
    _Gateway.status = 503
    assert await HttpSms(gateway, "t").send("+33612345678", "x") is not None
    assert (
        await HttpSms("http://127.0.0.1:9/none", "t", timeout=2).send("+33612345678", "x")
        is not None
    )
