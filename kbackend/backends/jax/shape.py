"""Shape ops on JAX where the reference body does not serve (the others run the reference on jax.numpy)."""

import math

import numpy as np

import jax
import jax.numpy as jnp

from ...dtypes import canonical_dtype, numpy_dtype
from ...ops.shape_rules import range_dtype, spatial_axes
from .arrays import Variable, to_jax


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


# jax: a shape entry may be a variable or a jax scalar, read as a host int
def reshape(x, shape):
    return jnp.reshape(to_jax(x), _shape_tuple(shape))


# jax: bounds read on the host; int64 bounds keep int64 (the reference's rule)
def arange(start, stop=None, step=1, dtype="int32"):
    if stop is None:
        start, stop = 0, (0 if _static(start) < 0 else start)
    inferred = range_dtype((start, stop, step), lambda v: canonical_dtype(_static(v).dtype))
    values = np.arange(_static(start), _static(stop), _static(step), dtype=inferred)
    if dtype != "int32":
        values = values.astype(numpy_dtype(dtype))
    return jnp.asarray(values)


# jax: multiples read on the host (a tensor n)
def tile(x, n):
    x = to_jax(x)
    if isinstance(n, tuple):
        n = (1,) * (x.ndim - len(n)) + tuple(int(_static(v)) for v in n)
    else:
        n = tuple(int(v) for v in _static(n).reshape(-1))
    return jnp.tile(x, n)


# jax: one jnp.reshape instead of the composite's K.reshape
def flatten(x):
    return jnp.reshape(to_jax(x), (-1,))


# jax: the static batch size, so that jax.jit sees a static shape
def batch_flatten(x):
    x = to_jax(x)
    return jnp.reshape(x, (x.shape[0], math.prod(x.shape[1:])))


# jax: three jnp.repeat calls instead of the composite's K calls, in one 64-bit scope
def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    x = to_jax(x)
    for axis, factor in zip(spatial_axes(data_format, 3), (depth_factor, height_factor, width_factor)):
        x = jnp.repeat(x, factor, axis=axis)
    return x


# jax: jax.nn.one_hot is one compiled kernel, where the reference's comparison takes three dispatches
def one_hot(indices, num_classes):
    return jax.nn.one_hot(to_jax(indices), num_classes, dtype=jnp.float32)
