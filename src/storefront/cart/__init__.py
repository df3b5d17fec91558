"""Each user's cart: lines re-priced on every read, a shipping address and option, and the totals."""
