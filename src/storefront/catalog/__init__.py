"""Categories and products: listing, search, caching."""
