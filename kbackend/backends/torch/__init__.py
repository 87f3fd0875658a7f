"""The PyTorch backend: eager torch tensors, ``torch.nn.Parameter`` variables, torch's own kernels.

Imported only when the torch backend is selected.  Functions in the topic modules are named like the
ops and take the canonical arguments (see :mod:`kbackend._dispatch`); ops whose torch function already
has the exact semantics come from the rename table of the topic module (``RENAMES``).
"""

from ..._dispatch import collect
from . import control, conv, math, nn, random, shape, variables

_TOPICS = (variables, math, shape, nn, conv, random, control)


def implementations():
    renames = {}
    for topic in _TOPICS:
        renames.update(getattr(topic, "RENAMES", {}))
    return collect(*_TOPICS, renames=renames)
