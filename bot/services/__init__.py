"""Domain rules and use cases: plain typed functions, no `telegram` import."""
