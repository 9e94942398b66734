TRANSFORMS = {
    "edge_dropout": "augkit_clash.transforms:Double",  # augkit's own name: skipped
    "shared.double": "augkit_clash.transforms:Double",  # also augkit-zclash's: this one wins
    "clash.getcwd": "os:getcwd",  # not a Transform
    "clash.explode": "augkit_clash.explode:Explode",  # its module raises on import
    "clash.bad_spec": 42,  # not a manifest entry
}
