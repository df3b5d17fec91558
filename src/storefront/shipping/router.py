"""Shipping zone routes (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from storefront.core.dependencies import API_PREFIX, StateDep
from storefront.core.pagination import Page, PageParamsDep
from storefront.core.params import ResourceId
from storefront.identity.dependencies import AdminUser
from storefront.shipping.dependencies import ShippingServiceDep
from storefront.shipping.schemas import ZoneCreate, ZoneRead, ZoneUpdate, zone_read

router = APIRouter(prefix=f"{API_PREFIX}/admin/shipping-zones", tags=["shipping"])

CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "CONFLICT: a country is already in another zone"}}


@router.get("", response_model=Page[ZoneRead], summary="Shipping zones with their countries and rates, oldest first")
async def list_zones(_: AdminUser, service: ShippingServiceDep, page: PageParamsDep, state: StateDep) -> object:
    keyset = state.cursors.keyset("shipping-zones", page)
    rows = await service.list_zones(keyset)
    return state.cursors.id_page("shipping-zones", rows, keyset, zone_read)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ZoneRead, responses=CONFLICT)
async def create_zone(body: ZoneCreate, _: AdminUser, service: ShippingServiceDep, response: Response) -> object:
    zone = await service.create_zone(body)
    response.headers["Location"] = f"{API_PREFIX}/admin/shipping-zones/{zone.id}"
    return zone_read(zone)


@router.get("/{zone_id}", response_model=ZoneRead)
async def read_zone(zone_id: ResourceId, _: AdminUser, service: ShippingServiceDep) -> object:
    return zone_read(await service.get_zone(zone_id))


@router.patch(
    "/{zone_id}",
    response_model=ZoneRead,
    responses=CONFLICT,
    summary="Change a zone; `countries` and `rates` replace its lists (rates keep the ids given)",
)
async def update_zone(zone_id: ResourceId, body: ZoneUpdate, _: AdminUser, service: ShippingServiceDep) -> object:
    return zone_read(await service.update_zone(zone_id, body))


@router.delete(
    "/{zone_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a zone and its rates; carts that chose one of them choose again",
)
async def delete_zone(zone_id: ResourceId, _: AdminUser, service: ShippingServiceDep) -> Response:
    await service.delete_zone(zone_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
