"""Shape and indexing ops and zero padding on PyTensor.

Shape arguments may hold scalar graph values (``K.shape(x)[0]`` inside a traced graph); they stay
symbolic.  ``arange`` and ``slice`` with tensor bounds, image resizing and the other ops not here run
their reference (see :mod:`.reference_op`).
"""

import builtins

import pytensor.tensor as pt

from ...ops.shape import _check_rank, _spatial_axes  # one wording for the errors on every engine
from .variable import cast, concrete, is_graph, to_pt


def gather(reference, indices):
    return pt.take(to_pt(reference), to_pt(indices), axis=0)


def concatenate(tensors, axis=-1):
    arrays = [to_pt(t) for t in tensors]
    if axis < 0:
        rank = arrays[0].ndim
        axis = axis % rank if rank else 0
    return pt.concatenate(arrays, axis=axis)


def _entry(value):
    if is_graph(value):
        return cast(value.reshape(()) if value.ndim else value, "int64")
    return int(concrete(value))


def _shape_entries(shape):
    if isinstance(shape, (tuple, list)):
        return [_entry(s) for s in shape]
    shape = to_pt(shape)
    return [shape[i] for i in range(shape.type.shape[0])]


def reshape(x, shape):
    entries = _shape_entries(shape)
    return pt.reshape(to_pt(x), entries, ndim=len(entries))


def permute_dimensions(x, pattern):
    return to_pt(x).dimshuffle(list(pattern))


def repeat_elements(x, rep, axis):
    return pt.repeat(to_pt(x), rep, axis=axis)


def tile(x, n):
    x = to_pt(x)
    if isinstance(n, tuple):
        if len(n) > x.ndim:
            raise ValueError(
                f"tile: argument `n` got {n!r} for a rank-{x.ndim} tensor; expected at most {x.ndim} entries"
            )
        reps = [1] * (x.ndim - len(n)) + [_entry(v) for v in n]
    else:
        reps = _shape_entries(n)
    return pt.tile(x, reps)


def expand_dims(x, axis=-1):
    return pt.expand_dims(to_pt(x), axis)


def squeeze(x, axis):
    x = to_pt(x)
    return pt.squeeze(x, axis=axis % x.ndim)


def stack(x, axis=0):
    return pt.stack([to_pt(t) for t in x], axis=axis)


def one_hot(indices, num_classes):
    indices = to_pt(indices)
    return cast(pt.eq(indices[..., None], pt.arange(num_classes)), "float32")


def reverse(x, axes):
    x = to_pt(x)
    axes = [axes] if isinstance(axes, int) else axes
    index = [builtins.slice(None)] * x.ndim
    for axis in axes:
        index[axis % x.ndim] = builtins.slice(None, None, -1)
    return x[tuple(index)]


def _pad(func, x, rank, axes, pairs):
    x = to_pt(x)
    _check_rank(func, x, rank)
    # zeros with x written inside: pt.pad compiles an inner graph on every call
    shape = [x.shape[i] for i in range(rank)]
    index = [builtins.slice(None)] * rank
    for axis, (before, after) in zip(axes, pairs):
        shape[axis] = shape[axis] + before + after
        index[axis] = builtins.slice(before, before + x.shape[axis])
    return pt.set_subtensor(pt.zeros(shape, dtype=x.dtype)[tuple(index)], x)


def temporal_padding(x, padding=(1, 1)):
    return _pad("temporal_padding", x, 3, (1,), (padding,))


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    return _pad("spatial_2d_padding", x, 4, _spatial_axes(data_format, 2), padding)


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    return _pad("spatial_3d_padding", x, 5, _spatial_axes(data_format, 3), padding)
