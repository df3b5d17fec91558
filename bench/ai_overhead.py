"""What the AI resilience layer adds to a healthy call.

A fake OpenAI-compatible server (the tests' own, in a separate process so it does not
share our event loop) answers every call at once. The same request is made N times
straight through pydantic-ai (an Agent on an OpenAI chat model) and N times through
our chain (breaker, concurrency slot, timeout, retry loop, output cleaning, budget check,
metrics), interleaved so drift hits both alike.

    ./dev bench ai [--calls 2000] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

from tests.ai.fake_provider import GOOD

from bench.asgi_servers import PROJECT_ROOT
from storefront.ai.content import ProductFacts
from storefront.ai.prompt import product_prompt

RESULTS = PROJECT_ROOT / "bench" / "results"
FACTS = ProductFacts(title="Stoneware Mug", category="Kitchen", price="12.50")


def _serve(port: int) -> None:
    import uvicorn
    from tests.ai.fake_provider import FakeProvider

    uvicorn.run(FakeProvider().app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
        except urllib.error.HTTPError:
            return  # 404: the server answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the fake provider did not start")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


Call = Callable[[], Awaitable[None]]


async def _compare(direct: Call, through_chain: Call, calls: int, warmup: int) -> dict[str, Any]:
    async def timed(call: Call) -> float:
        started = time.perf_counter()
        await call()
        return time.perf_counter() - started

    for _ in range(warmup):
        await direct()
        await through_chain()
    samples: dict[str, list[float]] = {"direct": [], "chain": []}
    for index in range(calls):
        # Alternate which goes first, so neither always follows the other.
        order = [("direct", direct), ("chain", through_chain)]
        for name, call in order if index % 2 == 0 else reversed(order):
            samples[name].append(await timed(call))
    summary: dict[str, Any] = {"calls": calls}
    for name, values in samples.items():
        summary[name] = {
            "median_ms": round(statistics.median(values) * 1000, 3),
            "p99_ms": round(_percentile(values, 0.99) * 1000, 3),
        }
    summary["added_median_ms"] = round(summary["chain"]["median_ms"] - summary["direct"]["median_ms"], 3)
    summary["ratio_median"] = round(summary["chain"]["median_ms"] / summary["direct"]["median_ms"], 3)
    summary["ratio_p99"] = round(summary["chain"]["p99_ms"] / summary["direct"]["p99_ms"], 3)
    return summary


def _agent(model: Any) -> Any:
    from pydantic_ai import Agent

    from storefront.ai.content import GeneratedContent
    from storefront.ai.prompt import INSTRUCTIONS

    return Agent(model, output_type=GeneratedContent, instructions=INSTRUCTIONS, retries={"output": 0})


async def _over_http(calls: int, warmup: int, base_url: str) -> dict[str, Any]:
    """The realistic case: a real HTTP round trip to a loopback server in another process."""
    from openai import AsyncOpenAI
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    from storefront.ai.chain import build_chain
    from storefront.config import Settings

    client = AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=15)
    direct_agent = _agent(OpenAIChatModel("fake-model", provider=OpenAIProvider(openai_client=client)))
    settings = Settings(_env_file=None, ai_models=[f"openai:fake-model@{base_url}"], ai_local_enabled=False)
    chain = build_chain(settings, None)

    async def direct() -> None:
        await direct_agent.run(product_prompt(FACTS))

    async def through_chain() -> None:
        assert (await chain.generate(FACTS, "request")).remote

    try:
        return await _compare(direct, through_chain, calls, warmup)
    finally:
        await chain.aclose()
        await client.close()


async def _in_process(calls: int, warmup: int) -> dict[str, Any]:
    """No network at all (pydantic-ai's FunctionModel answers at once): the layer's own cost."""
    from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    from storefront.ai.budget import MemoryLedger, TokenBudget
    from storefront.ai.chain import ContentChain
    from storefront.ai.guard import GuardedLink
    from storefront.ai.metrics import AiMetrics
    from storefront.ai.providers import RemoteModel
    from storefront.config import Settings

    arguments = json.dumps(GOOD)

    def reply(_: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, arguments)])

    direct_agent = _agent(FunctionModel(reply))
    metrics = AiMetrics()
    link = GuardedLink("function", RemoteModel(FunctionModel(reply)), Settings(_env_file=None), metrics, remote=True)
    chain = ContentChain([link], [], TokenBudget(MemoryLedger(), 0), {"request": 20, "job": 120}, metrics, ["function"])

    async def direct() -> None:
        await direct_agent.run(product_prompt(FACTS))

    async def through_chain() -> None:
        assert (await chain.generate(FACTS, "request")).remote

    return await _compare(direct, through_chain, calls, warmup)


def _print(title: str, summary: dict[str, Any]) -> None:
    direct, chain = summary["direct"], summary["chain"]
    print(f"{title}, {summary['calls']} calls per path")
    print(f"  pydantic-ai directly : median {direct['median_ms']:.3f} ms, p99 {direct['p99_ms']:.3f} ms")
    print(f"  through our chain    : median {chain['median_ms']:.3f} ms, p99 {chain['p99_ms']:.3f} ms")
    print(
        f"  added: {summary['added_median_ms']:.3f} ms at the median; "
        f"ratio {summary['ratio_median']:.3f} (median), {summary['ratio_p99']:.3f} (p99)"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./dev bench ai", description=__doc__)
    parser.add_argument("--calls", type=int, default=2000, help="measured calls per path")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--smoke", action="store_true", help="a few calls: proves the harness works")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # internal: run the fake server
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve)
        return 0
    calls, warmup = (20, 5) if args.smoke else (args.calls, args.warmup)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.ai_overhead", "--serve", str(port)], cwd=PROJECT_ROOT)
    try:
        _wait_until_up(port)
        over_http = asyncio.run(_over_http(calls, warmup, f"http://127.0.0.1:{port}/v1"))
    finally:
        server.terminate()
        server.wait(timeout=10)
    in_process = asyncio.run(_in_process(calls, warmup))
    _print("healthy calls to a loopback OpenAI-compatible server", over_http)
    _print("healthy calls to an in-process model (no network)", in_process)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / ("ai_overhead-smoke.json" if args.smoke else "ai_overhead.json")).write_text(
        json.dumps({"over_http": over_http, "in_process": in_process}, indent=2) + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
