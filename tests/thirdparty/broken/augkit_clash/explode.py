raise ValueError("the explode module is broken")
