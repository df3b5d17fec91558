# syntax=docker/dockerfile:1.7
# The Storefront image: one image, three roles (the entrypoint is the `storefront` command):
#   serve (the default), worker, db upgrade.          docs/deployment.md#container-image
# Base images cannot be pulled on the development machine, so it is linted there
# (.ci/check-deploy) but not built; every command it runs is exercised by the tests.

# Pinned tags (a digest as well, once your registry is reachable: image@sha256:...).
# Python 3.11: the version pyproject.toml and mypy target.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
# Node only builds the console (never in the final image): the version that builds it
# in the tests; Vite 8 needs 20.19 or later (admin/package.json "engines").
ARG NODE_IMAGE=node:20.20.2-bookworm-slim
# The uv of ./dev (UV_VERSION), from its official image.
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

# The admin console: static files built from the locked npm dependencies.
FROM ${NODE_IMAGE} AS console
WORKDIR /build/admin
COPY admin/package.json admin/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY admin/ ./
RUN npm run build

# The locked Python environment, compiled to bytecode: the final root filesystem is
# read-only, so Python could not write .pyc files at run time and would compile every
# module at every start. Built on the final stage's base image, so the venv's python
# link (/usr/local/bin/python3.11) is valid there.
FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first: this layer is reused until uv.lock changes. --frozen: exactly
# uv.lock, never re-resolved; --no-dev: no test tools in the image.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev --no-install-project
COPY src/ src/
# The project itself stays an editable install of /app/src: the admin console is looked
# up beside the sources (admin_console.py: <src>/../admin/dist). uv compiles only
# site-packages, so the sources are compiled here (hash-checked .pyc: valid whatever
# the files' timestamps become).
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev \
    && .venv/bin/python -m compileall -q --invalidation-mode checked-hash src

# The final stage: the interpreter, the environment and the console; no uv, no compilers.
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 storefront \
    && useradd --system --uid 10001 --gid storefront --home-dir /app --shell /usr/sbin/nologin storefront \
    && mkdir -p /var/lib/storefront \
    && chown storefront:storefront /var/lib/storefront
WORKDIR /app
COPY --from=build /app /app
COPY --from=console /build/admin/dist /app/admin/dist
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    STOREFRONT_ENV=production \
    STOREFRONT_DATA_DIR=/var/lib/storefront
# Numeric, so Kubernetes can verify runAsNonRoot without reading the image's passwd file.
USER 10001:10001
EXPOSE 8000
# SIGTERM drains before stopping (docs/deployment.md#graceful-shutdown).
STOPSIGNAL SIGTERM
# Liveness only: readiness (/health/ready) is the balancer's or Kubernetes' to check.
# A `worker` container has no HTTP port: compose and Kubernetes switch this off for it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status != 200)"]
ENTRYPOINT ["storefront"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
