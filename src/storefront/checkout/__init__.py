"""Checkout: a cart becomes an order waiting for its payment, in one transaction."""
