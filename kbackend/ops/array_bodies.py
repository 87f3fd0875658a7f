"""Op bodies written once against an array namespace ``xp`` that mirrors NumPy's API, for the engines
whose namespace does (``jax.numpy``, ``pytensor.tensor``): each engine binds them with its namespace
and its own conversion of an argument to an array, as array-api-compat's generic aliases do.  The op's
check (:mod:`.shape_rules`) has run before any of them.
"""

import numpy as np

from .math import check_axis
from .shape_rules import bilinear_taps, concat_axis, spatial_widths, temporal_widths


def shape_ops(xp, asarray):
    """``gather``, ``concatenate``, ``expand_dims``, ``stack`` and ``repeat_elements`` bound to ``xp``;
    ``asarray`` turns an argument (a variable, a NumPy array, a Python value) into an ``xp`` array."""

    def gather(reference, indices):
        return xp.take(asarray(reference), asarray(indices), axis=0)

    def concatenate(tensors, axis):
        arrays = [asarray(t) for t in tensors]
        return xp.concatenate(arrays, axis=concat_axis(axis, arrays[0].ndim))

    def expand_dims(x, axis):
        return xp.expand_dims(asarray(x), axis)

    def stack(x, axis):
        return xp.stack([asarray(t) for t in x], axis=axis)

    def repeat_elements(x, rep, axis):
        return xp.repeat(asarray(x), rep, axis=axis)

    return gather, concatenate, expand_dims, stack, repeat_elements


def padding_ops(pad):
    """``temporal_padding``, ``spatial_2d_padding`` and ``spatial_3d_padding`` from an engine's
    ``pad(x, widths)`` (zero padding by one (before, after) pair per axis)."""

    def temporal_padding(x, padding):
        return pad(x, temporal_widths(padding))

    def spatial_2d_padding(x, padding, data_format):
        return pad(x, spatial_widths(padding, data_format))

    return temporal_padding, spatial_2d_padding, spatial_2d_padding


def bilinear_axis(xp, x, axis, size, factor, dtype, constant):
    """Upsample ``axis`` (of length ``size``) of ``x`` by ``factor`` with linear interpolation at
    half-pixel centres (:func:`.shape_rules.bilinear_taps`, in ``dtype``); ``constant`` turns the NumPy
    weights into an ``xp`` array."""
    lower, upper, weight = bilinear_taps(size, factor, dtype)
    shape = [1] * x.ndim
    shape[axis] = -1
    below, above = xp.take(x, lower, axis=axis), xp.take(x, upper, axis=axis)
    return below + (above - below) * constant(weight.reshape(shape))


def static_dims(shape):
    """A requested shape as a tuple of Python ints (an engine scalar entry is read as its value)."""
    return tuple(int(d) for d in shape)


def filled_ops(fill, identity, variable, dims=static_dims):
    """``zeros``, ``ones`` and ``eye`` from an engine's ``fill(kind, shape, dtype)`` (``kind`` is
    ``"zeros"`` or ``"ones"``, ``dtype`` a Keras dtype name), ``identity(rows, cols, dtype)`` and
    ``variable(value, name)``.  A static, non-empty shape gives a variable, as in Keras 2; a shape with
    an empty axis, or (where ``dims`` keeps them) tensor entries such as ``K.shape(x)[0]``, gives the
    plain tensor."""

    def filled(kind, shape, dtype, name):
        shape = dims((shape,) if isinstance(shape, int) else shape)
        value = fill(kind, shape, dtype)
        if all(isinstance(d, (int, np.integer)) and d for d in shape):
            return variable(value, name)
        return value

    def zeros(shape, dtype=None, name=None):
        return filled("zeros", shape, dtype, name)

    def ones(shape, dtype=None, name=None):
        return filled("ones", shape, dtype, name)

    def eye(size, dtype=None, name=None):
        rows, cols = (size, size) if np.ndim(size) == 0 else tuple(size)
        return variable(identity(int(rows), int(cols), dtype), name)

    return zeros, ones, eye


def keras_tensor_ops(is_tensor):
    """``is_keras_tensor`` and ``is_placeholder`` for an engine whose ``is_tensor(x)`` says what
    ``is_keras_tensor`` accepts."""

    def is_keras_tensor(x):
        if not is_tensor(x):
            raise ValueError(
                f"is_keras_tensor: argument `x` got {type(x).__name__}; expected a tensor or variable"
            )
        return hasattr(x, "_keras_history")

    def is_placeholder(x):
        return bool(getattr(x, "_is_placeholder", False))

    return is_keras_tensor, is_placeholder


def is_python_number(value):
    cls = value.__class__
    return cls is float or cls is int


def clip_op(xp, asarray, cast):
    """``clip`` bound to ``xp`` (its ``minimum``/``maximum``), ``asarray`` and ``cast(x, dtype)``: a
    Python number bound stays weakly typed, a tensor bound takes ``x``'s dtype, and a ``max_value``
    below ``min_value`` is raised to it, as the reference does."""

    def bound(value, like):
        if is_python_number(value):
            return value
        return cast(asarray(value), like.dtype)

    def clip(x, min_value, max_value):
        x = asarray(x)
        if is_python_number(min_value) and is_python_number(max_value) and max_value < min_value:
            max_value = min_value
        out = x
        if max_value is not None:
            out = xp.minimum(out, bound(max_value, x))
        if min_value is not None:
            out = xp.maximum(out, bound(min_value, x))
        return cast(out, x.dtype)

    return clip


def moment_ops(xp, asarray, cast):
    """``var``, ``std`` and ``mean`` bound to ``xp``, ``asarray`` and ``cast(x, dtype)``: the result
    keeps ``x``'s dtype, as the reference's does."""

    def moment(func, reduce):
        def impl(x, axis=None, keepdims=False):
            x = asarray(x)
            return cast(reduce(x, axis=check_axis(func, axis, x.ndim), keepdims=keepdims), x.dtype)

        impl.__name__ = func
        return impl

    return moment("var", xp.var), moment("std", xp.std), moment("mean", xp.mean)


def bias_add_op(xp, asarray, cast, static_shape=lambda array: array.shape):
    """``bias_add`` bound to ``xp`` (its ``reshape``), ``asarray`` and ``cast(x, dtype)``: ``bias`` of
    rank 1 or ``ndim(x) - 1`` is cast to ``x``'s dtype first, as TensorFlow's BiasAdd, and for
    ``channels_first`` it is reshaped (not transposed) to put its last axis's length first, as Keras 2;
    ``static_shape`` gives the shape an error message names."""

    def bias_add(x, bias, data_format=None):
        x, bias = asarray(x), asarray(bias)
        if bias.ndim != 1 and bias.ndim != x.ndim - 1:
            raise ValueError(f"bias_add: argument `bias` got a rank-{bias.ndim} tensor of shape "
                             f"{static_shape(bias)}; expected rank 1 or {x.ndim - 1} (ndim(x) - 1)")
        if data_format == "channels_first" and x.ndim > 2:
            if bias.ndim == 1:
                bias = xp.reshape(bias, (-1,) + (1,) * (x.ndim - 2))
            else:
                bias = xp.reshape(bias, [bias.shape[-1]] + [bias.shape[i] for i in range(bias.ndim - 1)])
        return cast(x + cast(bias, x.dtype), x.dtype)

    return bias_add


def logit_crossentropy_ops(xp, asarray, cast, log_softmax):
    """The softmax and sigmoid crossentropies from logits (under ``K.*_crossentropy(from_logits=True)``)
    bound to ``xp``, ``asarray``, ``cast(x, dtype)`` and the engine's ``log_softmax(z, axis)``; the
    target takes the logits' dtype."""

    def softmax_cross_entropy(target, output, axis=-1):
        z = asarray(output)
        return -xp.sum(cast(asarray(target), z.dtype) * log_softmax(z, axis=axis), axis=axis)

    def sigmoid_cross_entropy(target, output):
        x = asarray(output)
        t = cast(asarray(target), x.dtype)
        return xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))

    return softmax_cross_entropy, sigmoid_cross_entropy
