"""Cases for variables, constants and introspection."""

import numpy as np

from . import ALL_FLOATS, Arr, Case, Ints, Rand

CASES = [
    Case("cast", (Rand((2, 3), -3, 3), "int32"), dtypes=ALL_FLOATS, name="to_int32",
         expected=lambda x, d: np.trunc(x.astype(np.float64)).astype(np.int32)),
    Case("cast", (Rand((2, 3)), "float16"), dtypes=("float32", "float64"), name="to_float16"),
    Case("cast", (Ints((4,), -2, 3), "bool"), name="int_to_bool", expected=lambda x, d: x != 0),
    Case("zeros_like", (Rand((2, 3)),), dtypes=ALL_FLOATS),
    Case("ones_like", (Ints((2, 3)),), name="int", expected=lambda x: np.ones((2, 3), np.int32)),
    Case("ones_like", (Rand((2, 3)),), {"dtype": "float64"}, name="dtype"),
    Case("identity", (Rand((2, 3)),), dtypes=ALL_FLOATS),
    Case("eval", (Rand((3,), variable=True),), dtypes=ALL_FLOATS),
    Case("get_value", (Rand((3,), variable=True),)),
    Case("shape", (Rand((2, 3)),), expected=np.array([2, 3], np.int32)),
    Case("size", (Rand((2, 3)),), expected=np.array(6, np.int32)),
    Case("int_shape", (Rand((2, 3, 4)),), expected=(2, 3, 4)),
    Case("ndim", (Rand((2, 3, 4)),), expected=3),
    Case("dtype", (Rand((2,)),), dtypes=ALL_FLOATS + ("int8",), oracle=False),
    Case("count_params", (Rand((2, 3), variable=True),), expected=6),
    Case("eye", (3,), expected=np.eye(3, dtype=np.float32)),
    Case("eye", ((2, 3),), name="rect", oracle="tf_keras.eye takes an int only", expected=np.eye(2, 3, dtype=np.float32)),
    Case("zeros", ((2, 3),), expected=np.zeros((2, 3), np.float32)),
    Case("ones", ((2, 3), "int32"), name="int", expected=np.ones((2, 3), np.int32)),
    Case("constant", (2.0,), {"shape": (2, 2)}, expected=np.full((2, 2), 2.0, np.float32)),
    Case("random_uniform_variable", ((20, 30), -2.0, 2.0), {"seed": 3}, compare="shape", oracle=False,
         check=lambda out, *a, **k: np.testing.assert_array_less(np.abs(out), 2.0 + 1e-6)),
    Case("random_normal_variable", ((50, 40), 1.0, 0.5), {"seed": 3}, compare="shape", oracle=False,
         check=lambda out, *a, **k: np.testing.assert_allclose([out.mean(), out.std()], [1.0, 0.5], atol=0.05)),
]
