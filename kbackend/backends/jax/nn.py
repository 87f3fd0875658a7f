"""Activations, dropout and bias on JAX (the other nn ops are composites)."""

import jax
import jax.numpy as jnp

from ...ops.nn import noise_mask_shape
from .arrays import cast, to_jax
from .variables import key


# jax: where() keeps -inf * 0 out of the threshold path and its gradient; bool input stays bool
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    x = to_jax(x)
    if max_value is None and threshold == 0.0:
        if alpha == 0.0:
            return x if x.dtype == jnp.bool_ else jnp.maximum(x, 0)  # bool stays bool (maximum gives int32)
        return cast(jnp.where(x > 0, x, x * alpha), x.dtype)
    if threshold != 0.0:
        positive = jnp.where(x > threshold, x, x * 0)  # x * (x > t) would skip -inf * 0 (NaN in Keras 2)
    else:
        positive = jnp.maximum(x, 0)
    if max_value is not None:
        positive = jnp.clip(positive, 0, max_value)
    if alpha != 0.0:
        positive = positive - alpha * jnp.maximum(threshold - x, 0)
    return cast(positive, x.dtype)


def elu(x, alpha=1.0):
    return jax.nn.elu(to_jax(x), alpha)


def softmax(x, axis=-1):
    return jax.nn.softmax(to_jax(x), axis=axis)


def softplus(x):
    return jax.nn.softplus(to_jax(x))


def sigmoid(x):
    return jax.nn.sigmoid(to_jax(x))


def tanh(x):
    return jnp.tanh(to_jax(x))


# jax: a jax.random stream keyed by the seed
def dropout(x, level, noise_shape=None, seed=None):
    x = to_jax(x)
    noise_shape = noise_mask_shape(x.shape, noise_shape)
    keep = jax.random.uniform(key(seed), noise_shape) >= level
    return cast(jnp.where(keep, x * (1.0 / (1.0 - level)), 0), x.dtype)


# jax: ids in int32, which needs no 64-bit scope
def _sparse_softmax_cross_entropy(target, output):
    z = to_jax(output)
    ids = to_jax(target).astype(jnp.int32)
    valid = (ids >= 0) & (ids < z.shape[-1])
    log_probabilities = jax.nn.log_softmax(z, axis=-1)
    picked = jnp.take_along_axis(log_probabilities, jnp.where(valid, ids, 0)[..., None], axis=-1)[..., 0]
    return cast(jnp.where(valid, -picked, 0), z.dtype)
