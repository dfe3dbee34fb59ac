"""Data access: plain async functions over a session. They never commit: the caller's
transaction (one per update or job) does."""
