"""Activations, losses and normalisation.

Activations with a fused kernel in the engines (relu, elu, softmax, softplus, sigmoid, tanh), ``bias_add``
and ``dropout`` are plain ops: their NumPy body is the reference and each backend maps them to its kernel.
The others are composites written in ``K.*`` calls, so they run unchanged on every backend.
"""

import math
import numbers

import numpy as np

from .. import config
from .._dispatch import K, ArgError, axes, check_size, one_axis, op, real, symbolic
from .checks import checked_axis
from .conv_rules import static_shape
from .namespace import NUMPY
from .variables import _array

# ---------------------------------------------------------------------------------------------------
# canonicalisers


def drop_rate(level):
    """A Python number in [0, 1): the fraction of entries dropout sets to zero."""
    if not isinstance(level, numbers.Real) or isinstance(level, bool):
        raise ArgError("a float in [0, 1)", TypeError)
    level = float(level)
    if not 0.0 <= level < 1.0:
        raise ArgError("a float in [0, 1)")
    return level


def saturation(max_value):
    """relu's ``max_value``: a number below 0 becomes 0.  Keras 2 clips to ``[0, max_value]`` with
    ``tf.clip_by_value``, whose lower bound wins when the bounds cross (NumPy's and torch's clip let the
    upper one win).  Tensors and None pass as they are."""
    if isinstance(max_value, numbers.Real) and not isinstance(max_value, bool) and max_value < 0:
        return max_value.__class__(0)
    if max_value.__class__ is np.ndarray and max_value.ndim == 0 and max_value.dtype.kind in "if" and max_value < 0:
        return np.zeros_like(max_value)
    return max_value


def noise_mask_shape(x_shape, noise_shape):
    """The shape of dropout's keep/drop mask: ``noise_shape`` with its None entries read from ``x_shape``.

    Raises ``ValueError`` unless the mask broadcasts to ``x`` without enlarging it (one entry per axis,
    each 1 or that axis's size), as Keras 2's dropout layers build it: a larger mask would make the
    output larger than ``x``.  Axes of unknown size (None in ``x_shape``) are not checked."""
    if noise_shape is None:
        return tuple(x_shape)
    dims = tuple(size if d is None else d for size, d in zip(x_shape, noise_shape))
    if len(noise_shape) != len(x_shape) or any(size is not None and d not in (1, size)
                                               for size, d in zip(x_shape, dims)):
        raise ValueError(f"dropout: argument `noise_shape` got {noise_shape!r}; expected {len(x_shape)} entries, "
                         f"each None, 1 or the size of that axis of x {tuple(x_shape)}")
    return dims


def seed_or_random(seed):
    """None → a fresh seed drawn from NumPy's global RNG (as Keras 2 does); else an int."""
    if seed is None:
        return int(np.random.randint(10e6))
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return int(seed)
    raise ArgError("None or an int", TypeError)


def noise_shape_or_none(noise_shape):
    """None, or a tuple of ints / None (a None entry takes the size of that axis of ``x``).

    Keras 2's spatial dropout layers build it from ``K.shape(x)`` — ``(K.shape(x)[0], 1, K.shape(x)[2])``
    — so a scalar tensor entry is read as an int, and inside a graph (where it is ``x``'s own size,
    not yet known) it counts as None."""
    if noise_shape is None:
        return None
    if isinstance(noise_shape, (tuple, list)):
        dims = []
        for d in noise_shape:
            if d is None or symbolic.is_symbolic is not None and symbolic.is_symbolic(d):
                dims.append(None)
            elif isinstance(d, numbers.Integral) and not isinstance(d, bool):
                dims.append(int(d))
            elif getattr(d, "ndim", None) == 0 and "int" in str(getattr(d, "dtype", "")):  # an eager scalar tensor
                dims.append(int(d))
            else:
                break
        else:
            if any(d is not None and d < 0 for d in dims):
                raise ArgError("None or a tuple of non-negative ints (None entries allowed)")
            check_size(math.prod(d for d in dims if d is not None))
            return tuple(dims)
    raise ArgError("None or a tuple of ints (None entries allowed)", TypeError)


def axis_tuple(value):
    """An int or a sequence of ints → a tuple of ints."""
    value = axes(value)
    if value is None:
        raise ArgError("an int or a list/tuple of ints", TypeError)
    return (value,) if value.__class__ is int else value


def top_k_count(k):
    """A non-negative int."""
    if isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 0:
        return int(k)
    raise ArgError("a non-negative int", TypeError if not isinstance(k, numbers.Integral) else ValueError)


# ---------------------------------------------------------------------------------------------------
# helpers of the reference bodies


def _scalar(value, like):
    """``value`` as a scalar tensor of the dtype of ``like``.

    Composite bodies use it instead of a Python float operand: NumPy promotes bfloat16 arrays to float32
    when combined with a Python float.
    """
    return K.constant(value, dtype=K.dtype(like))


def _in_dtype_of(value, like):
    """``value`` cast to the dtype of ``like`` when they differ (a crossentropy's target computes in the
    dtype of its output: int labels meet float probabilities)."""
    if not hasattr(value, "dtype") or K.dtype(value) != K.dtype(like):
        return K.cast(value, K.dtype(like))
    return value


# ---------------------------------------------------------------------------------------------------
# activations


@op(max_value=saturation, policy="same")
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, generalised: leaky slope, saturation and threshold.

    ``max_value`` where ``x >= max_value``, ``x`` where ``threshold < x < max_value``, and
    ``alpha * (x - threshold)`` where ``x <= threshold``.  With ``max_value`` set, the positive part is
    also clipped at 0 (so a negative ``threshold`` maps ``threshold < x < 0`` to 0, and a negative
    ``max_value`` saturates at 0), as in Keras 2.

    Args:
        x: tensor.
        alpha: slope below the threshold.
        max_value: saturation value, or None for none.
        threshold: where the linear part starts.

    Returns:
        A tensor of the dtype of ``x``.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.relu(np.array([-2., -0.5, 0.5, 3.], 'float32'), alpha=0.1, max_value=2.))
    array([-0.2 , -0.05,  0.5 ,  2.  ], dtype=float32)
    """
    x = _array(x)
    dtype = x.dtype
    if alpha != 0.0 and max_value is None and threshold == 0.0:
        return np.where(x > 0, x, x * alpha).astype(dtype, copy=False)
    if threshold != 0.0:
        positive = x * (x > threshold)
    else:
        positive = np.maximum(x, 0)
    if max_value is not None:
        positive = np.clip(positive, 0, max_value)
    if alpha != 0.0:
        positive = positive - alpha * np.maximum(threshold - x, 0)
    return positive.astype(dtype, copy=False)


@op(policy=("real", "accumulate-half"))
def elu(x, alpha=1.0, *, xp=NUMPY):
    """Exponential linear unit: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Args:
        alpha: The slope or scale parameter (a float).

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.elu(np.array([-1., 0., 2.], 'float32'), alpha=0.5)).round(4)
    array([-0.3161,  0.    ,  2.    ], dtype=float32)
    """
    x = xp.tensor(x)
    return xp.cast(xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0))), x.dtype)


@op(axis=one_axis, policy=("real", "accumulate-half"))
def softmax(x, axis=-1):
    """Softmax of ``x`` along ``axis``: ``exp(x) / sum(exp(x), axis)``, computed stably.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.softmax(np.array([[0., np.log(3.)]], 'float32')))
    array([[0.25, 0.75]], dtype=float32)
    """
    x = _array(x)
    shifted = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))
    shifted /= np.add.reduce(shifted, axis=axis, keepdims=True)
    return shifted.astype(x.dtype, copy=False)


@op(policy=("real", "accumulate-half"))
def softplus(x):
    """Softplus ``log(1 + exp(x))``, computed without overflow.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.softplus(np.array([0., 100.], 'float32')))
    array([  0.6931472, 100.       ], dtype=float32)
    """
    x = _array(x)
    return np.logaddexp(0, x).astype(x.dtype, copy=False)


@op(composite=True, policy="real")
def softsign(x):
    """Softsign ``x / (1 + |x|)``.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.softsign(np.array([-3., 0., 1.], 'float32')))
    array([-0.75,  0.  ,  0.5 ], dtype=float32)
    """
    return x / (K.abs(x) + 1)


@op(policy=("real", "accumulate-half"))
def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.sigmoid(np.array([-1000., 0., 1000.], 'float32')))
    array([0. , 0.5, 1. ], dtype=float32)
    """
    x = _array(x)
    return np.exp(-np.logaddexp(0, -x)).astype(x.dtype, copy=False)


@op(composite=True, policy="real")
def hard_sigmoid(x):
    """Piecewise-linear sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.hard_sigmoid(np.array([-3., 0., 1., 3.], 'float32')))
    array([0. , 0.5, 0.7, 1. ], dtype=float32)
    """
    return K.clip(x * _scalar(0.2, x) + _scalar(0.5, x), 0.0, 1.0)


@op(policy=("real", "accumulate-half"))
def tanh(x):
    """Hyperbolic tangent, elementwise.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.tanh(np.array([0., 100.], 'float32')))
    array([0., 1.], dtype=float32)
    """
    x = _array(x)
    return np.tanh(x).astype(x.dtype, copy=False)


# ---------------------------------------------------------------------------------------------------
# losses


@op(composite=True, axis=one_axis)
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical crossentropy between ``target`` (probabilities, e.g. one-hot) and ``output``.

    ``output`` holds probabilities, renormalised to sum to 1 along ``axis`` and clipped to
    ``[epsilon(), 1 - epsilon()]`` (``epsilon()`` read at call time), or logits when ``from_logits``.
    Reduces ``axis``: one loss per sample.

    Args:
        target: The target tensor.
        output: The predicted tensor (probabilities, or logits when ``from_logits``).
        from_logits: True when ``output`` holds logits rather than probabilities.

    >>> import numpy as np, kbackend as K
    >>> target = np.eye(3, dtype='float32')
    >>> output = np.array([[.9, .05, .05], [.05, .89, .06], [.05, .01, .94]], 'float32')
    >>> K.eval(K.categorical_crossentropy(target, output)).round(5)
    array([0.10536, 0.11653, 0.06188], dtype=float32)
    """
    axis = checked_axis("categorical_crossentropy", axis, K.ndim(output))
    output = real(output)
    target = _in_dtype_of(target, output)
    if from_logits:
        return _softmax_cross_entropy(target, output, axis)
    output = output / K.sum(output, axis=axis, keepdims=True)
    epsilon = config.epsilon()
    output = K.clip(output, epsilon, 1.0 - epsilon)
    return -K.sum(target * K.log(output), axis=axis)


@op(composite=True, axis=one_axis)
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical crossentropy with integer class ids as ``target``.

    ``target`` has the shape of ``output`` without its class axis (a trailing axis of size 1 is
    accepted too); ``output`` holds probabilities (clipped to ``[epsilon(), 1 - epsilon()]``, then
    renormalised through the log-softmax of their log) or logits when ``from_logits``.  ``axis`` is the
    class axis of ``output``.  Returns one loss per position of ``target``.

    Args:
        target: The target tensor.
        output: The predicted tensor (probabilities, or logits when ``from_logits``).
        from_logits: True when ``output`` holds logits rather than probabilities.

    >>> import numpy as np, kbackend as K
    >>> output = np.array([[.9, .05, .05], [.05, .89, .06]], 'float32')
    >>> K.eval(K.sparse_categorical_crossentropy(np.array([0, 1]), output)).round(5)
    array([0.10536, 0.11653], dtype=float32)
    """
    rank = K.ndim(output)
    axis = checked_axis("sparse_categorical_crossentropy", axis, rank)
    _check_class_ids("sparse_categorical_crossentropy", target, K.int_shape(output)[axis])
    if not from_logits:
        epsilon = config.epsilon()
        output = K.log(K.clip(output, epsilon, 1.0 - epsilon))
    if axis != rank - 1:
        output = K.permute_dimensions(output, [*range(axis), *range(axis + 1, rank), axis])
    shape = K.int_shape(output)
    if K.ndim(target) != rank - 1:
        target = K.reshape(target, (-1,) + shape[1:-1] if rank > 1 else ())
    return _sparse_softmax_cross_entropy(target, output)


@op(composite=True)
def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary crossentropy (no reduction) between ``target`` and ``output``.

    ``output`` holds probabilities (clipped to ``[epsilon(), 1 - epsilon()]``; the loss is
    ``-(t * log(p + eps) + (1 - t) * log(1 - p + eps))``) or logits when ``from_logits`` (the stable
    ``max(x, 0) - x * t + log(1 + exp(-|x|))``).

    Args:
        target: The target tensor.
        output: The predicted tensor (probabilities, or logits when ``from_logits``).
        from_logits: True when ``output`` holds logits rather than probabilities.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.binary_crossentropy(np.array([1., 0.], 'float32'), np.array([.8, .4], 'float32'))).round(5)
    array([0.22314, 0.51083], dtype=float32)
    """
    output = real(output)
    target = _in_dtype_of(target, output)
    if from_logits:
        return _sigmoid_cross_entropy(target, output)
    epsilon = config.epsilon()
    output = K.clip(output, epsilon, 1.0 - epsilon)
    fuzz = _scalar(epsilon, output)
    return -(target * K.log(output + fuzz) + (1 - target) * K.log(1 - output + fuzz))


def _check_class_ids(func, target, classes):
    """Raise ``ValueError`` when concrete labels hold an id outside ``[0, classes)``.

    An engine would silently give a loss of 0 for it (torch's ``ignore_index``, a one-hot row of
    zeros); TensorFlow refuses it.  Labels known only when a function runs (placeholders, traced
    values) are not read here: in a graph such an id still gives 0."""
    if classes is None or symbolic.is_symbolic is not None and symbolic.is_symbolic(target):
        return
    try:
        ids = np.asarray(target)
    except Exception:  # noqa: BLE001 - traced, or on a device: not readable now
        return
    if ids.size == 0 or ids.dtype.kind not in "iuf":
        return
    low, high = ids.min(), ids.max()
    if low < 0 or high >= classes:
        bad = ids[(ids < 0) | (ids >= classes)].reshape(-1)[:5].tolist()
        raise ValueError(f"{func}: argument `target` got class ids {bad}; expected ids in [0, {classes})")


# The crossentropies from logits are single ops underneath (not exported), so that each engine runs
# its fused kernel and a graph differentiates them with one rule instead of five.


@op(axis=one_axis, policy="accumulate-half")
def _softmax_cross_entropy(target, output, axis=-1, *, xp=NUMPY):
    """``-sum(target * log_softmax(output), axis)``: categorical crossentropy from logits.

    ``target`` is cast to the dtype of ``output`` and broadcast against it.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.categorical_crossentropy(np.eye(2, dtype='float32'), np.zeros((2, 2), 'float32'),
    ...                                   from_logits=True)).round(5)
    array([0.69315, 0.69315], dtype=float32)
    """
    z = xp.tensor(output)
    t = xp.cast(xp.tensor(target), z.dtype)
    return xp.cast(-xp.sum(t * xp.log_softmax(z, axis=axis), axis=axis), z.dtype)


@op(policy="accumulate-half")
def _sparse_softmax_cross_entropy(target, output, *, xp=NUMPY):
    """``-log_softmax(output)[..., target]``: crossentropy from logits (classes on the last axis of
    ``output``) with integer class ids; an id outside ``[0, classes)`` gives a loss of 0.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.sparse_categorical_crossentropy(np.array([0, 1]), np.zeros((2, 4), 'float32'),
    ...                                          from_logits=True)).round(5)
    array([1.38629, 1.38629], dtype=float32)
    """
    z = xp.tensor(output)
    ids = xp.cast(xp.tensor(target), np.int64)
    valid = (ids >= 0) & (ids < z.shape[-1])
    log_probabilities = xp.log_softmax(z, axis=-1)
    picked = xp.take_along_axis(log_probabilities, xp.where(valid, ids, 0)[..., None], axis=-1)[..., 0]
    return xp.cast(xp.where(valid, -picked, 0), z.dtype)


@op(policy="accumulate-half")
def _sigmoid_cross_entropy(target, output, *, xp=NUMPY):
    """``max(x, 0) - x * t + log(1 + exp(-|x|))`` for logits ``x = output`` and targets ``t`` (cast to
    the dtype of ``output``).

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.binary_crossentropy(np.array([1., 0.], 'float32'), np.array([0., 2.], 'float32'),
    ...                              from_logits=True)).round(5)
    array([0.69315, 2.12693], dtype=float32)
    """
    x = xp.tensor(output)
    t = xp.cast(xp.tensor(target), x.dtype)
    return xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))


# ---------------------------------------------------------------------------------------------------
# dropout and normalisation


@op(level=drop_rate, noise_shape=noise_shape_or_none, seed=seed_or_random)
def dropout(x, level, noise_shape=None, seed=None):
    """Inverted dropout: zero each entry with probability ``level`` and scale the rest by ``1 / (1 - level)``.

    ``level`` is the *drop* rate, in [0, 1).  ``noise_shape`` shapes the keep/drop mask, broadcast
    against ``x`` (a None entry takes the size of that axis of ``x``).  The same ``seed`` gives the same
    mask on the same backend; None draws one from NumPy's global RNG.  Always applied (no learning-phase
    check), as in Keras 2 on TensorFlow.

    Args:
        level: The fraction of units dropped (a float in [0, 1)).
        noise_shape: The shape of the dropout mask (broadcast against ``x``), or None for ``x``'s shape.

    >>> import numpy as np, kbackend as K
    >>> out = K.eval(K.dropout(np.ones((100, 100), 'float32'), 0.5, seed=1))
    >>> sorted(np.unique(out).tolist()), bool(0.45 < (out == 0).mean() < 0.55)
    ([0.0, 2.0], True)
    """
    x = _array(x)
    noise_shape = noise_mask_shape(x.shape, noise_shape)
    keep = np.random.default_rng(seed).uniform(size=noise_shape) >= level
    scale = np.asarray(1.0 / (1.0 - level), dtype=x.dtype)
    return (x * scale * keep).astype(x.dtype)


@op(composite=True, axis=axes, policy="real")
def l2_normalize(x, axis=None):
    """Divide ``x`` by its L2 norm along ``axis`` (None: all elements): ``x / sqrt(max(sum(x²), 1e-12))``.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.l2_normalize(np.array([[3., 4.], [0., 0.]], 'float32'), axis=1))
    array([[0.6, 0.8],
           [0. , 0. ]], dtype=float32)
    """
    square_sum = K.sum(K.square(x), axis=axis, keepdims=True)
    return x / K.sqrt(K.maximum(square_sum, 1e-12))


@op(composite=True, k=top_k_count)
def in_top_k(predictions, targets, k):
    """Whether ``targets[i]`` is among the ``k`` largest of ``predictions[i]``; ties count as in.

    Args:
        predictions: ``(batch, classes)`` float tensor.
        targets: ``(batch,)`` integer tensor of class ids.
        k: number of top entries to consider.

    Returns:
        A ``(batch,)`` bool tensor: fewer than ``k`` predictions of row ``i`` exceed its target's.  As in
        Keras 2 (TensorFlow's InTopK), a target outside ``[0, classes)`` or whose prediction is not finite
        is not in the top k.

    >>> import numpy as np, kbackend as K
    >>> predictions = np.array([[.1, .5, .5], [.7, .2, .1]], 'float32')
    >>> K.eval(K.in_top_k(predictions, np.array([2, 1]), 1))
    array([ True, False])
    """
    classes = K.int_shape(predictions)[-1]
    hot = K.one_hot(K.cast(targets, "int32"), classes)  # a row of zeros for a target out of range
    chosen = K.switch(K.cast(hot, "bool"), predictions, K.zeros_like(predictions))  # no inf * 0 from other classes
    target_value = K.sum(chosen, axis=-1, keepdims=True)
    larger = K.sum(K.cast(K.greater(predictions, target_value), "int32"), axis=-1)
    finite = K.less(K.abs(target_value[..., 0]), np.inf)  # False for inf and NaN
    valid = K.cast(finite, "int32") * K.cast(K.sum(K.cast(hot, "int32"), axis=-1), "int32")
    return K.less(larger + (1 - valid) * k, k)


def _broadcast_to_rank(value, shape, like=None):
    """``value`` reshaped to ``shape`` when it is rank-1 and the target rank is higher, and cast to the
    dtype of ``like`` (a normalisation's parameters compute in the dtype of its input)."""
    if value is None:
        return value
    if like is not None and (not hasattr(value, "dtype") or K.dtype(value) != K.dtype(like)):
        value = K.cast(value, K.dtype(like))  # a Python list too: it has no dtype to keep
    if K.ndim(value) != 1 or len(shape) == 1:
        return value
    return K.reshape(value, shape)


@op(composite=True, reduction_axes=axis_tuple, policy="real")
def normalize_batch_in_training(x, gamma, beta, reduction_axes, epsilon=0.001):
    """Normalise ``x`` with the mean and (biased) variance over ``reduction_axes``, then scale and shift.

    Args:
        x: tensor.
        gamma: scale (the shape of the axes not reduced, or broadcastable), or None for 1.
        beta: offset, same shape rules, or None for 0.
        reduction_axes: the axes to reduce, e.g. ``[0, 1, 2]`` for NHWC batches.
        epsilon: added to the variance.

    Returns:
        ``(normalised, mean, variance)``; mean and variance have the reduced axes removed.

    >>> import numpy as np, kbackend as K
    >>> normed, mean, var = K.normalize_batch_in_training(
    ...     np.array([[1., 2.], [3., 6.]], 'float32'), None, None, [0], epsilon=0.)
    >>> K.eval(normed), K.eval(mean), K.eval(var)
    (array([[-1., -1.],
           [ 1.,  1.]], dtype=float32), array([2., 4.], dtype=float32), array([1., 4.], dtype=float32))
    """
    rank = K.ndim(x)
    reduced = sorted(
        checked_axis("normalize_batch_in_training", a, rank, "reduction_axes") for a in reduction_axes
    )
    mean = K.mean(x, axis=reduced)
    var = K.var(x, axis=reduced)
    kept = tuple(1 if a in reduced else d for a, d in enumerate(K.int_shape(x)))
    broadcast_mean = K.reshape(mean, kept)
    broadcast_var = K.reshape(var, kept)
    normed = (x - broadcast_mean) / K.sqrt(broadcast_var + _scalar(epsilon, var))
    if gamma is not None:
        normed = normed * _broadcast_to_rank(gamma, kept, x)
    if beta is not None:
        normed = normed + _broadcast_to_rank(beta, kept, x)
    return normed, mean, var


@op(composite=True, axis=one_axis, policy=("real", "promote"))
def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=0.001):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` with given statistics.

    ``mean``, ``var``, ``beta`` and ``gamma`` broadcast against ``x``; a rank-1 one applies along
    ``axis`` (the feature axis).  ``beta`` / ``gamma`` may be None (0 / 1).

    Args:
        mean: The mean (a tensor or a number).
        var: The variance (a tensor).
        beta: The offset tensor (None for none).
        gamma: The scale tensor (None for none).
        epsilon: A small float added to the variance.

    >>> import numpy as np, kbackend as K
    >>> x = np.array([[1., 2.], [3., 6.]], 'float32')
    >>> K.eval(K.batch_normalization(x, np.array([2., 4.], 'float32'), np.array([1., 4.], 'float32'),
    ...                              None, np.array([1., 10.], 'float32'), epsilon=0.))
    array([[ -1., -10.],
           [  1.,  10.]], dtype=float32)
    """
    rank = K.ndim(x)
    axis = checked_axis("batch_normalization", axis, rank)
    shape = tuple(-1 if a == axis else 1 for a in range(rank))
    mean, var = _broadcast_to_rank(mean, shape, x), _broadcast_to_rank(var, shape, x)
    normed = (x - mean) / K.sqrt(var + _scalar(epsilon, var))
    if gamma is not None:
        normed = normed * _broadcast_to_rank(gamma, shape, x)
    if beta is not None:
        normed = normed + _broadcast_to_rank(beta, shape, x)
    return normed


@op(policy="same")
def bias_add(x, bias, data_format=None, *, xp=NUMPY):
    """Add ``bias`` to ``x`` on the channel axis of ``data_format`` (None: ``image_data_format()``).

    ``bias`` is rank 1 (one value per channel) or rank ``ndim(x) - 1`` (a value per position, laid out
    ``(spatial..., channels)``; for channels_first it is reshaped, not transposed, to
    ``(channels, spatial...)`` as Keras 2 does).  Any other rank raises ``ValueError``.

    Args:
        bias: The bias tensor.

    >>> import numpy as np, kbackend as K
    >>> x = np.zeros((1, 2, 3), 'float32')
    >>> K.eval(K.bias_add(x, np.array([1., 2.], 'float32'), data_format='channels_first'))
    array([[[1., 1., 1.],
            [2., 2., 2.]]], dtype=float32)
    """
    x = xp.tensor(x)
    bias = xp.cast(xp.tensor(bias), x.dtype)  # the dtype of x: bias is cast first, as TensorFlow's BiasAdd
    if bias.ndim != 1 and bias.ndim != x.ndim - 1:
        raise ValueError(f"bias_add: argument `bias` got a rank-{bias.ndim} tensor of shape "
                         f"{static_shape(bias)}; expected rank 1 or {x.ndim - 1} (ndim(x) - 1)")
    if data_format == "channels_first" and x.ndim > 2:
        if bias.ndim == 1:
            bias = bias.reshape((-1,) + (1,) * (x.ndim - 2))
        else:
            bias = bias.reshape([bias.shape[-1]] + [bias.shape[i] for i in range(bias.ndim - 1)])
    return xp.cast(x + bias, x.dtype)
