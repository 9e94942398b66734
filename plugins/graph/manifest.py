TRANSFORMS: dict = {}
