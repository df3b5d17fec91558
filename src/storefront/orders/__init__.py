"""Orders, inventory, idempotent checkout and what follows an order."""
