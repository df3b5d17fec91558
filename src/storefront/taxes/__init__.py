"""Tax rates per country (admin), and the rate a cart is taxed at."""
