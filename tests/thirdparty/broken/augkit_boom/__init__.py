"""A plugin whose manifest module fails on import with something other than ImportError."""
