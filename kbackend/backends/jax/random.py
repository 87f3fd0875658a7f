"""Random tensors on JAX: ``jax.random`` streams keyed by the (always int) seed."""

import numpy as np

import jax
import jax.numpy as jnp

from .arrays import cast, jax_dtype, to_jax, unwrap
from .variables import key


def _shape(shape):
    if shape.__class__ is tuple:
        return shape
    return tuple(int(d) for d in np.asarray(unwrap(shape)).reshape(-1))


# jax: jax.random streams keyed by the seed (every random op here)
def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    dtype = jax_dtype(dtype)
    values = jax.random.normal(key(seed), _shape(shape), dtype)
    return cast(values * unwrap(stddev) + unwrap(mean), dtype)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    dtype = jax_dtype(dtype)
    if jnp.issubdtype(dtype, jnp.integer):
        return jax.random.randint(key(seed), _shape(shape), int(unwrap(minval)), int(unwrap(maxval)), dtype)
    return jax.random.uniform(key(seed), _shape(shape), dtype, cast(to_jax(minval), dtype),
                              cast(to_jax(maxval), dtype))


def random_bernoulli(shape, p=0.0, dtype=None, seed=None):
    return cast(jax.random.bernoulli(key(seed), unwrap(p), _shape(shape)), jax_dtype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    dtype = jax_dtype(dtype)
    values = jax.random.truncated_normal(key(seed), -2.0, 2.0, _shape(shape), dtype)
    return cast(values * unwrap(stddev) + unwrap(mean), dtype)
