from augkit.params import Number, Param
from augkit.transform import Transform


class Negate(Transform):
    """Multiplies the input by -factor."""

    name = "thirdparty.negate"
    kinds = ("table",)
    params = {"factor": Param(Number(0.0, 10.0), 1.0, "scale of the negation")}

    def apply(self, data, params):
        return data * -self.factor
