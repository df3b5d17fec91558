"""A fake OpenAI-compatible server on loopback: real HTTP, told per request how to behave.

It answers the Chat Completions call pydantic-ai makes: a call of the output tool the
request offers, with the arguments the test chose.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

GOOD = {
    "description": "A sturdy stoneware mug that holds 350 ml.",
    "seo_keywords": ["stoneware mug", "coffee mug", "350 ml mug", "kitchen", "tea cup"],
}


@dataclass(frozen=True)
class Behaviour:
    kind: str  # answer | hang | status | malformed
    arguments: dict[str, Any] | None = None
    status: int = 200
    retry_after: str | None = None


def answer(arguments: dict[str, Any] | None = None) -> Behaviour:
    return Behaviour("answer", arguments or GOOD)


def hang() -> Behaviour:
    return Behaviour("hang")


def status(code: int, retry_after: str | None = None) -> Behaviour:
    return Behaviour("status", status=code, retry_after=retry_after)


def malformed() -> Behaviour:
    # Two keywords and a description over the cap: valid JSON, invalid content.
    return Behaviour("malformed", {"description": "x" * 1500, "seo_keywords": ["a", "b"]})


@dataclass
class FakeProvider:
    url: str = ""
    default: Behaviour = field(default_factory=answer)
    script: list[Behaviour] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    usage: tuple[int, int] = (11, 7)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def then(self, *behaviours: Behaviour) -> FakeProvider:
        self.script.extend(behaviours)
        return self

    @property
    def count(self) -> int:
        return len(self.requests)

    def entry(self, model: str = "fake-model") -> str:
        """This server as an AI_MODELS entry."""
        return f"openai:{model}@{self.url}"

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.times.append(time.monotonic())
        behaviour = self.script.pop(0) if self.script else self.default
        if behaviour.kind == "hang":
            await self.released.wait()  # until the test ends
            return JSONResponse({"error": {"message": "released"}}, status_code=503)
        if behaviour.kind == "status":
            headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else None
            error = {"error": {"message": "fake failure", "type": "server_error", "code": None}}
            return JSONResponse(error, status_code=behaviour.status, headers=headers)
        tool = body["tools"][0]["function"]["name"]
        call = {
            "id": "call_1",
            "type": "function",
            "function": {"name": tool, "arguments": json.dumps(behaviour.arguments)},
        }
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        prompt, completion = self.usage
        return JSONResponse(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }
        )

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])


@asynccontextmanager
async def running(provider: FakeProvider) -> AsyncIterator[FakeProvider]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(provider.app(), host="127.0.0.1", port=port, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.02)
    provider.url = f"http://127.0.0.1:{port}/v1"
    try:
        yield provider
    finally:
        provider.released.set()
        server.should_exit = True
        await task
