"""Notifications: listing, reading, and the live stream over real HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from storefront.notifications.schemas import NotificationRead
from storefront.notifications.service import NotificationService
from tests.helpers import Api, assert_error, serve


@pytest.fixture
async def ordered(api: Api) -> tuple[dict[str, str], dict[str, Any]]:
    category = await api.category()
    product = await api.product(category["slug"], stock=50)
    buyer = await api.customer()
    for _ in range(3):
        assert (await api.order(buyer, (product["id"], 1))).status_code == 201
    return buyer, product


async def test_list_read_and_read_all(api: Api, ordered: tuple[dict[str, str], dict[str, Any]]) -> None:
    buyer, _ = ordered
    listed = (await api.client.get("/api/v1/notifications", params={"limit": 2}, headers=buyer)).json()
    assert len(listed["items"]) == 2
    assert all(item["kind"] == "order_placed" and item["read_at"] is None for item in listed["items"])
    assert all(item["body"].startswith("1 item, total ") for item in listed["items"])  # not "1 items"
    rest = (
        await api.client.get("/api/v1/notifications", params={"cursor": listed["next_cursor"]}, headers=buyer)
    ).json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None

    first = listed["items"][0]
    read = await api.client.post(f"/api/v1/notifications/{first['id']}/read", headers=buyer)
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    unread = (await api.client.get("/api/v1/notifications", params={"unread": "true"}, headers=buyer)).json()
    assert first["id"] not in [item["id"] for item in unread["items"]]
    assert len(unread["items"]) == 2

    assert (await api.client.post("/api/v1/notifications/read-all", headers=buyer)).status_code == 204
    unread = (await api.client.get("/api/v1/notifications", params={"unread": "true"}, headers=buyer)).json()
    assert unread["items"] == []


async def test_notifications_are_private(api: Api, ordered: tuple[dict[str, str], dict[str, Any]]) -> None:
    buyer, _ = ordered
    other = await api.customer()
    theirs = (await api.client.get("/api/v1/notifications", headers=buyer)).json()["items"][0]
    assert (await api.client.get("/api/v1/notifications", headers=other)).json()["items"] == []
    stolen = await api.client.post(f"/api/v1/notifications/{theirs['id']}/read", headers=other)
    assert_error(stolen, 404, "NOT_FOUND")
    assert_error(await api.client.get("/api/v1/notifications"), 401, "UNAUTHENTICATED")


async def _collect(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], into: list[dict[str, Any]], ready: asyncio.Event
) -> None:
    async with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event = None
        async for line in response.aiter_lines():
            if line.startswith(":"):
                ready.set()
            elif line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "notification":
                into.append(json.loads(line.split(":", 1)[1]))


async def test_the_stream_pushes_own_notifications_only(api: Api, app: FastAPI) -> None:
    category = await api.category()
    product = await api.product(category["slug"], stock=5)
    alice, bob = await api.customer(), await api.customer()
    alice_events: list[dict[str, Any]] = []
    bob_events: list[dict[str, Any]] = []
    async with serve(app) as base, httpx.AsyncClient(base_url=base, timeout=10) as client:
        alice_ready, bob_ready = asyncio.Event(), asyncio.Event()
        streams = [
            asyncio.create_task(_collect(client, "/api/v1/notifications/stream", alice, alice_events, alice_ready)),
            asyncio.create_task(_collect(client, "/api/v1/notifications/stream", bob, bob_events, bob_ready)),
        ]
        await asyncio.wait_for(asyncio.gather(alice_ready.wait(), bob_ready.wait()), 5)
        order = (await api.order(alice, (product["id"], 1))).json()
        for _ in range(100):
            if alice_events:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # time for a wrongly routed event to reach bob
        for stream in streams:
            stream.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    assert [(event["kind"], event["data"]["order_id"]) for event in alice_events] == [("order_placed", order["id"])]
    assert bob_events == []


async def test_offset_skips_the_newest(api: Api, ordered: tuple[dict[str, str], dict[str, Any]]) -> None:
    buyer, _ = ordered
    everything = (await api.client.get("/api/v1/notifications", headers=buyer)).json()["items"]
    skipped = (await api.client.get("/api/v1/notifications", params={"offset": 1}, headers=buyer)).json()["items"]
    assert [item["id"] for item in skipped] == [item["id"] for item in everything[1:]]


async def test_a_dedupe_key_adds_one_notification_and_the_second_is_none(api: Api) -> None:
    # A job that runs twice (a retry, a redelivery) notifies once: the second insert of the
    # same (user, dedupe key) is skipped by the database, not by a read before it.
    buyer = await api.customer()
    me = (await api.client.get("/api/v1/users/me", headers=buyer)).json()
    async with api.state.db.session_scope() as session:
        service = NotificationService(session, None)
        first = await service.notify(me["id"], "order_placed", "Order #9 placed", "1 item", {"order_id": 9}, "once:9")
        again = await service.notify(me["id"], "order_placed", "Another title", "", {}, "once:9")
        other = await service.notify(me["id"], "order_placed", "Order #10 placed", "1 item", {}, "once:10")
    assert first is not None
    assert again is None
    assert other is not None
    assert other.id > first.id
    read = NotificationRead.model_validate(first)
    assert read.created_at.tzinfo is not None
    assert read.read_at is None
    listed = (await api.client.get("/api/v1/notifications", headers=buyer)).json()["items"]
    assert [(item["id"], item["title"], item["data"]) for item in listed] == [
        (other.id, "Order #10 placed", {}),
        (first.id, "Order #9 placed", {"order_id": 9}),
    ]
