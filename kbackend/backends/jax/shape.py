"""Shape and indexing ops, image resizing and zero padding on JAX."""

import builtins
import math

import numpy as np

import jax
import jax.numpy as jnp

from ...dtypes import canonical_dtype, numpy_dtype
from ...ops.checks import check_rank, spatial_axes  # one wording for the errors on every engine
from .arrays import Variable, cast, to_jax


def _static(value):
    """A host (NumPy) value of a small tensor argument: a shape entry, a range bound."""
    if value.__class__ is Variable:
        value = value.value
    return np.asarray(value)


def gather(reference, indices):
    return jnp.take(to_jax(reference), to_jax(indices), axis=0)


def concatenate(tensors, axis=-1):
    arrays = [to_jax(t) for t in tensors]
    if axis < 0:
        rank = arrays[0].ndim
        axis = axis % rank if rank else 0
    return jnp.concatenate(arrays, axis=axis)


def _shape_tuple(shape):
    if shape.__class__ is tuple and all(s.__class__ is int for s in shape):
        return shape
    if isinstance(shape, (tuple, list)):
        return tuple(int(_static(s)) for s in shape)
    return tuple(int(s) for s in _static(shape).reshape(-1))


def reshape(x, shape):
    return jnp.reshape(to_jax(x), _shape_tuple(shape))


def permute_dimensions(x, pattern):
    return jnp.transpose(to_jax(x), pattern)


def repeat_elements(x, rep, axis):
    return jnp.repeat(to_jax(x), rep, axis=axis)


_RANGE_DTYPES = ("int32", "int64", "float32", "float64")


def _range_dtype(value):
    if value.__class__ is int:
        return "int32"
    if isinstance(value, float):
        return "float32"
    name = canonical_dtype(_static(value).dtype)
    if name in _RANGE_DTYPES:
        return name
    return "float32" if name in ("float16", "bfloat16") else "int32"


def arange(start, stop=None, step=1, dtype="int32"):
    if stop is None:
        start, stop = 0, (0 if _static(start) < 0 else start)
    inferred = max((_range_dtype(v) for v in (start, stop, step)), key=_RANGE_DTYPES.index)
    values = np.arange(_static(start), _static(stop), _static(step), dtype=inferred)
    if dtype != "int32":
        values = values.astype(numpy_dtype(dtype))
    return jnp.asarray(values)


def tile(x, n):
    x = to_jax(x)
    if isinstance(n, tuple):
        if len(n) > x.ndim:
            raise ValueError(
                f"tile: argument `n` got {n!r} for a rank-{x.ndim} tensor; expected at most {x.ndim} entries"
            )
        n = (1,) * (x.ndim - len(n)) + tuple(int(_static(v)) for v in n)
    else:
        n = tuple(int(v) for v in _static(n).reshape(-1))
    return jnp.tile(x, n)


def flatten(x):
    return jnp.reshape(to_jax(x), (-1,))


def batch_flatten(x):
    x = to_jax(x)
    return jnp.reshape(x, (x.shape[0], math.prod(x.shape[1:])))


def expand_dims(x, axis=-1):
    return jnp.expand_dims(to_jax(x), axis)


def squeeze(x, axis):
    return jnp.squeeze(to_jax(x), axis)


def stack(x, axis=0):
    return jnp.stack([to_jax(t) for t in x], axis=axis)


def one_hot(indices, num_classes):
    return jax.nn.one_hot(to_jax(indices), num_classes, dtype=jnp.float32)


def reverse(x, axes):
    return jnp.flip(to_jax(x), axes)


def _index_list(value):
    if isinstance(value, (tuple, list)):
        return [int(_static(v)) for v in value]
    return [int(v) for v in _static(value).reshape(-1)]


def slice(x, start, size):
    x = to_jax(x)
    start, size = _index_list(start), _index_list(size)
    if not x.ndim == len(start) == len(size):
        raise ValueError(
            f"slice: arguments `start` and `size` got {len(start)} and {len(size)} entries for a rank-{x.ndim} "
            "tensor; expected one entry per axis (the dimension and the size of indices should match)"
        )
    return x[tuple(builtins.slice(b, None if n == -1 else b + n) for b, n in zip(start, size))]


def _bilinear_axis(x, axis, factor):
    """Upsample ``axis`` by ``factor``, interpolating linearly at half-pixel centres (tf.image.resize)."""
    size = x.shape[axis]
    source = (np.arange(size * factor, dtype=x.dtype) + 0.5) / factor - 0.5
    floor = np.floor(source)
    lower = np.maximum(floor, 0).astype(np.int32)
    upper = np.minimum(np.ceil(source), size - 1).astype(np.int32)
    shape = [1] * x.ndim
    shape[axis] = -1
    weight = jnp.asarray((source - floor).reshape(shape))
    below, above = jnp.take(x, lower, axis=axis), jnp.take(x, upper, axis=axis)
    return below + (above - below) * weight


def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest"):
    x = to_jax(x)
    check_rank("resize_images", x, 4)
    rows, cols = spatial_axes(data_format, 2)
    if interpolation == "nearest":
        return jnp.repeat(jnp.repeat(x, height_factor, axis=rows), width_factor, axis=cols)
    out_dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.dtype(jnp.float32)
    work_dtype = np.float64 if out_dtype == jnp.float64 else np.float32
    work = cast(x, work_dtype)
    work = _bilinear_axis(_bilinear_axis(work, rows, height_factor), cols, width_factor)
    return cast(work, out_dtype)


def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    x = to_jax(x)
    check_rank("resize_volumes", x, 5)
    for axis, factor in zip(spatial_axes(data_format, 3), (depth_factor, height_factor, width_factor)):
        x = jnp.repeat(x, factor, axis=axis)
    return x


def _pad(func, x, rank, axes, pairs):
    x = to_jax(x)
    check_rank(func, x, rank)
    widths = [(0, 0)] * rank
    for axis, pair in zip(axes, pairs):
        widths[axis] = pair
    return jnp.pad(x, widths)


def temporal_padding(x, padding=(1, 1)):
    return _pad("temporal_padding", x, 3, (1,), (padding,))


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    return _pad("spatial_2d_padding", x, 4, spatial_axes(data_format, 2), padding)


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    return _pad("spatial_3d_padding", x, 5, spatial_axes(data_format, 3), padding)
