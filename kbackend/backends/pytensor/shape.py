"""Shape and indexing ops and zero padding on PyTensor.

Shape arguments may hold scalar graph values (``K.shape(x)[0]`` inside a traced graph, or eager
arrays); they stay symbolic, so ``arange`` and ``slice`` take tensor bounds.
"""

import builtins

import pytensor.tensor as pt

from ...ops.checks import check_rank, spatial_axes  # one wording for the errors on every engine
from .variable import as_type, concrete, is_graph, to_pt


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
        return as_type(value.reshape(()) if value.ndim else value, "int64")
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
    return as_type(pt.eq(indices[..., None], pt.arange(num_classes)), "float32")


def reverse(x, axes):
    x = to_pt(x)
    axes = [axes] if isinstance(axes, int) else axes
    index = [builtins.slice(None)] * x.ndim
    for axis in axes:
        index[axis % x.ndim] = builtins.slice(None, None, -1)
    return x[tuple(index)]


def _pad(func, x, rank, axes, pairs):
    x = to_pt(x)
    check_rank(func, x, rank)
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
    return _pad("spatial_2d_padding", x, 4, spatial_axes(data_format, 2), padding)


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    return _pad("spatial_3d_padding", x, 5, spatial_axes(data_format, 3), padding)


_RANGE_DTYPES = ("int32", "int64", "float32", "float64")


def _range_dtype(value):
    if value.__class__ is int:
        return "int32"
    if isinstance(value, float):
        return "float32"
    name = to_pt(value).dtype
    if name in _RANGE_DTYPES:
        return name
    return "float32" if name.startswith("float") else "int32"


def arange(start, stop=None, step=1, dtype="int32"):
    inferred = max((_range_dtype(v) for v in (start, stop if stop is not None else 0, step)),
                   key=_RANGE_DTYPES.index)
    start, step = as_type(to_pt(start), inferred), as_type(to_pt(step), inferred)
    if stop is None:
        start, stop = pt.zeros((), dtype=inferred), pt.maximum(start, 0)
    return pt.arange(start, as_type(to_pt(stop), inferred), step, dtype=inferred)


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


def _bilinear_axis(x, axis, factor):
    """Upsample ``axis`` by ``factor``, interpolating linearly at half-pixel centres (tf.image.resize)."""
    import numpy as np

    size = x.type.shape[axis]
    source = (np.arange(size * factor, dtype=x.dtype) + 0.5) / factor - 0.5
    floor = np.floor(source)
    lower = np.maximum(floor, 0).astype(np.int64)
    upper = np.minimum(np.ceil(source), size - 1).astype(np.int64)
    shape = [1] * x.ndim
    shape[axis] = -1
    weight = pt.constant((source - floor).reshape(shape).astype(x.dtype))
    below, above = pt.take(x, lower, axis=axis), pt.take(x, upper, axis=axis)
    return below + (above - below) * weight


def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest"):
    x = to_pt(x)
    check_rank("resize_images", x, 4)
    rows, cols = spatial_axes(data_format, 2)
    if interpolation == "nearest":
        return pt.repeat(pt.repeat(x, height_factor, axis=rows), width_factor, axis=cols)
    if x.type.shape[rows] is None or x.type.shape[cols] is None:
        from .reference_op import reference_op

        return reference_op("resize_images")(x, height_factor, width_factor, data_format, interpolation)
    out_dtype = x.dtype if x.dtype.startswith("float") else "float32"
    work = as_type(x, "float64" if out_dtype == "float64" else "float32")
    return as_type(_bilinear_axis(_bilinear_axis(work, rows, height_factor), cols, width_factor), out_dtype)
