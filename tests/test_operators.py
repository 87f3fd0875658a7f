"""Python operators on variables and symbolic tensors, on every engine, against NumPy.

Every operator of the one table (``kbackend._dispatch.OPERATORS``) is applied to a variable (eager),
to a variable inside a graph (recorded, so the function reads the variable's value when it runs, not
the value at build time) and to a placeholder, with ids ``[<operator>-<operands>-<engine>-<kind>]``.
"""

import operator

import numpy as np
import pytest

import kbackend as K
from kbackend._dispatch import OPERATORS

from conftest import BACKENDS

FLOATS = np.array([[1.5, -2.0], [3.0, 0.5]], dtype="float32")
INTS = np.array([[6, 3], [-4, 5]], dtype="int32")
BOOLS = np.array([[True, False], [True, True]])
OTHER_FLOATS = np.array([[0.5, 4.0], [-1.0, 2.0]], dtype="float32")

#: (id, operator, left operand, right operand): ``"v"`` marks where the variable or tensor goes.
CASES = [
    ("add", operator.add, "v", 2.0), ("radd", operator.add, 2.0, "v"),
    ("sub", operator.sub, "v", 1.0), ("rsub", operator.sub, 1.0, "v"),
    ("mul", operator.mul, "v", 3.0), ("rmul", operator.mul, 3.0, "v"),
    ("truediv", operator.truediv, "v", 4.0), ("rtruediv", operator.truediv, 4.0, "v"),
    ("floordiv", operator.floordiv, "v", 2.0), ("rfloordiv", operator.floordiv, 7.0, "v"),
    ("mod", operator.mod, "v", 2.0), ("rmod", operator.mod, 7.0, "v"),
    ("pow", operator.pow, "v", 2.0), ("rpow", operator.pow, 2.0, "v"),
    ("matmul", operator.matmul, "v", OTHER_FLOATS), ("rmatmul", operator.matmul, OTHER_FLOATS, "v"),
    ("lt", operator.lt, "v", 1.0), ("le", operator.le, "v", 1.5),
    ("gt", operator.gt, "v", 1.0), ("ge", operator.ge, "v", 1.5),
    ("neg", operator.neg, "v", None), ("pos", operator.pos, "v", None), ("abs", operator.abs, "v", None),
    ("getitem", operator.getitem, "v", 0), ("getitem_slice", operator.getitem, "v", (slice(None), 1)),
]
BITWISE = [
    ("and", operator.and_, "v", 1), ("rand", operator.and_, 1, "v"),
    ("or", operator.or_, "v", 2), ("ror", operator.or_, 2, "v"),
    ("xor", operator.xor, "v", 1), ("rxor", operator.xor, 1, "v"),
    ("invert", operator.invert, "v", None),
]
BOOLEAN = [
    ("and", operator.and_, "v", True), ("rand", operator.and_, True, "v"),
    ("or", operator.or_, "v", False), ("ror", operator.or_, False, "v"),
    ("xor", operator.xor, "v", True), ("rxor", operator.xor, True, "v"),
    ("invert", operator.invert, "v", None),
]
TABLE = ([(case, "float32", FLOATS) for case in CASES] + [(case, "int32", INTS) for case in BITWISE]
         + [(case, "bool", BOOLS) for case in BOOLEAN])
KINDS = ("variable", "variable_in_graph", "placeholder")


def test_the_table_covers_every_operator():
    names = {name for name, _, _ in OPERATORS} | {"r" + name for name, _, reflected in OPERATORS if reflected}
    tested = {case[0].split("_")[0] for case, _, _ in TABLE}
    assert names <= tested, sorted(names - tested)


def _apply(fn, left, right, value):
    if right is None:
        return fn(value)
    return fn(value if isinstance(left, str) else left, value if isinstance(right, str) else right)


def _params():
    for (case_id, fn, left, right), dtype, array in TABLE:
        for backend in BACKENDS:
            for kind in KINDS:
                yield pytest.param(fn, left, right, array, backend, kind,
                                   id=f"{case_id}-{dtype}-{backend}-{kind}")


@pytest.mark.parametrize("fn, left, right, array, backend, kind", list(_params()))
def test_operator(fn, left, right, array, backend, kind):
    K.clear_session()
    expected = _apply(fn, left, right, array)
    with K.backend_scope(backend):
        if kind == "variable":
            result = K.eval(_apply(fn, left, right, K.variable(array, dtype=str(array.dtype))))
        elif kind == "placeholder":
            x = K.placeholder(shape=array.shape, dtype=str(array.dtype))
            result = K.function([x], [_apply(fn, left, right, x)])([array])[0]
        else:
            variable = K.variable(np.zeros_like(array), dtype=str(array.dtype))
            K.placeholder(shape=(1,))  # this thread now builds graphs: operators on variables are recorded
            run = K.function([], [_apply(fn, left, right, variable)])
            K.set_value(variable, array)  # the value the function must read
            result = run([])[0]
    result = np.asarray(result)
    assert result.shape == np.shape(expected)
    np.testing.assert_allclose(result.astype(np.float64), np.asarray(expected, dtype=np.float64), rtol=1e-6)
