TRANSFORMS = {
    "thirdparty.negate": {"target": "augkit_thirdparty.transforms:Negate", "kinds": ["table"]},
}
