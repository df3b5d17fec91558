"""`./dev fuzz [--smoke] [options]`: schemathesis against a real `storefront serve`.

Every operation of `/openapi.json` is fuzzed with every check schemathesis has, in all
four phases (examples, coverage, fuzzing, and the stateful phase that follows the links
between operations), once as a customer and once as an administrator. The server is a
fresh one on a temporary SQLite file, or on a new PostgreSQL database (dropped after)
with `--database-url`, and Redis with `--redis-url`. Exit status 0 only when both roles
end with no failure. The rules a JSON schema cannot state are in fuzz/schemathesis.toml
and fuzz/hooks.py, each with its reason.
"""

from __future__ import annotations

import argparse
import sys
import time

from fuzz.server import Roles, running_server, schemathesis_argv, seed_shop


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./dev fuzz", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="few examples per operation (CI): about a minute")
    parser.add_argument("--examples", type=int, default=None, help="examples per operation (default 40; smoke 5)")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: a new one, printed)")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server to create the database on")
    parser.add_argument("--redis-url", default=None, help="a Redis database of its own: the run empties it first")
    parser.add_argument("--roles", default="customer,admin", help="comma-separated: customer, admin")
    parser.add_argument("--workers", default="1", help="schemathesis workers (1 keeps runs reproducible)")
    args = parser.parse_args(argv)
    examples = args.examples or (5 if args.smoke else 40)
    seed = args.seed if args.seed is not None else int(time.time()) % 100_000
    roles = [role.strip() for role in args.roles.split(",") if role.strip()]
    unknown = set(roles) - {"customer", "admin"}
    if unknown:
        parser.error(f"unknown roles: {', '.join(sorted(unknown))}")

    import subprocess

    failed: list[str] = []
    with running_server(args.database_url, args.redis_url) as server:
        tokens: Roles = seed_shop(server)
        for role in roles:
            print(f"\n=== schemathesis as {role}: {examples} examples per operation, seed {seed}", flush=True)
            started = time.monotonic()
            command = schemathesis_argv(server, tokens[role], examples=examples, seed=seed, workers=args.workers)
            result = subprocess.run(command, env=server.fuzz_env(), check=False)  # noqa: S603 - our own tool
            print(f"=== {role}: exit {result.returncode} in {time.monotonic() - started:.0f} s", flush=True)
            if result.returncode != 0:
                failed.append(role)
    if failed:
        print(f"fuzz: failures as {', '.join(failed)} (reproduce with --seed {seed})")
        return 1
    print(f"fuzz: no failures as {', '.join(roles)} (seed {seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
