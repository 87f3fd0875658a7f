"""The PyTorch backend: eager torch tensors, ``torch.nn.Parameter`` variables, torch's own kernels.

Imported only when the torch backend is selected.  Functions in the topic modules are named like the
ops and take the canonical arguments (see :mod:`kbackend._dispatch`).  None is a bare rename of a torch
function: ops also accept NumPy arrays and Python values, so each one starts with a single class check
(``x if x.__class__ is Tensor else to_tensor(x)``) before calling torch.
"""

from ..._dispatch import collect
from . import control, conv, math, nn, random, shape, variables
from .operators import OPERATORS
from .runner import make_runner  # noqa: F401  (how K.function runs on this engine)
from .variables import Variable, feed

VARIABLE_TYPES = (Variable,)


def implementations():
    return collect(variables, math, shape, nn, conv, random, control)
