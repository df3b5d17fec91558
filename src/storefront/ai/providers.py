"""The links of the chain: remote models through pydantic-ai, and the offline generator.

Provider SDKs are optional extras, imported only when AI_MODELS names them; a
provider that cannot be built (extra not installed, no credentials) becomes an
unavailable link with the reason, reported at start-up and in /ai/status.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic_ai import Agent
from pydantic_ai.exceptions import UserError
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from storefront.ai.content import GeneratedContent, ProductFacts, clean
from storefront.ai.local import generate_offline
from storefront.ai.prompt import INSTRUCTIONS, product_prompt
from storefront.config import Settings

LOCAL = "local"
EXTRAS = {"openai": "openai", "google-gla": "google", "anthropic": "anthropic", "bedrock": "bedrock"}


@dataclass(frozen=True, slots=True)
class Generation:
    content: GeneratedContent
    input_tokens: int = 0
    output_tokens: int = 0


class ContentModel(Protocol):
    async def generate(self, facts: ProductFacts) -> Generation: ...

    async def aclose(self) -> None: ...


class OfflineModel:
    async def generate(self, facts: ProductFacts) -> Generation:
        return Generation(generate_offline(facts))

    async def aclose(self) -> None:
        return None


@dataclass
class RemoteModel:
    """One pydantic-ai model behind an agent that asks for `GeneratedContent` and nothing else."""

    model: Model
    settings: ModelSettings | None = None
    closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # No output retries: a malformed answer is a failure of this link, and the chain
        # moves on instead of paying the same provider again to correct itself.
        self.agent = Agent(
            self.model,
            output_type=GeneratedContent,
            instructions=INSTRUCTIONS,
            retries={"output": 0},
            model_settings=self.settings,
        )

    async def generate(self, facts: ProductFacts) -> Generation:
        result = await self.agent.run(product_prompt(facts))
        usage = result.usage
        return Generation(clean(result.output), usage.input_tokens, usage.output_tokens)

    async def aclose(self) -> None:
        for close in self.closers:
            await close()


class ProviderUnavailable(Exception):
    """This provider cannot be used in this process; the message says why and what to do."""


def split_base_url(model_name: str, default: str | None) -> tuple[str, str | None]:
    """`model@http://host/v1` names its own OpenAI-compatible server (several in one chain)."""
    name, at, url = model_name.rpartition("@")
    if at and url.startswith(("http://", "https://")):
        return name, url
    return model_name, default


def _openai(model_name: str, settings: Settings) -> RemoteModel:
    from openai import AsyncOpenAI
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    model_name, base_url = split_base_url(model_name, settings.ai_openai_base_url)
    api_key = os.environ.get("OPENAI_API_KEY")
    if api_key is None and base_url is None:
        raise ProviderUnavailable("OPENAI_API_KEY is not set")
    # Local servers (Ollama, vLLM, llama.cpp) usually need no key, but the SDK wants one.
    # max_retries=0: retrying is the chain's decision, with its own budget.
    client = AsyncOpenAI(
        base_url=base_url, api_key=api_key or "unused", max_retries=0, timeout=settings.ai_timeout_seconds
    )
    model = OpenAIChatModel(model_name, provider=OpenAIProvider(openai_client=client))
    return RemoteModel(model, closers=[client.close])


def _anthropic(model_name: str, settings: Settings) -> RemoteModel:
    from anthropic import AsyncAnthropic
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.providers.anthropic import AnthropicProvider

    if not os.environ.get("ANTHROPIC_API_KEY"):
        raise ProviderUnavailable("ANTHROPIC_API_KEY is not set")
    client = AsyncAnthropic(max_retries=0, timeout=settings.ai_timeout_seconds)
    model = AnthropicModel(model_name, provider=AnthropicProvider(anthropic_client=client))
    return RemoteModel(model, closers=[client.close])


def _google(model_name: str, settings: Settings) -> RemoteModel:
    from pydantic_ai.models.google import GoogleModel
    from pydantic_ai.providers.google import GoogleProvider

    api_key = os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY")
    if not api_key:
        raise ProviderUnavailable("GEMINI_API_KEY is not set")
    # The Google SDK makes no retries unless asked; the timeout is per request.
    model = GoogleModel(model_name, provider=GoogleProvider(api_key=api_key))
    return RemoteModel(model, settings={"timeout": settings.ai_timeout_seconds})


def _bedrock(model_name: str, settings: Settings) -> RemoteModel:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]
    from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped]
    from pydantic_ai.models.bedrock import BedrockConverseModel
    from pydantic_ai.providers.bedrock import BedrockProvider

    try:
        # Credentials and region from the usual AWS chain; botocore's retries off.
        client = boto3.Session().client(
            "bedrock-runtime",
            config=Config(
                connect_timeout=min(5.0, settings.ai_timeout_seconds),
                read_timeout=settings.ai_timeout_seconds,
                retries={"total_max_attempts": 1, "mode": "standard"},
            ),
        )
    except BotoCoreError as exc:
        raise ProviderUnavailable(f"AWS client: {exc}") from exc
    return RemoteModel(BedrockConverseModel(model_name, provider=BedrockProvider(bedrock_client=client)))


BUILDERS: dict[str, Callable[[str, Settings], RemoteModel]] = {
    "openai": _openai,
    "anthropic": _anthropic,
    "google-gla": _google,
    "bedrock": _bedrock,
}


def build_model(provider: str, model_name: str, settings: Settings) -> ContentModel:
    """The model for one AI_MODELS entry, or ProviderUnavailable saying why not."""
    if provider == LOCAL:
        return OfflineModel()
    try:
        return BUILDERS[provider](model_name, settings)
    except ImportError as exc:
        raise ProviderUnavailable(f"not installed: install storefront[{EXTRAS[provider]}] ({exc})") from exc
    except UserError as exc:
        raise ProviderUnavailable(str(exc)) from exc


def chain_spec(settings: Settings) -> list[tuple[str, str]]:
    """(provider, model) in order; `local` last unless listed earlier or disabled."""
    entries = [(entry.partition(":")[0], entry.partition(":")[2]) for entry in settings.ai_models]
    entries = [entry for entry in entries if entry[0] != LOCAL or settings.ai_local_enabled]
    if settings.ai_local_enabled and all(provider != LOCAL for provider, _ in entries):
        entries.append((LOCAL, ""))
    return entries
