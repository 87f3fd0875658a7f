"""Shape and indexing ops, image resizing and zero padding on JAX."""

import builtins
import math

import numpy as np

import jax
import jax.numpy as jnp

from ...dtypes import canonical_dtype, numpy_dtype
from ...ops.array_bodies import padding_ops
from ...ops.namespace import bind
from ...ops.shape import bilinear_axis
from ...ops.shape_rules import range_dtype, spatial_axes
from .arrays import JAX, Variable, cast, to_jax


def _static(value):
    """A host (NumPy) value of a small tensor argument: a shape entry, a range bound."""
    if value.__class__ is Variable:
        value = value.value
    return np.asarray(value)


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


def arange(start, stop=None, step=1, dtype="int32"):
    if stop is None:
        start, stop = 0, (0 if _static(start) < 0 else start)
    inferred = range_dtype((start, stop, step), lambda v: canonical_dtype(_static(v).dtype))
    values = np.arange(_static(start), _static(stop), _static(step), dtype=inferred)
    if dtype != "int32":
        values = values.astype(numpy_dtype(dtype))
    return jnp.asarray(values)


def tile(x, n):
    x = to_jax(x)
    if isinstance(n, tuple):
        n = (1,) * (x.ndim - len(n)) + tuple(int(_static(v)) for v in n)
    else:
        n = tuple(int(v) for v in _static(n).reshape(-1))
    return jnp.tile(x, n)


def flatten(x):
    return jnp.reshape(to_jax(x), (-1,))


def batch_flatten(x):
    x = to_jax(x)
    return jnp.reshape(x, (x.shape[0], math.prod(x.shape[1:])))


def squeeze(x, axis):
    return jnp.squeeze(to_jax(x), axis)


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
    return x[tuple(builtins.slice(b, None if n == -1 else b + n) for b, n in zip(start, size))]


_bilinear_axis = bind(bilinear_axis, JAX)


def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest"):
    x = to_jax(x)
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
    for axis, factor in zip(spatial_axes(data_format, 3), (depth_factor, height_factor, width_factor)):
        x = jnp.repeat(x, factor, axis=axis)
    return x


temporal_padding, spatial_2d_padding, spatial_3d_padding = padding_ops(lambda x, widths: jnp.pad(to_jax(x), widths))
