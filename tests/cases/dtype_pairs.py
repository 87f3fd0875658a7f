"""dtype-pair records for the ``promote`` ops: (operand kinds → the dtype they compute in).

Each record is a Keras 2 fact, written out here rather than computed: TensorFlow's weak Python and NumPy
scalars (``x * 2.0`` keeps ``x``'s dtype, ``x * np.float64(2.0)`` too), and the rule kbackend declares
where TensorFlow refuses a mix (int or bool meeting a float takes the float; two floats or two ints take
the wider).  ``tests/test_dtype_policy.py`` checks every record on every engine, and checks that
:func:`kbackend.dtypes.promote` (the declared table) states the same.

An operand is a dtype name (a tensor), ``"pyfloat"`` / ``"pyint"`` (a Python number) or ``"npfloat64"``
(a NumPy float64 scalar).
"""

#: Two tensors: (x, y, computed dtype); each pair is also checked the other way round.
TENSOR_PAIRS = [
    ("float32", "float64", "float64"),
    ("int32", "float32", "float32"),
    ("bool", "float32", "float32"),
    ("float16", "float32", "float32"),
    ("int32", "int64", "int64"),
]

#: A tensor and a scalar: (tensor dtype, scalar, computed dtype); also checked the other way round.
SCALAR_PAIRS = [
    ("float16", "pyfloat", "float16"),
    ("float32", "pyfloat", "float32"),
    ("float64", "pyfloat", "float64"),
    ("int32", "pyfloat", "float32"),  # a Python float is floatx() (TensorFlow's type), and takes over
    ("int64", "pyfloat", "float32"),
    ("bool", "pyfloat", "float32"),
    ("float16", "pyint", "float16"),
    ("float32", "pyint", "float32"),
    ("float64", "pyint", "float64"),
    ("int32", "pyint", "int32"),
    ("int64", "pyint", "int64"),
    ("bool", "pyint", "int32"),  # an int meeting a bool tensor: Keras 2's int32
    ("float32", "npfloat64", "float32"),  # a NumPy scalar is weak, as TensorFlow converts it
    ("float16", "npfloat64", "float16"),
]

#: promote ops that take two operands of any kind (tensor or scalar); ``comparison`` ones return bool.
ELEMENTWISE = {"maximum": False, "minimum": False, "pow": False, "equal": True, "not_equal": True,
               "greater": True, "greater_equal": True, "less": True, "less_equal": True}

#: promote ops that take two tensors only.
TENSOR_ONLY = ("dot", "batch_dot", "concatenate")
