"""Payments: one small provider interface (manual, Stripe), webhooks applied once, refunds."""
