"""Shape rules of the shape, resizing and padding ops, each stated once: argument checks, padded widths,
spatial axes and bilinear sampling taps.

An op of :mod:`kbackend.ops.shape` declares its check here (``check=`` in :func:`kbackend._dispatch.op`);
it runs on the canonical arguments before dispatch, so no engine restates a check or a message.  Unknown
dimensions (a traced or symbolic input) pass every check.
"""

import math

import numpy as np

from .._dispatch import is_integer
from ..dtypes import FLOATS
from .checks import checked_axis, spatial_axes
from .conv_rules import static_shape
from .math_rules import shape_of

__all__ = ["RANGE_DTYPES", "bilinear_taps", "check_rank", "concat_axis", "concatenated_shape", "entry_count",
           "expanded_shape", "pad_widths", "padded_shape", "permuted_shape", "range_dtype", "repeated_shape",
           "reshaped_shape", "resized_shape", "spatial_axes", "spatial_widths", "squeezed_shape", "stacked_shape",
           "temporal_padded_shape", "temporal_widths", "tiled_shape"]


def pad_widths(rank, axes, pairs):
    """(before, after) for every axis of a rank-``rank`` tensor: ``pairs`` on ``axes``, none elsewhere."""
    widths = [(0, 0)] * rank
    for axis, pair in zip(axes, pairs):
        widths[axis] = tuple(pair)
    return widths


def concat_axis(axis, rank):
    """A concatenation axis counted from the end becomes non-negative (from the first part's rank)."""
    if axis >= 0:
        return axis
    return axis % rank if rank else 0


def temporal_widths(padding):
    """The pad widths of ``temporal_padding``: ``padding`` on the steps axis of a 3-D tensor."""
    return pad_widths(3, (1,), (padding,))


def spatial_widths(padding, data_format):
    """The pad widths of ``spatial_2d_padding`` / ``spatial_3d_padding``: one pair per spatial axis."""
    return pad_widths(len(padding) + 2, spatial_axes(data_format, len(padding)), padding)


#: The dtypes TensorFlow's range keeps, in promotion order.
RANGE_DTYPES = ("int32", "int64", "float32", "float64")


def range_dtype(values, dtype_name):
    """The dtype of ``arange(start, stop, step)`` by TensorFlow's inference: a Python int counts as
    int32, a float as float32, a tensor by its dtype (``dtype_name(value)``; half floats as float32,
    other ints as int32); the widest wins."""
    names = []
    for value in values:
        if isinstance(value, int):
            names.append("int32")
        elif isinstance(value, float):
            names.append("float32")
        else:
            name = dtype_name(value)
            names.append(name if name in RANGE_DTYPES else "float32" if "float" in name else "int32")
    return max(names, key=RANGE_DTYPES.index)


def bilinear_taps(size, factor, dtype):
    """Linear interpolation of an axis of ``size`` upsampled by ``factor`` at half-pixel centres (the
    sampling of TensorFlow's ``tf.image.resize(..., 'bilinear')``): output ``i`` is
    ``x[lower[i]] + (x[upper[i]] - x[lower[i]]) * weight[i]``.  NumPy arrays; ``weight`` in ``dtype``."""
    source = (np.arange(size * factor, dtype=dtype) + 0.5) / factor - 0.5
    floor = np.floor(source)
    lower = np.maximum(floor, 0).astype(np.int32)
    upper = np.minimum(np.ceil(source), size - 1).astype(np.int32)
    return lower, upper, (source - floor).astype(dtype)


def check_rank(func, x, rank):
    shape = static_shape(x)
    if shape is not None and len(shape) != rank:
        raise ValueError(f"{func}: argument `x` got a tensor of shape {tuple(shape)}; expected a rank-{rank} tensor")


def entry_count(value):
    """How many entries a list, tuple or 1-D tensor of ints holds (None when not known yet)."""
    if isinstance(value, (tuple, list)):
        return len(value)
    shape = static_shape(value)
    if shape is None:
        return None
    return 1 if len(shape) == 0 else shape[0]


# ---------------------------------------------------------------------------------------------------
# the checks the ops declare (each takes its op's parameters)


def tile(x, n):
    shape = static_shape(x)
    if shape is not None and isinstance(n, tuple) and len(n) > len(shape):
        rank = len(shape)
        raise ValueError(f"tile: argument `n` got {n!r} for a rank-{rank} tensor; expected at most {rank} entries")


def squeeze(x, axis):
    shape = static_shape(x)
    if shape is not None and -len(shape) <= axis < len(shape) and shape[axis] not in (1, None):
        raise ValueError(
            f"squeeze: argument `axis` got {axis}; expected an axis of size 1, but the tensor has shape {tuple(shape)}"
        )


def slice(x, start, size):
    shape = static_shape(x)
    starts, sizes = entry_count(start), entry_count(size)
    if shape is not None and None not in (starts, sizes) and not len(shape) == starts == sizes:
        raise ValueError(
            f"slice: arguments `start` and `size` got {starts} and {sizes} entries for a rank-{len(shape)} "
            "tensor; expected one entry per axis (the dimension and the size of indices should match)"
        )


def resize_images(x, height_factor, width_factor, data_format, interpolation):
    check_rank("resize_images", x, 4)


def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    check_rank("resize_volumes", x, 5)


def temporal_padding(x, padding):
    check_rank("temporal_padding", x, 3)


def spatial_2d_padding(x, padding, data_format):
    check_rank("spatial_2d_padding", x, 4)


def spatial_3d_padding(x, padding, data_format):
    check_rank("spatial_3d_padding", x, 5)


# ---------------------------------------------------------------------------------------------------
# output shapes (``shape_rule=`` in :func:`kbackend._dispatch.op`; see :mod:`.math_rules`)


def reshaped_shape(x, shape):
    """A static target (a tuple of ints, one of them may be -1): the target, its -1 resolved when the
    size of ``x`` is known (else None)."""
    if not isinstance(shape, (tuple, list)) or not all(is_integer(d) and d >= -1 for d in shape):
        raise TypeError("reshape: a target that is not a tuple of ints")
    target = tuple(int(d) for d in shape)
    x_shape = shape_of(x)
    size = None if None in x_shape else math.prod(x_shape)
    if target.count(-1) > 1 or target.count(-1) == 1 and size == 0:
        raise ValueError(f"reshape: target {target} is ambiguous")
    rest = math.prod(d for d in target if d != -1)
    if size is not None and (size != rest if -1 not in target else rest == 0 or size % rest):
        raise ValueError(f"reshape: cannot reshape {x_shape} to {target}")
    if -1 not in target:
        return target
    return tuple((None if size is None else size // rest) if d == -1 else d for d in target)


def permuted_shape(x, pattern):
    """Output axis ``i`` is input axis ``pattern[i]`` (a permutation of the axes)."""
    x_shape = shape_of(x)
    axes = [checked_axis("permute_dimensions", p, len(x_shape), "pattern") for p in pattern]
    if sorted(axes) != list(range(len(x_shape))):
        raise ValueError(f"permute_dimensions: {pattern} is not a permutation of {len(x_shape)} axes")
    return tuple(x_shape[p] for p in axes)


def concatenated_shape(tensors, axis):
    """The parts' common shape, their sizes summed on ``axis`` (None when one is unknown)."""
    shapes = [shape_of(t) for t in tensors]
    rank = len(shapes[0])
    if not rank or any(len(s) != rank for s in shapes):
        raise ValueError("concatenate: parts of different ranks")
    axis = checked_axis("concatenate", concat_axis(axis, rank), rank)
    out = []
    for i, dims in enumerate(zip(*shapes)):
        if i == axis:
            out.append(None if None in dims else sum(dims))
            continue
        sizes = {d for d in dims if d is not None}
        if len(sizes) > 1:
            raise ValueError(f"concatenate: parts of shapes {shapes} differ off axis {axis}")
        out.append(sizes.pop() if sizes else None)
    return tuple(out)


def expanded_shape(x, axis):
    """A size-1 axis inserted at ``axis`` (counted in the output's rank)."""
    x_shape = shape_of(x)
    axis = checked_axis("expand_dims", axis, len(x_shape) + 1)
    return x_shape[:axis] + (1,) + x_shape[axis:]


def squeezed_shape(x, axis):
    """Axis ``axis`` (of size 1, or unknown) removed."""
    x_shape = shape_of(x)
    axis = checked_axis("squeeze", axis, len(x_shape))
    if x_shape[axis] not in (1, None):
        raise ValueError(f"squeeze: axis {axis} of {x_shape} has size {x_shape[axis]}")
    return x_shape[:axis] + x_shape[axis + 1:]


def _padded(x_shape, widths):
    return tuple(None if d is None else d + before + after for d, (before, after) in zip(x_shape, widths))


def temporal_padded_shape(x, padding):
    """temporal_padding: the steps axis grows by both widths."""
    return _padded(shape_of(x), temporal_widths(padding))


def padded_shape(x, padding, data_format):
    """spatial_2d_padding, spatial_3d_padding: each spatial axis grows by its two widths."""
    return _padded(shape_of(x), spatial_widths(padding, data_format))


def repeated_shape(x, rep, axis):
    """repeat_elements: axis ``axis`` ``rep`` times as long."""
    x_shape = shape_of(x)
    axis = checked_axis("repeat_elements", axis, len(x_shape))
    return x_shape[:axis] + (None if x_shape[axis] is None else x_shape[axis] * rep,) + x_shape[axis + 1:]


def tiled_shape(x, n):
    """tile: each axis times its entry of ``n`` (a static tuple, left-padded with 1s)."""
    x_shape = shape_of(x)
    if not all(is_integer(v) for v in n) or len(n) > len(x_shape):
        raise TypeError("tile: repetitions that are not static")
    n = (1,) * (len(x_shape) - len(n)) + tuple(n)
    return tuple(None if d is None else d * k for d, k in zip(x_shape, n))


def stacked_shape(x, axis):
    """stack: the parts' common shape with a new axis of their count at ``axis``."""
    shapes = [shape_of(t) for t in x]
    if any(len(s) != len(shapes[0]) for s in shapes):
        raise ValueError("stack: parts of different ranks")
    common = []
    for dims in zip(*shapes):
        sizes = {d for d in dims if d is not None}
        if len(sizes) > 1:
            raise ValueError(f"stack: parts of shapes {shapes}")
        common.append(sizes.pop() if sizes else None)
    axis = checked_axis("stack", axis, len(common) + 1)
    return tuple(common[:axis]) + (len(shapes),) + tuple(common[axis:])


def resized_shape(x, height_factor, width_factor, data_format, interpolation):
    """resize_images: the two spatial axes scaled by their factors (bilinear on a float ``x`` only: an
    int input comes back float32, which the op's policy does not state)."""
    if interpolation != "nearest" and getattr(x, "dtype", None) not in FLOATS:
        raise TypeError("resize_images: a bilinear resize of an int input")
    x_shape = list(shape_of(x))
    for axis, factor in zip(spatial_axes(data_format, 2), (height_factor, width_factor)):
        x_shape[axis] = None if x_shape[axis] is None else x_shape[axis] * factor
    return tuple(x_shape)
