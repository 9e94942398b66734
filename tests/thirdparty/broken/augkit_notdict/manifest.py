TRANSFORMS = ["not", "a", "dict"]
