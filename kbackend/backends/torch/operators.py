"""Python operators on torch: recorded in graphs (``x * y``, ``x[..., ::-1]``) and on variables.

Keras 2 code mixes NumPy values with tensors (``cast_to_floatx(l2) * K.square(w)``) and slices with
negative steps; torch refuses both (an ``ndarray`` operand, a step below one), so the graph's operator
nodes run through these instead.
"""

import builtins
import operator

import numpy as np
import torch

from ..._dispatch import install_operators
from .variables import Tensor, Variable, to_tensor


def _operand(value):
    return to_tensor(value) if isinstance(value, (np.ndarray, np.generic)) else value


def _binary(fn):
    def run(a, b):
        return fn(_operand(a), _operand(b))

    run.__name__ = fn.__name__
    return run


def getitem(x, index):
    """``x[index]`` with NumPy's meaning of negative slice steps (torch.flip / index_select)."""
    parts = index if isinstance(index, tuple) else (index,)
    if not any(isinstance(p, builtins.slice) and p.step is not None and p.step < 0 for p in parts):
        return x[index]
    if not all(p is Ellipsis or isinstance(p, (builtins.slice, int)) for p in parts):
        raise TypeError(f"getitem: index {index!r} mixes negative slice steps with arrays or None; "
                        "expected slices, ints and Ellipsis")
    fill = x.dim() - sum(p is not Ellipsis for p in parts)
    full = []
    for p in parts:
        full.extend([builtins.slice(None)] * fill if p is Ellipsis else [p])
    full += [builtins.slice(None)] * (x.dim() - len(full))
    result = x
    for axis in reversed(range(len(full))):  # last axis first, so earlier axes keep their numbers
        part = full[axis]
        if isinstance(part, int):
            result = result.select(axis, part)
        elif part.step is not None and part.step < 0:
            positions = range(*part.indices(result.shape[axis]))
            result = result.index_select(axis, torch.tensor(list(positions), dtype=torch.long, device=x.device))
        elif part != builtins.slice(None):
            result = result[(builtins.slice(None),) * axis + (part,)]
    return result


OPERATORS = {fn: _binary(fn) for fn in (operator.add, operator.sub, operator.mul, operator.truediv,
                                        operator.floordiv, operator.mod, operator.pow, operator.matmul,
                                        operator.lt, operator.le, operator.gt, operator.ge, operator.and_,
                                        operator.or_, operator.xor)}
OPERATORS[operator.getitem] = getitem


def _eager(name, fn, reflected):
    """A variable's operator when no graph records it: torch's own, with NumPy array operands made
    tensors first (torch refuses ``ndarray @ tensor``)."""
    own = getattr(Tensor, f"__{'r' if reflected else ''}{name}__", None)
    if own is None or name == "getitem":
        return own

    def method(self, *others):
        return own(self, *(to_tensor(o) if o.__class__ is np.ndarray else o for o in others))

    return method


install_operators(Variable, _eager)  # recorded while graphs are built (see kbackend._dispatch.OPERATORS)
