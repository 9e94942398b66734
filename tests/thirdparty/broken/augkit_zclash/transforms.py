from augkit.transform import Transform


class Triple(Transform):
    name = "shared.double"
    kinds = ("table",)

    def apply(self, data, params):
        return data * 3
