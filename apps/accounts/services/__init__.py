"""Writes of apps.accounts, one module per flow: registration (sign-up, email verification),
sessions (sign-in, refresh, sign-out, revocation), passwords (reset, change), profile (update,
deletion) and addresses (the address book)."""
