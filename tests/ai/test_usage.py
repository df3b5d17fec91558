"""Where content generation is used: the endpoint, product create, status and metrics."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.catalog.service import GENERATE_CONTENT_JOB
from storefront.core.jobs import Job, JobStatus
from tests.ai.conftest import ai_api, generate, new_product
from tests.ai.fake_provider import GOOD, FakeProvider, status
from tests.conftest import AppFactory
from tests.helpers import Api, assert_error


async def test_with_no_configuration_the_offline_generator_answers(api: Api) -> None:
    category = await api.category("Kitchen")
    product = await api.product(category["slug"], title="Blue Enamel Teapot", price="24.50")
    response = await generate(api, product["id"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["provider"] == "local"
    assert body["description"] == "Blue Enamel Teapot, from our Kitchen range, priced at 24.50."
    assert body["seo_keywords"][:3] == ["blue enamel teapot", "kitchen", "blue kitchen"]
    assert 5 <= len(body["seo_keywords"]) <= 10
    stored = (await api.client.get(f"/api/v1/products/{product['id']}")).json()
    assert (stored["description"], stored["seo_keywords"]) == (body["description"], body["seo_keywords"])


async def test_only_empty_fields_are_filled_unless_overwrite(api: Api) -> None:
    product = await new_product(api, description="Hand-thrown in Devon.")
    body = (await generate(api, product["id"])).json()
    assert body["description"] == "Hand-thrown in Devon."  # kept
    assert len(body["seo_keywords"]) >= 5  # was empty: filled
    # Nothing left to fill: nothing generated.
    assert (await generate(api, product["id"])).json()["provider"] is None
    replaced = (await generate(api, product["id"], fields=["description"], overwrite=True)).json()
    assert replaced["provider"] == "local"
    assert replaced["description"] != "Hand-thrown in Devon."
    assert replaced["seo_keywords"] == body["seo_keywords"]  # not asked for


async def test_fields_select_what_is_written(api: Api) -> None:
    product = await new_product(api)
    body = (await generate(api, product["id"], fields=["seo_keywords"])).json()
    assert body["description"] == ""
    assert len(body["seo_keywords"]) >= 5


async def test_generate_is_for_admins_only(api: Api) -> None:
    product = await new_product(api)
    url = f"/api/v1/products/{product['id']}/generate"
    assert_error(await api.client.post(url, json={}), 401, "UNAUTHENTICATED")
    assert_error(await api.client.post(url, json={}, headers=await api.customer()), 403, "FORBIDDEN")
    assert_error(await api.client.get("/api/v1/ai/status", headers=await api.customer()), 403, "FORBIDDEN")
    assert (await api.client.get(f"/api/v1/products/{product['id']}")).json()["description"] == ""


async def test_bad_requests(api: Api) -> None:
    product = await new_product(api)
    assert_error(await generate(api, 999_999), 404, "NOT_FOUND")
    assert_error(await generate(api, product["id"], fields=["title"]), 422, "VALIDATION_ERROR")
    assert_error(await generate(api, product["id"], fields=[]), 422, "VALIDATION_ERROR")
    assert_error(await generate(api, product["id"], provider="openai"), 422, "VALIDATION_ERROR")


async def test_generate_content_on_create_runs_a_job(
    make_api: AppFactory, first: FakeProvider, connection: AsyncConnection
) -> None:
    api = await ai_api(make_api, first)
    product = await new_product(api, title="Oak Chopping Board", generate_content=True)
    job = (await connection.execute(select(Job).where(Job.name == GENERATE_CONTENT_JOB))).one()
    assert job.payload == {"product_id": product["id"]}
    assert job.status == JobStatus.DONE
    stored = (await api.client.get(f"/api/v1/products/{product['id']}")).json()
    assert stored["description"] == GOOD["description"]
    assert stored["seo_keywords"] == GOOD["seo_keywords"]
    assert first.count == 1


async def test_a_failing_chain_leaves_the_job_to_be_retried(
    make_api: AppFactory, first: FakeProvider, connection: AsyncConnection
) -> None:
    first.default = status(500)
    api = await ai_api(make_api, first, ai_local_enabled=False, ai_job_budget_seconds=1.0)
    product = await new_product(api, generate_content=True)
    assert product["description"] == ""
    job = (await connection.execute(select(Job).where(Job.name == GENERATE_CONTENT_JOB))).one()
    assert job.status == JobStatus.PENDING
    assert job.attempts == 1
    assert "AiUnavailable" in job.last_error


async def test_without_generate_content_no_job_is_written(api: Api, connection: AsyncConnection) -> None:
    await new_product(api)
    assert (await connection.execute(select(Job).where(Job.name == GENERATE_CONTENT_JOB))).first() is None


async def test_status_lists_providers_in_order_with_counts(
    make_api: AppFactory, first: FakeProvider, second: FakeProvider
) -> None:
    first.default = status(500)
    api = await ai_api(make_api, first, second, ai_max_attempts=1)
    await generate(api, (await new_product(api))["id"])
    response = await api.client.get("/api/v1/ai/status", headers=await api.admin_headers())
    assert response.status_code == 200
    providers = response.json()["providers"]
    assert [provider["name"] for provider in providers] == [first.entry(), second.entry(), "local"]
    assert providers[0] | {"reason": None} == {
        "name": first.entry(),
        "available": True,
        "reason": None,
        "circuit": "closed",
        "calls": 1,
        "failures": {"server_error": 1},
        "input_tokens": 0,
        "output_tokens": 0,
    }
    assert providers[1]["calls"] == 1
    assert (providers[1]["input_tokens"], providers[1]["output_tokens"]) == (11, 7)
    assert providers[2]["circuit"] is None


async def test_a_provider_that_cannot_be_built_is_reported_not_fatal(
    make_api: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    api = await make_api(ai_models=["anthropic:claude-sonnet-4-5"])
    providers = (await api.client.get("/api/v1/ai/status", headers=await api.admin_headers())).json()["providers"]
    assert providers[0]["name"] == "anthropic:claude-sonnet-4-5"
    assert providers[0]["available"] is False
    assert "ANTHROPIC_API_KEY" in providers[0]["reason"]
    assert (await generate(api, (await new_product(api))["id"])).json()["provider"] == "local"


async def test_metrics_per_provider(make_api: AppFactory, first: FakeProvider) -> None:
    first.then(status(500))
    api = await ai_api(make_api, first)
    await generate(api, (await new_product(api))["id"])
    text = (await api.client.get("/metrics")).text
    name = first.entry()
    assert f'ai_calls_total{{provider="{name}"}} 2.0' in text
    assert f'ai_failures_total{{kind="server_error",provider="{name}"}} 1.0' in text
    assert f'ai_tokens_total{{direction="in",provider="{name}"}} 11.0' in text
    assert f'ai_tokens_total{{direction="out",provider="{name}"}} 7.0' in text
    assert f'ai_call_duration_seconds_count{{provider="{name}"}} 2.0' in text
    assert f'ai_circuit_state{{provider="{name}"}} 0.0' in text
