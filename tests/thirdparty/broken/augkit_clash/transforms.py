from augkit.transform import Transform


class Double(Transform):
    name = "shared.double"
    kinds = ("table",)

    def apply(self, data, params):
        return data * 2
