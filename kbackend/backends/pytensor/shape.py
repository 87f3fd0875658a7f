"""Shape and indexing ops, resizing and zero padding on PyTensor where the reference body does not serve.

Shape arguments may hold scalar graph values (``K.shape(x)[0]`` inside a traced graph, or eager
arrays); they stay symbolic, so ``arange`` and ``slice`` take tensor bounds.
"""

import builtins

import pytensor.tensor as pt

from ..._dispatch import OPS
from ...ops.array_bodies import padding_ops
from ...ops.namespace import bind
from ...ops.shape_rules import range_dtype, spatial_axes
from .arrays import PYTENSOR, as_type, concrete, is_graph, to_pt


def _entry(value):
    if is_graph(value):
        return as_type(value.reshape(()) if value.ndim else value, "int64")
    return int(concrete(value))


def _shape_entries(shape):
    if isinstance(shape, (tuple, list)):
        return [_entry(s) for s in shape]
    shape = to_pt(shape)
    return [shape[i] for i in range(shape.type.shape[0])]


# pytensor: shape entries may be graph scalars (K.shape(x)[0] in a traced graph)
def reshape(x, shape):
    entries = _shape_entries(shape)
    return pt.reshape(to_pt(x), entries, ndim=len(entries))


# pytensor: as reshape, multiples may be graph scalars
def tile(x, n):
    x = to_pt(x)
    if isinstance(n, tuple):
        reps = [1] * (x.ndim - len(n)) + [_entry(v) for v in n]
    else:
        reps = _shape_entries(n)
    return pt.tile(x, reps)


def _pad(x, widths):
    x = to_pt(x)
    # zeros with x written inside: pt.pad compiles an inner graph on every call
    shape = [x.shape[i] + before + after for i, (before, after) in enumerate(widths)]
    index = tuple(builtins.slice(before, before + x.shape[i]) for i, (before, _) in enumerate(widths))
    return pt.set_subtensor(pt.zeros(shape, dtype=x.dtype)[index], x)


temporal_padding, spatial_2d_padding, spatial_3d_padding = padding_ops(_pad)


# pytensor: graph bounds, typed by the reference's range rule
def arange(start, stop=None, step=1, dtype="int32"):
    inferred = range_dtype((start, 0 if stop is None else stop, step), lambda v: to_pt(v).dtype)
    start, step = as_type(to_pt(start), inferred), as_type(to_pt(step), inferred)
    if stop is None:
        start, stop = pt.zeros((), dtype=inferred), pt.maximum(start, 0)
    return pt.arange(start, as_type(to_pt(stop), inferred), step, dtype=inferred)


# pytensor: starts and sizes may be graph scalars; a size of -1 read in the graph
def slice(x, start, size):
    x = to_pt(x)
    starts, sizes = _shape_entries(start), _shape_entries(size)
    index = []
    for axis, (begin, count) in enumerate(zip(starts, sizes)):
        if isinstance(count, int):
            index.append(builtins.slice(begin, None if count == -1 else begin + count))
        else:
            index.append(builtins.slice(begin, pt.switch(pt.eq(count, -1), x.shape[axis], begin + count)))
    return x[tuple(index)]


_resize_images = bind(OPS["resize_images"].reference, PYTENSOR)


# pytensor: the reference's body, whose bilinear taps need static spatial sizes (else the reference op)
def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest"):
    x = to_pt(x)
    rows, cols = spatial_axes(data_format, 2)
    if interpolation != "nearest" and (x.type.shape[rows] is None or x.type.shape[cols] is None):
        from .reference_op import reference_op

        return reference_op("resize_images")(x, height_factor, width_factor, data_format, interpolation)
    return _resize_images(x, height_factor, width_factor, data_format, interpolation)
