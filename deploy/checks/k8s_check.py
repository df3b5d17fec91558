"""What the Kubernetes manifests mean, checked where a schema cannot look.

kubernetes-validate checks each object against the API's schemas; nothing there sees
that a Service selects no pod or that a pod is killed before its drain ends. Two checks:

  python deploy/checks/k8s_check.py lists DIR...    kustomization directories, as files:
      every resource and patch they list exists, every manifest beside them is listed,
      every patch, image and replicas entry names something the resources define
      (kustomize skips an `images` entry that matches no container without a word).
      Reads the files; renders nothing.
  python deploy/checks/k8s_check.py objects FILE    manifests (multi-document YAML, as
      `kubectl kustomize` renders them): selectors match their pods; Services, Ingress
      backends, autoscaler targets and ConfigMap references resolve; probes name a
      container port; no Secret carries values; every container runs as non-root with a
      read-only root filesystem and a writable /tmp; a Deployment that an autoscaler
      scales sets no replicas; and terminationGracePeriodSeconds covers preStop +
      STOREFRONT_SHUTDOWN_DRAIN_SECONDS + STOREFRONT_SHUTDOWN_GRACE_SECONDS for
      `serve` (grace for `worker`) with a margin.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

DEFAULT_DRAIN_SECONDS = 5.0  # src/storefront/config.py
DEFAULT_GRACE_SECONDS = 10.0
DEFAULT_TERMINATION_GRACE = 30  # Kubernetes' default
MARGIN_SECONDS = 5
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
TMP = "/tmp"  # noqa: S108 (the container's, writable on a read-only root filesystem)

Obj = dict[str, Any]


def load(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if isinstance(doc, dict)]


def ident(obj: Obj) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def image_name(image: str) -> str:
    """registry.example.com:5000/storefront:1.0@sha256:... -> registry.example.com:5000/storefront"""
    image = image.split("@", 1)[0]
    head, _, last = image.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


# --- kustomization lists -------------------------------------------------------------


def kustomization_resources(directory: Path, found: list[str]) -> list[Obj]:
    """The objects of a kustomization's resources, read from their files (not rendered)."""
    kustomization = directory / "kustomization.yaml"
    if not kustomization.is_file():
        found.append(f"{directory}: no kustomization.yaml")
        return []
    spec = yaml.safe_load(kustomization.read_text()) or {}
    objects: list[Obj] = []
    listed = {kustomization.name}
    for entry in spec.get("resources") or []:
        target = directory / entry
        if target.is_dir():
            objects += kustomization_resources(target.resolve(), found)
        elif target.is_file():
            objects += load(target)
            listed.add(target.name)
        else:
            found.append(f"{kustomization}: resource {entry} does not exist")
    patches = [p["path"] for p in spec.get("patches") or [] if "path" in p]
    patches += spec.get("patchesStrategicMerge") or []
    listed |= {Path(entry).name for entry in patches}
    found += check_patches(directory, patches, objects)
    for manifest in sorted(directory.glob("*.yaml")):
        if manifest.name not in listed:
            found.append(f"{manifest}: not listed in {kustomization.name} (never applied)")
    found += check_names(kustomization, spec, objects)
    return objects


def check_patches(directory: Path, patches: list[str], objects: list[Obj]) -> list[str]:
    found = []
    known = {ident(obj) for obj in objects}
    for entry in patches:
        target = directory / entry
        if not target.is_file():
            found.append(f"{directory / 'kustomization.yaml'}: patch {entry} does not exist")
            continue
        found += [
            f"{target}: patches {ident(p)}, which no resource defines" for p in load(target) if ident(p) not in known
        ]
    return found


def check_names(kustomization: Path, spec: Obj, objects: list[Obj]) -> list[str]:
    found = []
    containers = [c for obj in objects for c in pod_spec(obj).get("containers", [])]
    images = {image_name(str(c.get("image", ""))) for c in containers}
    for image in spec.get("images") or []:
        if image.get("name") not in images:
            found.append(f"{kustomization}: images entry {image.get('name')!r} matches no container image")
    workloads = {obj["metadata"]["name"] for obj in objects if obj.get("kind") in WORKLOADS}
    for replicas in spec.get("replicas") or []:
        if replicas.get("name") not in workloads:
            found.append(f"{kustomization}: replicas entry {replicas.get('name')!r} names no workload")
    return found


# --- objects -------------------------------------------------------------------------


def pod_spec(obj: Obj) -> Obj:
    if obj.get("kind") not in WORKLOADS:
        return {}
    spec: Obj = obj.get("spec", {}).get("template", {}).get("spec", {})
    return spec


def pod_labels(obj: Obj) -> dict[str, str]:
    labels: dict[str, str] = obj.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
    return labels


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def env_value(container: Obj, config: dict[str, dict[str, str]], name: str) -> str | None:
    for item in container.get("env") or []:
        if item.get("name") == name and "value" in item:
            return str(item["value"])
    for source in container.get("envFrom") or []:
        ref = (source.get("configMapRef") or {}).get("name")
        if ref in config and name in config[ref]:
            return config[ref][name]
    return None


def check_workload(obj: Obj, config: dict[str, dict[str, str]], scaled: set[str]) -> list[str]:
    found: list[str] = []
    name, spec, pod = ident(obj), obj.get("spec", {}), pod_spec(obj)
    selector = spec.get("selector", {}).get("matchLabels", {})
    if obj["kind"] != "Job" and not selects(selector, pod_labels(obj)):
        found.append(f"{name}: selector {selector} does not match its pod labels {pod_labels(obj)}")
    if obj["kind"] == "Deployment" and obj["metadata"]["name"] in scaled and "replicas" in spec:
        found.append(f"{name}: sets replicas, which reset the autoscaler's count at every apply")
    mounts_tmp = {v["name"] for v in pod.get("volumes") or [] if "emptyDir" in v}
    for container in pod.get("containers") or []:
        where = f"{name} container {container.get('name')}"
        security = {**(pod.get("securityContext") or {}), **(container.get("securityContext") or {})}
        if not security.get("runAsNonRoot"):
            found.append(f"{where}: runAsNonRoot is not set")
        if container.get("securityContext", {}).get("readOnlyRootFilesystem") is not True:
            found.append(f"{where}: the root filesystem is writable")
        elif not any(m["mountPath"] == TMP and m["name"] in mounts_tmp for m in container.get("volumeMounts") or []):
            found.append(f"{where}: read-only root filesystem without an emptyDir at {TMP}")
        for source in container.get("envFrom") or []:
            ref = (source.get("configMapRef") or {}).get("name")
            if ref is not None and ref not in config:
                found.append(f"{where}: envFrom names ConfigMap {ref}, which is not among the manifests")
        ports = {p.get("name") for p in container.get("ports") or []} | {
            p.get("containerPort") for p in container.get("ports") or []
        }
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            port = ((container.get(probe) or {}).get("httpGet") or {}).get("port")
            if port is not None and port not in ports:
                found.append(f"{where}: {probe} checks port {port!r}, which the container does not declare")
        found += check_shutdown(where, pod, container, config)
    return found


def check_shutdown(where: str, pod: Obj, container: Obj, config: dict[str, dict[str, str]]) -> list[str]:
    args = container.get("args") or container.get("command") or []
    role = args[0] if args else None
    if role not in {"serve", "worker"}:
        return []
    drain = float(env_value(container, config, "STOREFRONT_SHUTDOWN_DRAIN_SECONDS") or DEFAULT_DRAIN_SECONDS)
    grace = float(env_value(container, config, "STOREFRONT_SHUTDOWN_GRACE_SECONDS") or DEFAULT_GRACE_SECONDS)
    pre_stop = ((container.get("lifecycle") or {}).get("preStop") or {}).get("sleep", {}).get("seconds", 0)
    needed = pre_stop + grace + (drain if role == "serve" else 0) + MARGIN_SECONDS
    allowed = pod.get("terminationGracePeriodSeconds", DEFAULT_TERMINATION_GRACE)
    if allowed < needed:
        parts = f"preStop {pre_stop} + drain {drain:g} + grace {grace:g}" if role == "serve" else f"grace {grace:g}"
        return [f"{where}: terminationGracePeriodSeconds {allowed} < {parts} + margin {MARGIN_SECONDS} = {needed:g}"]
    return []


def check_routing(objects: list[Obj]) -> list[str]:
    by_kind: dict[str, dict[str, Obj]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    return check_services(objects, by_kind) + check_ingresses(by_kind) + check_scaling(objects, by_kind)


def check_services(objects: list[Obj], by_kind: dict[str, dict[str, Obj]]) -> list[str]:
    found: list[str] = []
    pods = [(obj, container) for obj in objects for container in pod_spec(obj).get("containers") or []]
    for name, service in by_kind.get("Service", {}).items():
        selector = service.get("spec", {}).get("selector", {})
        chosen = [(o, c) for o, c in pods if selects(selector, pod_labels(o))]
        if not chosen:
            found.append(f"Service/{name}: selector {selector} matches no pod")
        ports = {p.get("name") for _, c in chosen for p in c.get("ports") or []}
        ports |= {p.get("containerPort") for _, c in chosen for p in c.get("ports") or []}
        for port in service.get("spec", {}).get("ports") or []:
            if chosen and port.get("targetPort", port.get("port")) not in ports:
                found.append(f"Service/{name}: targetPort {port.get('targetPort')!r} is no port of its pods")
    return found


def check_ingresses(by_kind: dict[str, dict[str, Obj]]) -> list[str]:
    found: list[str] = []
    services = by_kind.get("Service", {})
    for name, ingress in by_kind.get("Ingress", {}).items():
        for rule in ingress.get("spec", {}).get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = path.get("backend", {}).get("service", {})
                target = services.get(backend.get("name"))
                port = backend.get("port", {})
                if target is None:
                    found.append(f"Ingress/{name}: backend Service {backend.get('name')} is not among the manifests")
                elif not any(
                    port.get("name") == p.get("name") or port.get("number") == p.get("port")
                    for p in target["spec"].get("ports") or []
                ):
                    found.append(f"Ingress/{name}: Service {backend.get('name')} has no port {port}")
    return found


def check_scaling(objects: list[Obj], by_kind: dict[str, dict[str, Obj]]) -> list[str]:
    found: list[str] = []
    for name, hpa in by_kind.get("HorizontalPodAutoscaler", {}).items():
        spec, ref = hpa.get("spec", {}), hpa.get("spec", {}).get("scaleTargetRef", {})
        if ref.get("name") not in by_kind.get(ref.get("kind", ""), {}):
            found.append(f"HorizontalPodAutoscaler/{name}: target {ref.get('kind')}/{ref.get('name')} is missing")
        if spec.get("minReplicas", 1) > spec.get("maxReplicas", 0):
            found.append(f"HorizontalPodAutoscaler/{name}: minReplicas above maxReplicas")
    for name, pdb in by_kind.get("PodDisruptionBudget", {}).items():
        selector = pdb.get("spec", {}).get("selector", {}).get("matchLabels", {})
        if not any(selects(selector, pod_labels(o)) for o in objects if o["kind"] in WORKLOADS):
            found.append(f"PodDisruptionBudget/{name}: selector {selector} matches no pod")
    return found


def check_objects(objects: list[Obj]) -> list[str]:
    config = {o["metadata"]["name"]: o.get("data") or {} for o in objects if o.get("kind") == "ConfigMap"}
    scaled = {
        o["spec"]["scaleTargetRef"]["name"]
        for o in objects
        if o.get("kind") == "HorizontalPodAutoscaler" and o["spec"]["scaleTargetRef"].get("kind") == "Deployment"
    }
    found = [f"{ident(o)}: carries values; the operator creates Secrets" for o in objects if o.get("kind") == "Secret"]
    for obj in objects:
        if obj.get("kind") in WORKLOADS:
            found += check_workload(obj, config, scaled)
    return found + check_routing(objects)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in {"lists", "objects"}:
        print(__doc__, file=sys.stderr)
        return 2
    found: list[str] = []
    if argv[0] == "lists":
        for directory in argv[1:]:
            kustomization_resources(Path(directory), found)
    else:
        objects = [obj for path in argv[1:] for obj in load(Path(path))]
        found = check_objects(objects)
    found = list(dict.fromkeys(found))  # a base read through several overlays says it once
    for problem in found:
        print(problem, file=sys.stderr)
    if not found:
        print(f"{' '.join(argv[1:])}: {argv[0]} ok")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
