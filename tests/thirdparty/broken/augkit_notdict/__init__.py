"""A plugin whose entry point names something other than a dict."""
