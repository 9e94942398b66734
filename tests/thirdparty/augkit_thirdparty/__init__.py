"""A third-party augkit plugin, as another package would write one (used by the tests)."""
