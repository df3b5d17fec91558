"""What deploy/compose.yaml means, checked where a schema cannot look.

The structure is the Compose specification's JSON schema's to check (.ci/check-deploy
runs check-jsonschema's copy of it first, and `docker compose config` where the plugin
exists). This checks what a valid-looking file can still get wrong:

- every `depends_on` names a service; a `service_healthy` condition points at a
  service with a health check (its own, or the HEALTHCHECK of the Dockerfile it is built
  from); a `service_completed_successfully` one at a service that is not restarted;
- every bind-mounted path, env_file and build context exists; named volumes are declared;
- every image is pinned to a version (not `latest`, not untagged);
- every `${VARIABLE}` the file reads is listed in the .env.example beside it;
- replicated services publish no fixed host port and set no container_name;
- `storefront serve` gets a stop_grace_period above its drain + grace, and
  `storefront worker` one above its grace (STOREFRONT_SHUTDOWN_*_SECONDS), so that
  Docker's SIGKILL never cuts a drain short.

Usage: python deploy/checks/compose_check.py deploy/compose.yaml
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

# The application's defaults (src/storefront/config.py), for a service that sets neither.
DEFAULT_DRAIN_SECONDS = 5.0
DEFAULT_GRACE_SECONDS = 10.0
DOCKER_DEFAULT_STOP_GRACE = 10.0
DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|(?<!\$)\$([A-Za-z_][A-Za-z0-9_]*)")
RESTARTED = {"always", "unless-stopped"}


def seconds(duration: str) -> float:
    parts = DURATION.findall(duration)
    if not parts or "".join(number + unit for number, unit in parts) != duration:
        raise ValueError(f"not a duration: {duration!r}")
    return sum(float(number) * UNITS[unit] for number, unit in parts)


def environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {str(key): str(value) for key, value in raw.items()}


def dependencies(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in raw.items()}


def dockerfile_healthcheck(base: Path, service: dict[str, Any]) -> bool:
    build = service.get("build")
    if build is None:
        return False
    context = build if isinstance(build, str) else build.get("context", ".")
    name = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    dockerfile = base / context / name
    if not dockerfile.is_file():
        return False
    # The last HEALTHCHECK of the file is the final stage's (multi-stage builds).
    checks = re.findall(r"^HEALTHCHECK\s+(\S+)", dockerfile.read_text(), flags=re.MULTILINE)
    return bool(checks) and checks[-1].upper() != "NONE"


def has_healthcheck(base: Path, service: dict[str, Any]) -> bool:
    check = service.get("healthcheck")
    if check is not None and check.get("disable"):
        return False
    if check is not None and check.get("test"):
        return bool(check["test"] != ["NONE"])
    return dockerfile_healthcheck(base, service)


def check_dependencies(base: Path, services: dict[str, Any], name: str, service: dict[str, Any]) -> list[str]:
    found = []
    for target, condition in dependencies(service).items():
        if target not in services:
            found.append(f"{name}: depends on {target}, which is not a service")
        elif condition == "service_healthy" and not has_healthcheck(base, services[target]):
            found.append(f"{name}: waits for {target} to be healthy, but {target} has no health check")
        elif condition == "service_completed_successfully" and services[target].get("restart") in RESTARTED:
            found.append(f"{name}: waits for {target} to complete, but {target} is restarted when it exits")
    return found


def check_files(base: Path, declared: dict[str, Any], name: str, service: dict[str, Any]) -> list[str]:
    found = []
    build = service.get("build")
    if build is None and not service.get("image"):
        found.append(f"{name}: neither image nor build")
    elif build is not None:
        context = base / (build if isinstance(build, str) else build.get("context", "."))
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        if not (context / dockerfile).is_file():
            found.append(f"{name}: no {dockerfile} in the build context {context}")
    for volume in service.get("volumes") or []:
        source = volume.get("source", "") if isinstance(volume, dict) else volume.split(":", 1)[0]
        if source.startswith((".", "/", "~")):
            if not (base / source).exists():
                found.append(f"{name}: mounts {source}, which does not exist")
        elif source and source not in declared:
            found.append(f"{name}: volume {source} is not declared under the top-level volumes")
    env_files = service.get("env_file") or []
    for env_file in [env_files] if isinstance(env_files, str) else env_files:
        spec = {"path": env_file} if isinstance(env_file, str) else env_file
        if spec.get("required", True) and not (base / spec["path"]).is_file():
            found.append(f"{name}: env_file {spec['path']} does not exist")
    return found


def check_image(name: str, service: dict[str, Any]) -> list[str]:
    image = service.get("image")
    if not image or "@sha256:" in image:
        return []
    last = image.rsplit("/", 1)[-1]
    if ":" not in last or last.endswith(":latest"):
        return [f"{name}: pin a version: {image!r}"]
    return []


def check_replicas(name: str, service: dict[str, Any]) -> list[str]:
    replicas = (service.get("deploy") or {}).get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 2:
        return []
    found = []
    if service.get("container_name"):
        found.append(f"{name}: {replicas} replicas cannot share the container_name")
    for port in service.get("ports") or []:
        fixed = port.get("published") if isinstance(port, dict) else (str(port) if ":" in str(port) else None)
        if fixed:
            found.append(f"{name}: {replicas} replicas cannot all publish host port {fixed}")
    return found


def check_shutdown(name: str, service: dict[str, Any]) -> list[str]:
    command = service.get("command") or []
    role = command[0] if isinstance(command, list) and command else None
    if role not in {"serve", "worker"}:
        return []
    env = environment(service)
    try:
        drain = float(env.get("STOREFRONT_SHUTDOWN_DRAIN_SECONDS", DEFAULT_DRAIN_SECONDS))
        grace = float(env.get("STOREFRONT_SHUTDOWN_GRACE_SECONDS", DEFAULT_GRACE_SECONDS))
        stop = seconds(service["stop_grace_period"]) if "stop_grace_period" in service else DOCKER_DEFAULT_STOP_GRACE
    except ValueError as exc:
        return [f"{name}: {exc}"]
    needed = grace + (drain if role == "serve" else 0)
    if stop <= needed:
        what = "drain + grace" if role == "serve" else "grace"
        return [f"{name}: stop_grace_period {stop:g} s must exceed {what} ({needed:g} s), or Docker kills it first"]
    return []


def strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [text for value in node.values() for text in strings(value)]
    if isinstance(node, list):
        return [text for value in node for text in strings(value)]
    return []


def check_variables(path: Path, raw: dict[str, Any]) -> list[str]:
    example = path.parent / ".env.example"
    if not example.is_file():
        return []
    listed = {line.split("=", 1)[0].strip() for line in example.read_text().splitlines() if "=" in line}
    used = {a or b for text in strings(raw) for a, b in VARIABLE.findall(text)}
    return [f"${{{var}}} is read but not listed in {example.name}" for var in sorted(used - listed)]


def problems(path: Path) -> list[str]:
    raw: Any = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict) or not isinstance(raw.get("services"), dict):
        return ["no services"]
    base = path.parent
    services: dict[str, Any] = raw["services"]
    declared: dict[str, Any] = raw.get("volumes") or {}
    found = check_variables(path, raw)
    for name, service in services.items():
        found += check_dependencies(base, services, name, service)
        found += check_files(base, declared, name, service)
        found += check_image(name, service)
        found += check_replicas(name, service)
        found += check_shutdown(name, service)
    return found


if __name__ == "__main__":
    target = Path(sys.argv[1])
    errors = problems(target)
    for error in errors:
        print(f"{target}: {error}", file=sys.stderr)
    if not errors:
        print(f"{target}: depends_on, health checks, files, images, variables, replicas, shutdown budgets: ok")
    sys.exit(1 if errors else 0)
