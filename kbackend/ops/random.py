"""Random tensors (plain tensors, not variables).

``dtype`` defaults to ``floatx()`` at call time; ``seed`` defaults to one drawn from NumPy's global RNG, as
in Keras 2, so every backend receives an int.  The same seed gives the same values on the same backend;
different engines draw different streams, so backends are compared with the reference by shape and
statistics only.
"""


import numpy as np

from .._dispatch import K, ArgError, dtype_or_floatx, new_shape, op
from ..dtypes import is_float, numpy_dtype
from .nn import seed_or_random


def float_dtype(dtype):
    """None → floatx(); otherwise a floating dtype name."""
    name = dtype_or_floatx(dtype)
    if not is_float(name):
        raise ArgError("a floating dtype such as 'float32'")
    return name


#: The shape of the samples: checked like every new shape (see ``_dispatch.new_shape``).
shape_tuple = new_shape


def _rng(seed):
    return np.random.default_rng(seed)


@op(shape=shape_tuple, dtype=float_dtype, seed=seed_or_random)
def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of shape ``shape`` from the normal distribution N(``mean``, ``stddev``²).

    Args:
        mean: The mean (a tensor or a number).
        stddev: The standard deviation (a float).

    >>> import kbackend as K
    >>> x = K.eval(K.random_normal((200, 200), mean=1.0, stddev=2.0, seed=7))
    >>> x.dtype, bool(abs(x.mean() - 1.0) < 0.05), bool(abs(x.std() - 2.0) < 0.05)
    (dtype('float32'), True, True)
    """
    return _rng(seed).normal(mean, stddev, size=shape).astype(numpy_dtype(dtype))


@op(shape=shape_tuple, dtype=dtype_or_floatx, seed=seed_or_random)
def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of shape ``shape`` from the uniform distribution on [``minval``, ``maxval``).

    An integer ``dtype`` draws integers in [``minval``, ``maxval``).

    Args:
        minval: The lower bound of the uniform distribution.
        maxval: The upper bound of the uniform distribution.

    >>> import kbackend as K
    >>> x = K.eval(K.random_uniform((200, 200), -2.0, 3.0, seed=7))
    >>> bool(x.min() >= -2.0 and x.max() <= 3.0), bool(abs(x.mean() - 0.5) < 0.05)
    (True, True)
    """
    rng = _rng(seed)
    dtype = numpy_dtype(dtype)
    if dtype.kind in "iu":
        return rng.integers(int(minval), int(maxval), size=shape).astype(dtype)
    return rng.uniform(minval, maxval, size=shape).astype(dtype)


@op(shape=shape_tuple, dtype=dtype_or_floatx, seed=seed_or_random)
def random_bernoulli(shape, p=0.0, dtype=None, seed=None):
    """Bernoulli samples of shape ``shape``: 1 with probability ``p``, else 0, in ``dtype``.

    Args:
        p: The probability (a float in [0, 1]).

    >>> import kbackend as K
    >>> x = K.eval(K.random_bernoulli((200, 200), p=0.3, seed=7))
    >>> sorted(set(x.ravel().tolist())), bool(abs(x.mean() - 0.3) < 0.02)
    ([0.0, 1.0], True)
    """
    return (_rng(seed).uniform(size=shape) < p).astype(numpy_dtype(dtype))


@op(composite=True, shape=shape_tuple, dtype=dtype_or_floatx, seed=seed_or_random)
def random_binomial(shape, p=0.0, dtype=None, seed=None):
    """Bernoulli samples (the Keras 2 name of :func:`random_bernoulli`): 1 with probability ``p``, else 0.

    Args:
        p: The probability (a float in [0, 1]).

    >>> import kbackend as K
    >>> x = K.eval(K.random_binomial((200, 200), p=0.5, seed=7))
    >>> x.dtype, bool(abs(x.mean() - 0.5) < 0.02)
    (dtype('float32'), True)
    """
    return K.random_bernoulli(shape, p=p, dtype=dtype, seed=seed)


@op(shape=shape_tuple, dtype=float_dtype, seed=seed_or_random)
def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples of shape ``shape``, re-drawn until within ``mean ± 2·stddev``.

    The standard deviation of the result is about ``0.87962 · stddev``.

    Args:
        mean: The mean (a tensor or a number).
        stddev: The standard deviation (a float).

    >>> import kbackend as K
    >>> x = K.eval(K.truncated_normal((200, 200), stddev=2.0, seed=7))
    >>> bool(abs(x).max() <= 4.0), bool(abs(x.std() - 0.87962 * 2.0) < 0.05)
    (True, True)
    """
    rng = _rng(seed)
    values = rng.standard_normal(size=shape)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = rng.standard_normal(size=int(outside.sum()))
        outside = np.abs(values) > 2.0
    return (mean + stddev * values).astype(numpy_dtype(dtype))
