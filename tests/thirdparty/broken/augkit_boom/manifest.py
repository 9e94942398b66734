raise RuntimeError("the boom plugin is broken")
