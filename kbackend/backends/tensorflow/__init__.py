"""The TensorFlow backend: eager TensorFlow 2, values are ``tf.Tensor`` and ``tf.Variable``.

TensorFlow is imported only when this package is, i.e. when the backend is first used.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ..._dispatch import collect  # noqa: E402
from . import control, conv, math, nn, random, shape, variables  # noqa: E402
from .variables import Variable  # noqa: E402

VARIABLE_TYPES = (Variable,)


def implementations():
    return collect(variables, math, shape, nn, conv, random, control)
