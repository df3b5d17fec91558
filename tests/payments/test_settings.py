"""Stripe needs its keys: the process refuses to start without them, with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import storefront


@pytest.mark.parametrize(
    "env",
    [
        {"STOREFRONT_PAYMENT_PROVIDER": "stripe"},
        {"STOREFRONT_PAYMENT_PROVIDER": "stripe", "STOREFRONT_STRIPE_API_KEY": "sk_test_x"},
        {"STOREFRONT_PAYMENT_PROVIDER": "stripe", "STOREFRONT_STRIPE_WEBHOOK_SECRET": "whsec_x"},
    ],
)
def test_stripe_without_its_keys_refuses_to_start(tmp_path: Path, env: dict[str, str]) -> None:
    result = storefront(tmp_path, "db", "upgrade", **env)
    assert result.returncode == 2
    assert "STOREFRONT_STRIPE_API_KEY and STOREFRONT_STRIPE_WEBHOOK_SECRET" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
