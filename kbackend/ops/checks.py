"""Argument checks shared by the op declarations, the symbolic layer and the engines, so that a bad
argument raises the same message everywhere: ``<op>: argument `<name>` got <value>; expected <what>``.
"""

import numpy as np


def checked_axis(func, axis, rank, arg="axis"):
    """``axis`` of a rank-``rank`` tensor, made non-negative."""
    if not -rank <= axis < rank:
        raise ValueError(f"{func}: argument `{arg}` got {axis!r}; expected an axis of a rank-{rank} tensor "
                         f"(-{rank} to {rank - 1})")
    return axis % rank


def check_rank(func, x, rank):
    """``x`` (an array or any engine's tensor) has ``rank`` dimensions."""
    if x.ndim != rank:
        raise ValueError(f"{func}: argument `x` got a tensor of shape {shape_of(x)}; expected a rank-{rank} tensor")


def shape_of(x):
    """The shape of an array or an engine's tensor as a tuple, for messages (a PyTensor variable gives
    its static shape, None where a dim is not known yet)."""
    static = getattr(getattr(x, "type", None), "shape", None)
    return tuple(static) if isinstance(static, tuple) else tuple(x.shape)


def spatial_axes(data_format, count):
    """The spatial axes of a (batch, ..., channels) tensor with ``count`` spatial dims."""
    first = 2 if data_format == "channels_first" else 1
    return tuple(range(first, first + count))


def readable(func):
    """The declared check of an op that reads ``x`` itself (its shape, rank, dtype or value): ``x`` is a
    tensor, variable or array (anything with a shape), a number, or a list or tuple of them; anything
    else is a ``TypeError`` naming the op instead of a shape of ``()`` or an object array."""

    def check(x, *rest):
        if hasattr(x, "shape") or isinstance(x, (int, float, complex, list, tuple, np.generic)):
            return
        raise TypeError(f"{func}: argument `x` got {type(x).__name__}; expected a tensor, variable, array, "
                        "number or list")

    check.__name__ = f"readable_{func}"
    return check
