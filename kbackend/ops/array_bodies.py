"""Op bodies that several engines build from their own small primitives (``pad``, ``fill``, ``is_tensor``)
where the reference's body cannot serve: the reference bodies that run on an engine's array namespace
are bound with :func:`kbackend.ops.namespace.bind` instead.  The op's check (:mod:`.shape_rules`) has
run before any of them.
"""

import numpy as np

from .shape_rules import spatial_widths, temporal_widths


def concat_axis(axis, rank):
    """A concatenation axis counted from the end becomes non-negative (from the first part's rank)."""
    if axis >= 0:
        return axis
    return axis % rank if rank else 0


def padding_ops(pad):
    """``temporal_padding``, ``spatial_2d_padding`` and ``spatial_3d_padding`` from an engine's
    ``pad(x, widths)`` (zero padding by one (before, after) pair per axis)."""

    def temporal_padding(x, padding):
        return pad(x, temporal_widths(padding))

    def spatial_2d_padding(x, padding, data_format):
        return pad(x, spatial_widths(padding, data_format))

    return temporal_padding, spatial_2d_padding, spatial_2d_padding


def static_dims(shape):
    """A requested shape as a tuple of Python ints (an engine scalar entry is read as its value)."""
    return tuple(int(d) for d in shape)


def filled_ops(fill, identity, variable, dims=static_dims):
    """``zeros``, ``ones`` and ``eye`` from an engine's ``fill(kind, shape, dtype)`` (``kind`` is
    ``"zeros"`` or ``"ones"``, ``dtype`` a Keras dtype name), ``identity(rows, cols, dtype)`` and
    ``variable(value, name)``.  A static, non-empty shape gives a variable, as in Keras 2; a shape with
    an empty axis, or (where ``dims`` keeps them) tensor entries such as ``K.shape(x)[0]``, gives the
    plain tensor."""

    def filled(kind, shape, dtype, name):
        shape = dims((shape,) if isinstance(shape, int) else shape)
        value = fill(kind, shape, dtype)
        if all(isinstance(d, (int, np.integer)) and d for d in shape):
            return variable(value, name)
        return value

    def zeros(shape, dtype=None, name=None):
        return filled("zeros", shape, dtype, name)

    def ones(shape, dtype=None, name=None):
        return filled("ones", shape, dtype, name)

    def eye(size, dtype=None, name=None):
        rows, cols = (size, size) if np.ndim(size) == 0 else tuple(size)
        return variable(identity(int(rows), int(cols), dtype), name)

    return zeros, ones, eye


def keras_tensor_ops(is_tensor):
    """``is_keras_tensor`` and ``is_placeholder`` for an engine whose ``is_tensor(x)`` says what
    ``is_keras_tensor`` accepts."""

    def is_keras_tensor(x):
        if not is_tensor(x):
            raise ValueError(
                f"is_keras_tensor: argument `x` got {type(x).__name__}; expected a tensor or variable"
            )
        return hasattr(x, "_keras_history")

    def is_placeholder(x):
        return bool(getattr(x, "_is_placeholder", False))

    return is_keras_tensor, is_placeholder
