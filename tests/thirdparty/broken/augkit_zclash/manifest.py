TRANSFORMS = {"shared.double": "augkit_zclash.transforms:Triple"}
