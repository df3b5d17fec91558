"""Validate deploy/compose.yaml where `docker compose config` is not available.

Not a schema of all of Compose: the subset this stack uses, strictly (an unknown key
is an error, as a typo would be), plus what the file means: every `depends_on` names a
service, a `service_healthy` condition points at a service with a health check, every
mounted file exists, and every image is pinned to a version.
Usage: python deploy/checks/compose_check.py deploy/compose.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Build(Strict):
    context: str
    dockerfile: str = "Dockerfile"


class Healthcheck(Strict):
    test: list[str] | None = None
    interval: str | None = None
    timeout: str | None = None
    retries: int | None = None
    start_period: str | None = None
    disable: bool | None = None


class Dependency(Strict):
    condition: Literal["service_started", "service_healthy", "service_completed_successfully"]


class Deploy(Strict):
    replicas: int


class Service(Strict):
    image: str | None = None
    build: Build | None = None
    command: list[str] | None = None
    environment: dict[str, str] | None = None
    depends_on: dict[str, Dependency] | None = None
    healthcheck: Healthcheck | None = None
    restart: Literal["no", "always", "on-failure", "unless-stopped"] | None = None
    ports: list[str] | None = None
    volumes: list[str] | None = None
    deploy: Deploy | None = None
    stop_grace_period: str | None = None

    @field_validator("image")
    @classmethod
    def _pinned(cls, image: str | None) -> str | None:
        if image is not None and (":" not in image or image.endswith(":latest")):
            raise ValueError(f"pin a version: {image!r}")
        return image


class Compose(Strict):
    name: str
    services: dict[str, Service]
    volumes: dict[str, None] | None = None


def problems(path: Path) -> list[str]:
    raw: Any = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict):
        return ["not a mapping"]
    raw = {key: value for key, value in raw.items() if not key.startswith("x-")}  # extension fields
    try:
        compose = Compose.model_validate(raw)
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    found = []
    for name, service in compose.services.items():
        if service.image is None and service.build is None:
            found.append(f"{name}: neither image nor build")
        if service.build is not None and not (path.parent / service.build.context / service.build.dockerfile).is_file():
            found.append(f"{name}: no Dockerfile at {service.build.context}/{service.build.dockerfile}")
        for target, dependency in (service.depends_on or {}).items():
            if target not in compose.services:
                found.append(f"{name}: depends on {target}, which is not a service")
                continue
            check = compose.services[target].healthcheck
            healthy = check is not None and not check.disable
            built_in = compose.services[target].build is not None and not (check and check.disable)  # HEALTHCHECK
            if dependency.condition == "service_healthy" and not (healthy or built_in):
                found.append(f"{name}: waits for {target} to be healthy, but {target} has no health check")
        for volume in service.volumes or []:
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")) and not (path.parent / source).exists():
                found.append(f"{name}: mounts {source}, which does not exist")
            elif not source.startswith((".", "/")) and source not in (compose.volumes or {}):
                found.append(f"{name}: volume {source} is not declared")
    return found


if __name__ == "__main__":
    target = Path(sys.argv[1])
    errors = problems(target)
    for error in errors:
        print(f"{target}: {error}", file=sys.stderr)
    sys.exit(1 if errors else 0)
