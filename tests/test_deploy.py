"""The deployment files pass their offline checks (.ci/check-deploy), and the checks
catch a broken copy of each: they are not checks that cannot fail."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / ".ci" / "check-deploy"

# Files, not the app: the PostgreSQL pass would only repeat it.
pytestmark = pytest.mark.skipif(bool(PG_URL), reason="runs in the SQLite pass")


def _check(root: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DEPLOY_ROOT=str(root))
    return subprocess.run([str(CHECK)], env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Dockerfile", tmp_path / "Dockerfile")
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    return tmp_path


def test_the_deployment_files_pass(copy: Path) -> None:
    result = _check(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "overlays/production: 9 resources valid" in result.stdout


def _break(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("Dockerfile", "USER 10001:10001", "USER root", "DL3002"),
        (
            "deploy/compose.yaml",
            "    pgbouncer:\n      condition",
            "    pgbouncr:\n      condition",
            "pgbouncr",
        ),
        ("deploy/compose.yaml", "image: redis:7.4.1-bookworm", "image: redis", "pin a version"),
        ("deploy/compose.yaml", "    stop_grace_period: 25s", "    stop_grace_periods: 25s", "stop_grace_periods"),
        ("deploy/k8s/base/api-deployment.yaml", "      maxSurge: 1", "      maxSurges: 1", "maxSurges"),
        ("deploy/k8s/overlays/production/hpa.yaml", "  maxReplicas: 20", "  maxReplicas: twenty", "twenty"),
    ],
)
def test_a_broken_file_fails_the_check(copy: Path, file: str, old: str, new: str, expected: str) -> None:
    _break(copy / file, old, new)
    result = _check(copy)
    assert result.returncode != 0, result.stdout
    assert expected in result.stdout + result.stderr
