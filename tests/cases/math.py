"""Cases for reductions, elementwise math, comparisons and linear algebra.

Expected values are Keras 2 facts written as NumPy formulas of the inputs, evaluated in float64 and
cast to the input dtype (``wide``), or exact formulas whose dtype is the fact (``exact``).
N-D ``dot`` and ``batch_dot`` are stated with ``einsum`` so that they do not restate the reference.
"""

import numpy as np

from . import ALL_FLOATS, F32_64, Arr, Case, Ints, Rand

NUMERIC = ALL_FLOATS + ("int32",)


def _f64(value):
    if isinstance(value, np.ndarray) and (value.dtype.kind == "f" or value.dtype.name == "bfloat16"):
        return value.astype(np.float64)
    return value


def _kwargs(kwargs):
    return {k: tuple(v) if isinstance(v, list) else _f64(v) for k, v in kwargs.items()}


def wide(fn):
    """Expected value: ``fn`` on float64 copies of the inputs, cast to the first input's dtype."""

    def expected(*args, **kwargs):
        out = fn(*[_f64(a) for a in args], **_kwargs(kwargs))
        return np.asarray(out).astype(args[0].dtype)

    return expected


def exact(fn):
    """Expected value: ``fn`` on the inputs as they are (list axes become tuples)."""

    def expected(*args, **kwargs):
        return np.asarray(fn(*args, **_kwargs(kwargs)))

    return expected


REDUCTION_KWARGS = {
    "": {},
    "axis1": {"axis": 1},
    "axes_list": {"axis": [1, -1]},
    "keepdims": {"axis": -1, "keepdims": True},
    "all_keepdims": {"keepdims": True},
}


def _reductions(name, formula, dtypes, low=-5.0, high=5.0, shape=(2, 3, 4)):
    return [
        Case(name, (Rand(shape, low, high),), kwargs, dtypes=dtypes, name=variant, expected=wide(formula))
        for variant, kwargs in REDUCTION_KWARGS.items()
    ]


def _bool_reductions(name, formula):
    value = Arr([[[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]], [[2.0, -1.0, 3.0], [0.5, 0.0, 4.0]]])
    return [
        Case(name, (value,), kwargs, dtypes=NUMERIC, name=variant, expected=exact(formula))
        for variant, kwargs in REDUCTION_KWARGS.items()
    ]


def _comparisons(name, formula):
    left = Arr([[1.0, 2.0, 3.0], [4.0, 5.0, -6.0]])
    right = Arr([[1.0, 0.0, 3.0], [6.0, 5.0, -4.0]])
    return [
        Case(name, (left, right), dtypes=NUMERIC, expected=exact(formula)),
        Case(name, (Rand((2, 3), -2, 2), 0.5), dtypes=ALL_FLOATS, name="scalar", expected=exact(formula)),
        Case(name, (Arr([[0.5, 1.0], [2.0, 0.25]]), Arr([0.5, 2.0])), dtypes=ALL_FLOATS, name="broadcast",
             expected=exact(formula)),
        Case(name, (Ints((3, 4), 0, 3), Ints((3, 4), 0, 3)), name="ints", expected=exact(formula)),
    ]


def _cumulative(fn):
    return lambda x, axis=0: fn(x, axis=axis)


def _batch_dot(name, x_shape, y_shape, spec, axes="default", dtypes=ALL_FLOATS):
    """A batch_dot case whose expectation is an einsum; a (batch,) result is a (batch, 1) fact."""

    def formula(x, y, axes=None):
        out = np.einsum(spec, x, y)
        return out[:, None] if out.ndim == 1 else out

    kwargs = {} if axes == "default" else {"axes": axes}
    return Case("batch_dot", (Rand(x_shape, -2, 2), Rand(y_shape, -2, 2)), kwargs, dtypes=dtypes, name=name,
                expected=wide(formula))


CASES = [
    # reductions
    *_reductions("max", np.max, NUMERIC),
    *_reductions("min", np.min, NUMERIC),
    *_reductions("sum", np.sum, NUMERIC),
    *_reductions("prod", np.prod, NUMERIC, -2.0, 2.0),
    Case("prod", (Arr([[2, 4, 6], [2, 4, 6]], floating=False),), {"axis": 1}, name="keras_example",
         expected=np.array([48, 48])),
    Case("sum", ([[1.0, 2.0], [3.0, 4.5]],), {"axis": 0}, name="python_list",
         expected=np.array([4.0, 6.5], np.float32)),
    Case("sum", (Rand((3, 4), variable=True),), {"axis": 0}, dtypes=ALL_FLOATS, name="variable",
         expected=wide(np.sum)),
    Case("cumsum", (Rand((3, 4), -5, 5),), dtypes=NUMERIC, expected=wide(_cumulative(np.cumsum))),
    Case("cumsum", (Rand((3, 4), -5, 5),), {"axis": -1}, dtypes=NUMERIC, name="axis_neg1",
         expected=wide(_cumulative(np.cumsum))),
    Case("cumsum", (Arr([[1.0, 2.0], [3.0, 4.0]]),), name="default_axis0",
         expected=np.array([[1.0, 2.0], [4.0, 6.0]], np.float32)),
    Case("cumprod", (Rand((3, 4), -2, 2),), dtypes=NUMERIC, expected=wide(_cumulative(np.cumprod))),
    Case("cumprod", (Rand((3, 4), -2, 2),), {"axis": 1}, dtypes=NUMERIC, name="axis1",
         expected=wide(_cumulative(np.cumprod))),
    *_reductions("mean", np.mean, ALL_FLOATS),
    *_reductions("var", np.var, ALL_FLOATS),
    *_reductions("std", np.std, ALL_FLOATS),
    Case("var", (Arr([[1.0, 3.0], [2.0, 6.0]]),), {"axis": 1}, dtypes=ALL_FLOATS, name="divides_by_n",
         expected=wide(lambda x, axis: np.array([1.0, 4.0]))),
    Case("mean", (Arr([[True, False, True], [False, False, True]], floating=False),), {"axis": 1},
         name="bool", expected=np.array([2 / 3, 1 / 3], np.float32)),
    Case("var", (Arr([True, False, True], floating=False),), name="bool",
         expected=np.array(2 / 9, np.float32)),
    Case("std", (Arr([True, False, True], floating=False),), name="bool",
         expected=np.array(np.sqrt(2) / 3, np.float32)),
    Case("mean", (Arr([[1, 2], [3, 6]], floating=False, dtype="int32"),), {"axis": 0}, name="int",
         expected=np.array([2.0, 4.0], np.float32),
         oracle="tf_keras reduce_mean on ints divides in integers ([2, 4] as int32)"),
    Case("var", (Arr([1, 2, 6], floating=False, dtype="int32"),), name="int",
         expected=np.array(14 / 3, np.float32), oracle="tf_keras var raises TypeError on ints"),
    Case("std", (Arr([1, 2, 6], floating=False, dtype="int32"),), name="int",
         expected=np.array(np.sqrt(14 / 3), np.float32), oracle="tf_keras std raises TypeError on ints"),
    *_bool_reductions("any", np.any),
    *_bool_reductions("all", np.all),
    Case("any", (Arr([[True, False], [False, False]], floating=False),), {"axis": 1}, name="bool",
         expected=np.array([True, False])),
    Case("argmax", (Rand((3, 4, 5), -5, 5),), dtypes=NUMERIC, expected=exact(lambda x: np.argmax(x, -1))),
    Case("argmax", (Rand((3, 4, 5), -5, 5),), {"axis": 1}, dtypes=NUMERIC, name="axis1",
         expected=exact(np.argmax)),
    Case("argmax", (Arr([[1.0, 9.0, 9.0], [4.0, 2.0, 0.0]]),), dtypes=NUMERIC, name="ties",
         expected=np.array([1, 0], np.int64)),
    Case("argmin", (Rand((3, 4, 5), -5, 5),), dtypes=NUMERIC, expected=exact(lambda x: np.argmin(x, -1))),
    Case("argmin", (Rand((3, 4, 5), -5, 5),), {"axis": 0}, dtypes=NUMERIC, name="axis0",
         expected=exact(np.argmin)),
    Case("argmin", (Arr([[1.0, 0.0, 0.0], [4.0, 2.0, 5.0]]),), dtypes=NUMERIC, name="ties",
         expected=np.array([1, 1], np.int64)),
    *_reductions("logsumexp", lambda x, **k: np.log(np.sum(np.exp(x), **k)), ALL_FLOATS, -3.0, 3.0),
    Case("logsumexp", (Arr([1e4, 1e-4]),), dtypes=F32_64, name="no_overflow",
         expected=wide(lambda x: np.array(1e4))),
    Case("logsumexp", (Arr([[1000.0, 1000.0], [-1000.0, -1000.0]]),), {"axis": 1}, dtypes=F32_64,
         name="large_rows", expected=wide(lambda x, axis: np.array([1000.0, -1000.0]) + np.log(2))),
    # elementwise math
    Case("square", (Rand((2, 3), -5, 5),), dtypes=NUMERIC, expected=wide(np.square)),
    Case("abs", (Rand((2, 3), -5, 5),), dtypes=NUMERIC, expected=wide(np.abs)),
    Case("sqrt", (Rand((2, 3), -1, 4),), dtypes=ALL_FLOATS,
         expected=wide(lambda x: np.sqrt(np.maximum(x, 0)))),
    Case("sqrt", (Arr([-1.0, 4.0, 0.0]),), dtypes=ALL_FLOATS, name="negative_is_zero",
         expected=wide(lambda x: np.array([0.0, 2.0, 0.0]))),
    Case("exp", (Rand((2, 3), -3, 3),), dtypes=ALL_FLOATS, expected=wide(np.exp)),
    Case("log", (Rand((2, 3), 0.1, 5),), dtypes=ALL_FLOATS, expected=wide(np.log)),
    Case("log", (Arr([1.0, 0.0]),), dtypes=ALL_FLOATS, name="zero",
         expected=wide(lambda x: np.array([0.0, -np.inf]))),
    Case("round", (Rand((2, 3), -5, 5),), dtypes=NUMERIC, expected=wide(np.round)),
    Case("round", (Arr([0.5, 1.5, 2.5, -0.5, -1.5, 0.4]),), dtypes=ALL_FLOATS, name="half_to_even",
         expected=wide(lambda x: np.array([0.0, 2.0, 2.0, -0.0, -2.0, 0.0]))),
    Case("sign", (Rand((2, 3), -5, 5),), dtypes=NUMERIC, expected=wide(np.sign)),
    Case("sign", (Arr([-2.0, 0.0, 3.0]),), dtypes=NUMERIC, name="zero",
         expected=wide(lambda x: np.array([-1, 0, 1]))),
    Case("pow", (Rand((2, 3), -3, 3), 2), dtypes=NUMERIC, expected=wide(np.power)),
    Case("pow", (Rand((2, 3), 0.1, 3), 0.5), dtypes=ALL_FLOATS, name="float_exponent",
         expected=wide(np.power)),
    Case("pow", (Rand((2, 3), 0.5, 2), Rand((2, 3), -2, 2)), dtypes=ALL_FLOATS, name="tensor_exponent",
         expected=wide(np.power)),
    Case("clip", (Rand((3, 4), -5, 5), -2, 3), dtypes=NUMERIC, expected=wide(np.clip)),
    Case("clip", (Rand((3, 4), -1, 1), 0.5, -0.5), dtypes=ALL_FLOATS, name="max_below_min",
         expected=wide(lambda x, lo, hi: np.full(x.shape, 0.5))),
    Case("clip", (Rand((3, 4), -1, 1), None, 0.25), dtypes=ALL_FLOATS, name="no_min",
         expected=wide(lambda x, lo, hi: np.minimum(x, hi))),
    Case("clip", (Rand((3, 4), -1, 1), -0.25, None), dtypes=ALL_FLOATS, name="no_max",
         expected=wide(lambda x, lo, hi: np.maximum(x, lo))),
    Case("clip", (Rand((3, 4), -2, 2), Rand((3, 4), -1, 0), Rand((3, 4), 0, 1)), dtypes=ALL_FLOATS,
         name="tensor_bounds", expected=wide(np.clip)),
    Case("clip", (Arr([1.0, 5.0, 3.0]), Arr([4.0]), Arr([2.0])), dtypes=ALL_FLOATS,
         name="tensor_bounds_cross", expected=wide(lambda x, lo, hi: np.array([4.0, 4.0, 4.0]))),
    Case("maximum", (Rand((2, 3), -5, 5), Rand((2, 3), -5, 5)), dtypes=NUMERIC, expected=wide(np.maximum)),
    Case("maximum", (Rand((2, 3)), 0.25), dtypes=ALL_FLOATS, name="scalar", expected=wide(np.maximum)),
    Case("maximum", (Rand((2, 3)), Rand((3,))), dtypes=F32_64, name="broadcast", expected=wide(np.maximum)),
    Case("minimum", (Rand((2, 3), -5, 5), Rand((2, 3), -5, 5)), dtypes=NUMERIC, expected=wide(np.minimum)),
    Case("minimum", (Rand((2, 3)), 0.25), dtypes=ALL_FLOATS, name="scalar", expected=wide(np.minimum)),
    Case("minimum", (Rand((2, 3)), Rand((3,))), dtypes=F32_64, name="broadcast", expected=wide(np.minimum)),
    Case("sin", (Rand((2, 3), -3, 3),), dtypes=ALL_FLOATS, expected=wide(np.sin)),
    Case("cos", (Rand((2, 3), -3, 3),), dtypes=ALL_FLOATS, expected=wide(np.cos)),
    # comparisons
    *_comparisons("equal", np.equal),
    *_comparisons("not_equal", np.not_equal),
    *_comparisons("greater", np.greater),
    *_comparisons("greater_equal", np.greater_equal),
    *_comparisons("less", np.less),
    *_comparisons("less_equal", np.less_equal),
    # linear algebra
    Case("dot", (Rand((2, 3), -3, 3), Rand((3, 4), -3, 3)), dtypes=NUMERIC,
         expected=wide(lambda x, y: np.einsum("ij,jk->ik", x, y))),
    Case("dot", (Rand((2, 3)), Rand((4, 3, 5))), dtypes=ALL_FLOATS, name="2d_3d",
         expected=wide(lambda x, y: np.einsum("ij,kjl->ikl", x, y))),
    Case("dot", (Rand((2, 3, 4)), Rand((4, 5))), dtypes=ALL_FLOATS, name="3d_2d",
         expected=wide(lambda x, y: np.einsum("abi,ij->abj", x, y))),
    Case("dot", (Rand((2, 3, 4)), Rand((5, 4, 6))), dtypes=ALL_FLOATS, name="3d_3d",
         expected=wide(lambda x, y: np.einsum("abi,cid->abcd", x, y))),
    _batch_dot("axes_2_2", (4, 2, 3), (4, 5, 3), "bij,bkj->bik", (2, 2), NUMERIC),
    _batch_dot("2d_axes1", (32, 20), (32, 20), "bi,bi->b", 1),
    _batch_dot("2d_default", (3, 4), (3, 4), "bi,bi->b"),
    _batch_dot("3d_2d_default", (3, 5, 4), (3, 4), "bij,bj->bi"),
    _batch_dot("2d_3d_default", (3, 4), (3, 4, 6), "bi,bij->bj"),
    _batch_dot("3d_3d_default", (3, 2, 4), (3, 4, 6), "bij,bjk->bik"),
    _batch_dot("axes_1_2", (32, 20, 1), (32, 30, 20), "bji,bkj->bik", (1, 2)),
    _batch_dot("2d_3d_axes_1_2", (5, 4), (5, 3, 4), "bi,bji->bj", (1, 2)),
    _batch_dot("negative_axes", (3, 4, 5), (3, 5, 4), "bij,bjk->bik", (-1, -2)),
    _batch_dot("int_axes", (3, 4, 5), (3, 6, 5), "bij,bkj->bik", 2),
    _batch_dot("list_axes", (3, 4, 5), (3, 5, 2), "bij,bjk->bik", [2, 1]),
    _batch_dot("4d_3d_default", (3, 2, 5, 4), (3, 4, 6), "bijk,bkl->bijl"),
    _batch_dot("3d_4d_default", (3, 2, 4), (3, 7, 4, 6), "bik,blkm->bilm"),
    _batch_dot("4d_4d_axes_1_2", (3, 4, 5, 6), (3, 7, 4, 2), "bkij,blkm->bijlm", (1, 2)),
    Case("transpose", (Rand((2, 3), -5, 5),), dtypes=NUMERIC, expected=wide(lambda x: x.T)),
    Case("transpose", (Rand((2, 3, 4)),), dtypes=ALL_FLOATS, name="3d",
         expected=wide(lambda x: np.einsum("ijk->kji", x))),
    Case("transpose", (Rand((3,)),), name="1d", expected=wide(lambda x: x)),
    Case("transpose", (Rand((2, 3), variable=True),), name="variable", expected=wide(lambda x: x.T)),
]
