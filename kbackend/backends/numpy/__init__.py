"""The NumPy backend: the reference bodies of the op declarations are its implementations."""

import numpy as np

from ...dtypes import numpy_dtype
from ...ops.variable import Variable, unwrap

REFERENCE = True
VARIABLE_TYPES = (Variable,)


def implementations():
    return {}


def feed(value, dtype):
    """A value fed to ``K.function`` as an array of the placeholder's dtype, without copying when it
    already is one (the graph never writes to its inputs)."""
    return np.asarray(unwrap(value), dtype=numpy_dtype(dtype))
