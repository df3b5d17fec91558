"""Compare ASGI servers for ``storefront serve``: uvicorn (uvloop + httptools) against granian (ASGI).

Each measured run gets a fresh server: a new empty working directory (so a new SQLite
database and data dir), ``storefront db upgrade`` run in it, the server started as a
subprocess on a free loopback port, a warm-up per endpoint, then one wrk run per
endpoint, then a clean stop. Servers alternate run by run (A B A B ...) to spread the
noise of a shared machine, and the summary reports medians.

Run from the project root (granian comes from the ``bench`` group)::

    uv sync --group bench
    uv run python bench/asgi_servers.py                       # full scale
    uv run python bench/asgi_servers.py --runs 1 --duration 2  # smoke

The app's source is frozen at start: a copy of ``src/`` (``--source worktree``, the default)
or of the last commit (``--source head``) is put first on the servers' PYTHONPATH, so edits
made while the benchmark runs cannot change what is measured half-way through.

Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

HOST = "127.0.0.1"
APP = "storefront.app:create_app"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = PROJECT_ROOT / "bench" / "results" / "asgi_servers.json"
SERVERS = ("uvicorn", "granian")
ENDPOINTS = ("/health", "/health/live")
LOG_LEVELS = ("WARNING", "INFO")
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
# Environment prefixes that could change what is measured; the benchmark sets its own.
SCRUBBED_ENV_PREFIXES = ("STOREFRONT_", "GRANIAN_", "UVICORN_", "WEB_CONCURRENCY")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


@dataclass(frozen=True)
class WrkResult:
    requests_per_sec: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: dict[str, int]


@dataclass(frozen=True)
class RunRecord:
    log_level: str
    endpoint: str
    server: str
    round: int
    started_at: str
    loadavg_1m_before: float
    server_cpu_percent: float
    wrk: WrkResult


@dataclass
class Summary:
    log_level: str
    endpoint: str
    server: str
    runs: int
    rps_median: float
    p50_ms_median: float
    p99_ms_median: float
    server_cpu_percent_median: float
    rps_per_server_core_median: float
    rps_all: list[float] = field(default_factory=list)
    errors: int = 0


@dataclass(frozen=True)
class Options:
    runs: int
    duration: int
    warmup: int
    threads: int
    connections: int
    servers: tuple[str, ...]
    endpoints: tuple[str, ...]
    log_levels: tuple[str, ...]
    source: str
    output: Path


# --- wrk ------------------------------------------------------------------------------------

_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def parse_wrk(output: str) -> WrkResult:
    """Requests/s, latency percentiles and error counts from ``wrk --latency`` output."""
    percentiles = {float(p): float(value) * _TIME_UNITS_MS[unit] for p, value, unit in _PERCENTILE.findall(output)}
    rps = _RPS.search(output)
    total = _TOTAL.search(output)
    missing = [p for p in (50.0, 75.0, 90.0, 99.0) if p not in percentiles]
    if rps is None or total is None or missing:
        raise BenchError(f"cannot parse wrk output (was --latency given?):\n{output}")
    non_2xx = _NON_2XX.search(output)
    sock = _SOCKET_ERRORS.search(output)
    socket_errors = (
        dict(zip(("connect", "read", "write", "timeout"), (int(n) for n in sock.groups()), strict=True)) if sock else {}
    )
    return WrkResult(
        requests_per_sec=float(rps.group(1)),
        p50_ms=percentiles[50.0],
        p75_ms=percentiles[75.0],
        p90_ms=percentiles[90.0],
        p99_ms=percentiles[99.0],
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=socket_errors,
    )


def wrk_argv(wrk: str, opts: Options, port: int, endpoint: str, duration: int) -> list[str]:
    return [
        wrk,
        f"-t{opts.threads}",
        f"-c{opts.connections}",
        f"-d{duration}s",
        "--latency",
        f"http://{HOST}:{port}{endpoint}",
    ]


def run_wrk(argv: list[str], duration: int) -> WrkResult:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk(done.stdout)


# --- servers --------------------------------------------------------------------------------


def granian_supports_uvloop() -> bool:
    """Whether this granian has ``--loop uvloop`` (older releases had no --loop option)."""
    done = subprocess.run(
        [sys.executable, "-m", "granian", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    return done.returncode == 0 and re.search(r"--loop \[[^\]]*\buvloop\b", done.stdout) is not None


def server_argv(server: str, port: int | str, *, granian_uvloop: bool) -> list[str]:
    """One worker, no reload, loopback only. uvicorn mirrors what ``storefront serve`` passes."""
    if server == "uvicorn":
        return [
            sys.executable, "-m", "uvicorn", APP, "--factory",
            "--host", HOST, "--port", str(port), "--workers", "1",
            "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--no-server-header", "--proxy-headers",
        ]  # fmt: skip
    if server == "granian":
        loop = ["--loop", "uvloop"] if granian_uvloop else []
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
            "--host", HOST, "--port", str(port), "--workers", "1",
            *loop, "--no-access-log", APP,
        ]  # fmt: skip
    raise BenchError(f"unknown server {server!r}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(log_level: str, app_src: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_ENV_PREFIXES)}
    env["STOREFRONT_LOG_LEVEL"] = log_level
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(app_src), env.get("PYTHONPATH", "")) if p)
    return env


def git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(PROJECT_ROOT), *args], capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def snapshot_source(source: str, into: Path) -> dict[str, str]:
    """Copy the app's code (``src/``) as it is now, or as committed, into ``into``/src."""
    target = into / "src"
    if source == "head":
        archive = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "archive", "--format=tar", "HEAD", "src"],
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            raise BenchError(f"git archive HEAD failed: {archive.stderr.decode(errors='replace').strip()}")
        archive_path = into / "src.tar"
        archive_path.write_bytes(archive.stdout)
        with tarfile.open(archive_path) as tar:
            tar.extractall(into, filter="data")
    else:
        shutil.copytree(PROJECT_ROOT / "src", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    check = subprocess.run(
        [sys.executable, "-c", "import storefront.app, sys; sys.stdout.write(storefront.app.__file__ or '')"],
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0 or not check.stdout.startswith(str(target)):
        raise BenchError(f"the {source} snapshot of storefront does not import from {target}:\n{check.stderr}")
    dirty = bool(git("status", "--porcelain", "--", "src"))
    return {
        "source": source,
        "commit": git("rev-parse", "HEAD"),
        "includes_uncommitted_changes": "yes" if source == "worktree" and dirty else "no",
    }


def upgrade_database(workdir: Path, env: dict[str, str], log: IO[str]) -> None:
    uv = shutil.which("uv")
    argv = (
        [uv, "run", "--project", str(PROJECT_ROOT), "storefront", "db", "upgrade"]
        if uv
        else [str(Path(sys.executable).with_name("storefront")), "db", "upgrade"]
    )
    done = subprocess.run(argv, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=300, check=False)
    if done.returncode != 0:
        raise BenchError(f"`{' '.join(argv)}` failed with exit code {done.returncode}")


def session_pids(sid: int) -> list[int]:
    """Every live process in the server's session (the server and, for granian, its worker)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[3]) == sid:  # fields[3] is the session id (field 6 of /proc/PID/stat)
            pids.append(int(entry.name))
    return pids


def session_cpu_seconds(sid: int) -> float:
    ticks = 0
    for pid in session_pids(sid):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / CLOCK_TICKS


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def wait_until_healthy(proc: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    url = f"http://{HOST}:{port}/health"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited with {proc.returncode} before answering:\n{tail(log_path)}")
        try:
            with _NO_PROXY_OPENER.open(url, timeout=1) as response:
                body = json.loads(response.read())
                if response.status == 200 and body == {"status": "healthy"}:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            pass
        time.sleep(0.1)
    raise BenchError(f"server did not answer {url} within {STARTUP_TIMEOUT_S:.0f}s:\n{tail(log_path)}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM for a graceful stop; SIGKILL to the whole session only if it will not go."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            print(f"  server {proc.pid} ignored SIGTERM for {STOP_TIMEOUT_S:.0f}s; killing it", file=sys.stderr)
    # Granian's worker is a child of the server: make sure nothing of the session is left.
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while session_pids(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if session_pids(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=STOP_TIMEOUT_S)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def running_server(server: str, log_level: str, app_src: Path, *, granian_uvloop: bool) -> Iterator[tuple[int, int]]:
    """A fresh server in a fresh empty directory; yields (port, session id)."""
    with tempfile.TemporaryDirectory(prefix=f"storefront-bench-{server}-") as tmp:
        workdir = Path(tmp)
        env = server_env(log_level, app_src)
        log_path = workdir / "server.log"
        with log_path.open("w") as log:
            upgrade_database(workdir, env, log)
            port = free_port()
            argv = server_argv(server, port, granian_uvloop=granian_uvloop)
            proc = subprocess.Popen(
                argv, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            try:
                wait_until_healthy(proc, port, log_path)
                yield port, proc.pid
            finally:
                stop_server(proc)
        if proc.returncode not in (0, -signal.SIGTERM):
            print(f"  note: {server} exited with {proc.returncode}:\n{tail(log_path, 10)}", file=sys.stderr)


# --- the benchmark --------------------------------------------------------------------------


def measure_session(
    server: str, log_level: str, round_no: int, opts: Options, wrk: str, app_src: Path, *, granian_uvloop: bool
) -> list[RunRecord]:
    records = []
    with running_server(server, log_level, app_src, granian_uvloop=granian_uvloop) as (port, sid):
        for endpoint in opts.endpoints:
            if opts.warmup > 0:
                run_wrk(wrk_argv(wrk, opts, port, endpoint, opts.warmup), opts.warmup)
        for endpoint in opts.endpoints:
            load = os.getloadavg()[0]
            started_at = datetime.now(UTC).isoformat(timespec="seconds")
            cpu_before, wall_before = session_cpu_seconds(sid), time.monotonic()
            result = run_wrk(wrk_argv(wrk, opts, port, endpoint, opts.duration), opts.duration)
            cpu = session_cpu_seconds(sid) - cpu_before
            wall = time.monotonic() - wall_before
            record = RunRecord(
                log_level=log_level,
                endpoint=endpoint,
                server=server,
                round=round_no,
                started_at=started_at,
                loadavg_1m_before=round(load, 2),
                server_cpu_percent=round(100 * cpu / wall, 1),
                wrk=result,
            )
            errors = result.non_2xx + sum(result.socket_errors.values())
            print(
                f"  {log_level:<7} {endpoint:<13} {server:<8} run {round_no}: {result.requests_per_sec:>9.0f} rps  "
                f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  cpu {record.server_cpu_percent:5.1f}%"
                f"  load {load:4.2f}" + (f"  ERRORS {errors}" if errors else ""),
                flush=True,
            )
            records.append(record)
    return records


def summarise(records: Sequence[RunRecord], opts: Options) -> list[Summary]:
    summaries = []
    for level in opts.log_levels:
        for endpoint in opts.endpoints:
            for server in opts.servers:
                runs = [r for r in records if (r.log_level, r.endpoint, r.server) == (level, endpoint, server)]
                if not runs:
                    continue
                summaries.append(
                    Summary(
                        log_level=level,
                        endpoint=endpoint,
                        server=server,
                        runs=len(runs),
                        rps_median=round(statistics.median(r.wrk.requests_per_sec for r in runs), 1),
                        p50_ms_median=round(statistics.median(r.wrk.p50_ms for r in runs), 3),
                        p99_ms_median=round(statistics.median(r.wrk.p99_ms for r in runs), 3),
                        server_cpu_percent_median=round(statistics.median(r.server_cpu_percent for r in runs), 1),
                        rps_per_server_core_median=round(
                            statistics.median(
                                r.wrk.requests_per_sec / max(r.server_cpu_percent / 100, 0.01) for r in runs
                            )
                        ),
                        rps_all=[r.wrk.requests_per_sec for r in runs],
                        errors=sum(r.wrk.non_2xx + sum(r.wrk.socket_errors.values()) for r in runs),
                    )
                )
    return summaries


def ratios(summaries: Sequence[Summary], numerator: str, denominator: str) -> dict[str, float]:
    """rps(numerator) / rps(denominator) for each log level and endpoint."""
    by_key = {(s.log_level, s.endpoint, s.server): s.rps_median for s in summaries}
    out = {}
    for (level, endpoint, server), rps in by_key.items():
        base = by_key.get((level, endpoint, denominator))
        if server == numerator and base:
            out[f"{level} {endpoint}"] = round(rps / base, 3)
    return out


def render_table(summaries: Sequence[Summary]) -> str:
    header = (
        f"{'log level':<9} {'endpoint':<13} {'server':<8} {'runs':>4} "
        f"{'rps':>9} {'p50 ms':>7} {'p99 ms':>7} {'cpu %':>6} {'rps/core':>8}"
    )
    lines = [header, "-" * len(header)]
    for s in summaries:
        lines.append(
            f"{s.log_level:<9} {s.endpoint:<13} {s.server:<8} {s.runs:>4} {s.rps_median:>9.0f} "
            f"{s.p50_ms_median:>7.2f} {s.p99_ms_median:>7.2f} "
            f"{s.server_cpu_percent_median:>6.1f} {s.rps_per_server_core_median:>8.0f}"
            + (f"  ({s.errors} errors)" if s.errors else "")
        )
    return "\n".join(lines)


def versions(wrk: str) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("storefront", "uvicorn", "granian", "uvloop", "httptools", "fastapi", "starlette"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10, check=False)
    found["wrk"] = (done.stdout or done.stderr).splitlines()[0].strip() if (done.stdout or done.stderr) else "?"
    return found


def write_json(path: Path, payload: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(payload, indent=2) + "\n")
    partial.replace(path)


def preflight(opts: Options) -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed (Debian: apt-get install wrk)")
    needed = {"uvicorn": ("uvicorn", "uvloop", "httptools"), "granian": ("granian",)}
    for server in opts.servers:
        for module in needed[server]:
            try:
                importlib.metadata.version(module)
            except importlib.metadata.PackageNotFoundError:
                hint = " (uv sync --group bench)" if module == "granian" else ""
                raise BenchError(f"{module} is not installed in {sys.prefix}{hint}") from None
    return wrk


def run(opts: Options) -> dict[str, object]:
    wrk = preflight(opts)
    with tempfile.TemporaryDirectory(prefix="storefront-bench-src-") as snapshot:
        app = snapshot_source(opts.source, Path(snapshot))
        return measure_all(opts, wrk, Path(snapshot) / "src", app)


def measure_all(opts: Options, wrk: str, app_src: Path, app: dict[str, str]) -> dict[str, object]:
    granian_uvloop = "granian" in opts.servers and granian_supports_uvloop()
    found = versions(wrk)
    print(f"versions: {', '.join(f'{k} {v}' for k, v in found.items())}")
    print(
        f"app: {opts.source} snapshot of src at commit {app['commit'][:12]} "
        f"(with uncommitted changes: {app['includes_uncommitted_changes']})"
    )
    print(
        f"wrk -t{opts.threads} -c{opts.connections} -d{opts.duration}s --latency; {opts.runs} run(s) per cell, "
        f"{opts.warmup}s warm-up per endpoint per server start; granian --loop uvloop: {granian_uvloop}",
        flush=True,
    )
    started = datetime.now(UTC)
    records: list[RunRecord] = []
    for level in opts.log_levels:
        for round_no in range(1, opts.runs + 1):
            for server in opts.servers:  # A B A B ...: a server never runs twice in a row
                records.extend(
                    measure_session(server, level, round_no, opts, wrk, app_src, granian_uvloop=granian_uvloop)
                )
    summaries = summarise(records, opts)
    table = render_table(summaries)
    rps_ratio = ratios(summaries, "granian", "uvicorn")
    print()
    print(table)
    if rps_ratio:
        print("\nrps ratio granian / uvicorn: " + ", ".join(f"{k}: {v:.2f}x" for k, v in rps_ratio.items()))
    payload: dict[str, object] = {
        "benchmark": "asgi_servers",
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": found,
        "app": app,
        "settings": {
            "runs": opts.runs,
            "duration_s": opts.duration,
            "warmup_s": opts.warmup,
            "wrk": f"wrk -t{opts.threads} -c{opts.connections} -d{opts.duration}s --latency http://{HOST}:PORT/ENDPOINT",
            "servers": {s: server_argv(s, "PORT", granian_uvloop=granian_uvloop)[1:] for s in opts.servers},
            "granian_uvloop": granian_uvloop,
        },
        "summary": [asdict(s) for s in summaries],
        "rps_ratio_granian_over_uvicorn": rps_ratio,
        "runs": [asdict(r) for r in records],
    }
    write_json(opts.output, payload)
    print(f"\nwrote {opts.output}")
    return payload


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="measured runs per server x endpoint x log level")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per endpoint after each start")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=list(SERVERS))
    parser.add_argument("--endpoints", nargs="+", default=list(ENDPOINTS))
    parser.add_argument("--log-levels", nargs="+", choices=LOG_LEVELS, default=list(LOG_LEVELS))
    parser.add_argument(
        "--source",
        choices=("worktree", "head"),
        default="worktree",
        help="benchmark a copy of src/ as it is now (worktree) or as last committed (head)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.duration < 1 or args.warmup < 0 or args.threads < 1 or args.connections < args.threads:
        parser.error("need --runs >= 1, --duration >= 1, --warmup >= 0 and --connections >= --threads >= 1")
    if any(not e.startswith("/") for e in args.endpoints):
        parser.error("endpoints are paths starting with '/'")
    return Options(
        runs=args.runs,
        duration=args.duration,
        warmup=args.warmup,
        threads=args.threads,
        connections=args.connections,
        servers=tuple(args.servers),
        endpoints=tuple(args.endpoints),
        log_levels=tuple(args.log_levels),
        source=args.source,
        output=args.output.resolve(),
    )


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    try:
        run(opts)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
