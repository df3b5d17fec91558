"""Request limits on a real `storefront serve` (Granian): headers too large (431), a path
and query too long (414), JSON nested too deep (400), each in the error envelope; and
what Granian refuses itself, before the app sees the request."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import PG_URL
from tests.helpers import cli_env, free_port

# A process on the embedded default: the PostgreSQL pass would only repeat it.
pytestmark = pytest.mark.skipif(bool(PG_URL), reason="runs in the SQLite pass")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    cwd = tmp_path_factory.mktemp("limits")
    port = free_port()
    with (cwd / "serve.log").open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "storefront", "serve", "--port", str(port)],
            cwd=cwd,
            env=cli_env(STOREFRONT_SHUTDOWN_DRAIN_SECONDS="0"),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so its worker processes go with it
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (cwd / "serve.log").read_text()
            time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


async def exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP/1.1 request; the status, headers and body, read until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 15)  # every answer here closes the connection
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def get(target: str, extra: bytes = b"") -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: x\r\n".encode() + extra + b"Connection: close\r\n\r\n"


def post_json(body: bytes) -> bytes:
    return (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


def envelope(status: int, headers: dict[str, str], body: bytes, code: str) -> str:
    assert headers["content-type"] == "application/json", (status, headers, body)
    error = json.loads(body)["error"]
    assert error["code"] == code, error
    assert error["request_id"] == headers["x-request-id"]
    message: str = error["message"]
    return message


async def test_headers_over_the_limit_get_431_in_the_envelope(server: int) -> None:
    status, headers, body = await exchange(server, get("/api/v1/products", b"X-Big: " + b"a" * 20_000 + b"\r\n"))
    assert status == 431
    message = envelope(status, headers, body, "HEADERS_TOO_LARGE")
    assert message == "The request headers are larger than 16384 bytes in all"
    # Many ordinary headers count the same way.
    many = b"".join(b"X-Header-%d: %s\r\n" % (i, b"v" * 300) for i in range(60))
    status, headers, body = await exchange(server, get("/api/v1/products", many))
    assert status == 431
    envelope(status, headers, body, "HEADERS_TOO_LARGE")
    # Under the limit: served.
    status, _, _ = await exchange(server, get("/api/v1/products", b"X-Big: " + b"a" * 12_000 + b"\r\n"))
    assert status == 200


async def test_a_path_and_query_over_the_limit_get_414_in_the_envelope(server: int) -> None:
    status, headers, body = await exchange(server, get("/api/v1/products/search?q=" + "a" * 9000))
    assert status == 414
    assert envelope(status, headers, body, "URI_TOO_LONG") == "The path and query string are longer than 8192 bytes"
    status, headers, body = await exchange(server, get("/api/v1/" + "x" * 9000))
    assert status == 414
    # Under it, the route's own rules apply (q is at most 200 characters: 422).
    status, headers, body = await exchange(server, get("/api/v1/products/search?q=" + "a" * 7000))
    assert status == 422
    envelope(status, headers, body, "VALIDATION_ERROR")


async def test_json_nested_too_deep_gets_400_in_the_envelope(server: int) -> None:
    too_deep = b'{"email": ' + b"[" * 40 + b"]" * 40 + b', "password": "x"}'
    status, headers, body = await exchange(server, post_json(too_deep))
    assert status == 400
    assert envelope(status, headers, body, "BAD_REQUEST") == "The JSON body nests deeper than 32 levels"
    # 100,000 levels (Python's parser alone gives up near 1,000), and brackets in strings
    # do not count.
    status, headers, body = await exchange(server, post_json(b"[" * 100_000 + b"]" * 100_000))
    assert status == 400
    assert "nests deeper" in envelope(status, headers, body, "BAD_REQUEST")
    in_strings = json.dumps({"email": "[" * 100, "password": "{" * 100}).encode()
    status, headers, body = await exchange(server, post_json(in_strings))
    assert status == 401  # a login that failed, not a refused body
    envelope(status, headers, body, "UNAUTHENTICATED")
    deep_enough = b'{"email": ' + b"[" * 31 + b"]" * 31 + b', "password": "x"}'
    status, headers, body = await exchange(server, post_json(deep_enough))
    assert status == 422


async def test_what_granian_refuses_itself(server: int) -> None:
    """Past Granian's own limits the app never sees the request: Granian answers with
    an empty body and closes the connection. Pinned here so that an upgrade that
    changes it is noticed; the app's limits above are set below these."""
    fields = b"".join(b"X-H%d: v\r\n" % i for i in range(101))
    status, headers, body = await exchange(server, get("/api/v1/products", fields))
    assert (status, headers["connection"], body) == (431, "close", b"")
    status, headers, body = await exchange(server, get("/api/v1/products?q=" + "a" * 70_000))
    assert (status, headers["connection"], body) == (414, "close", b"")
    # A request that is not HTTP: a bad request line, a header without its colon, a
    # Content-Length that is not a number.
    for malformed in (
        b"GARBAGE\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n",
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    ):
        status, headers, body = await exchange(server, malformed)
        assert (status, body) == (400, b""), malformed
    # The process is unharmed.
    status, _, _ = await exchange(server, get("/health/live"))
    assert status == 200
