"""Variables, constants, tensor introspection and value I/O on JAX: each function makes, reads or
rebinds the engine's own (immutable) arrays, which the reference cannot; a line above one says what else
differs."""

import numpy as np

import jax
import jax.numpy as jnp

from ... import config
from ...ops.array_bodies import filled_ops, keras_tensor_ops
from ...sparse import is_scipy_sparse
from .arrays import Variable, cast as _cast, dtype_name, is_tracer, jax_dtype, to_jax, unscoped, unwrap


def _name(name, prefix):
    return name if name is not None else f"{prefix}_{config.get_uid(prefix)}"


def _is_jax_sparse(x):
    return type(x).__module__.startswith("jax.experimental.sparse")


# jax: scipy and jax.experimental.sparse matrices
@unscoped
def is_sparse(tensor):
    return is_scipy_sparse(tensor) or _is_jax_sparse(tensor)


# jax: a jax sparse matrix densifies itself
def to_dense(tensor):
    if is_scipy_sparse(tensor):
        return jnp.asarray(tensor.toarray())
    if _is_jax_sparse(tensor):
        return tensor.todense()
    if tensor.__class__ is Variable or tensor.__class__ in (bool, int, float):
        return tensor  # a Python number is not sparse: returned as given, as on the reference
    return to_jax(tensor)


def variable(value, dtype=None, name=None, constraint=None):
    if is_scipy_sparse(value):
        value = value.toarray()
    return Variable(jnp.asarray(unwrap(value), dtype=jax_dtype(dtype)), _name(name, "variable"), constraint)


@unscoped
def is_variable(x):
    return x.__class__ is Variable


def constant(value, dtype=None, shape=None, name=None):
    array = jnp.asarray(unwrap(value), dtype=jax_dtype(dtype))
    if shape is not None:
        shape = tuple(shape)
        array = jnp.broadcast_to(array, shape) if array.size == 1 else array.reshape(shape)
    return array


def feed(value, dtype):
    """A value fed to ``K.function``: NumPy and JAX arrays of the placeholder's dtype pass as they are
    (the jitted function moves them to the device), anything else is converted."""
    target = jax_dtype(dtype)
    if (value.__class__ is np.ndarray or isinstance(value, jax.Array)) and value.dtype == target:
        return value
    return jnp.asarray(unwrap(value), dtype=target)


@unscoped
def is_tensor(x):
    return isinstance(x, (jax.Array, Variable))


is_keras_tensor, is_placeholder = map(unscoped, keras_tensor_ops(is_tensor))


def _static_shape(x, value):
    """Under tracing, shapes are static: a NumPy value keeps ``reshape(x, (shape(x)[0], -1))`` traceable."""
    if is_tracer(x):
        return np.array(value, dtype=np.int32)
    return jnp.array(value, dtype=jnp.int32)


# jax: a NumPy value under tracing, so that reshape(x, (shape(x)[0], -1)) stays traceable
def shape(x):
    x = unwrap(x)
    return _static_shape(x, np.shape(x))


@unscoped
def int_shape(x):
    return tuple(np.shape(unwrap(x)))


@unscoped
def ndim(x):
    return len(np.shape(unwrap(x)))


# jax: as shape
def size(x, name=None):
    x = unwrap(x)
    return _static_shape(x, np.size(x))


@unscoped
def dtype(x):
    return dtype_name(unwrap(x))


@unscoped
def eval(x):
    return np.array(unwrap(x))


zeros, ones, eye = filled_ops(lambda kind, shape, dtype: getattr(jnp, kind)(shape, dtype=jax_dtype(dtype)),
                              lambda rows, cols, dtype: jnp.eye(rows, cols, dtype=jax_dtype(dtype)),
                              lambda value, name: Variable(value, _name(name, "variable")))


def zeros_like(x, dtype=None, name=None):
    x = to_jax(x)
    return jnp.zeros(x.shape, dtype=x.dtype if dtype is None else jax_dtype(dtype))


def ones_like(x, dtype=None, name=None):
    x = to_jax(x)
    return jnp.ones(x.shape, dtype=x.dtype if dtype is None else jax_dtype(dtype))


def identity(x, name=None):
    return to_jax(x)


def key(seed):
    """A PRNG key from an integer seed (a Python int, or a scalar tensor while a graph is traced), the
    same whether or not x64 is enabled: the seed's high and low 32 bits are the key data."""
    if seed is None:
        seed = np.random.randint(10e8)
    if isinstance(seed, (int, np.integer)):
        seed = int(seed)
        data = np.array([(seed >> 32) & 0xFFFFFFFF, seed & 0xFFFFFFFF], dtype=np.uint32)
    else:
        seed = to_jax(seed)
        high = (seed >> 32).astype(jnp.uint32) if seed.dtype.itemsize == 8 else jnp.zeros((), jnp.uint32)
        data = jnp.stack([high, seed.astype(jnp.uint32)])
    return jax.random.wrap_key_data(data, impl="threefry2x32")


# jax: jax.random keyed by the seed
def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    values = jax.random.uniform(key(seed), tuple(shape), jax_dtype(dtype), low, high)
    return Variable(values, _name(name, "variable"))


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    values = jax.random.normal(key(seed), tuple(shape), jax_dtype(dtype)) * scale + mean
    return Variable(_cast(values, jax_dtype(dtype)), _name(name, "variable"))


@unscoped
def count_params(x):
    return np.prod(int_shape(x), dtype=np.int64)


def cast(x, dtype):
    return _cast(to_jax(x), jax_dtype(dtype))


# jax: arrays are immutable, so the variable's held value is rebound (every update op)
def update(x, new_x):
    return x.assign(new_x)


def update_add(x, increment):
    return x.assign(x.value + to_jax(increment))


def update_sub(x, decrement):
    return x.assign(x.value - to_jax(decrement))


def moving_average_update(x, value, momentum):
    return x.assign(x.value - (x.value - to_jax(value)) * (1 - unwrap(momentum)))


# jax: as update, outside any trace
@unscoped
def set_value(x, value):
    array = np.asarray(unwrap(value), dtype=np.asarray(x.value).dtype)
    x.value = jnp.asarray(array)


def batch_set_value(tuples):
    for x, value in tuples:
        set_value(x, value)

