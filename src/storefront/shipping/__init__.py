"""Shipping zones (countries) and their rates (admin), and the options a cart may choose."""
