"""Checkout writes, by sub-domain: `carts` (create, lines, addresses and shipping method),
`merge` (a guest cart into the customer's at sign-in), `purge` (expired carts)."""
