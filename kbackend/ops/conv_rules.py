"""Shape rules of the convolution and pooling ops, each stated once: argument checks, padding amounts
and output shapes.

Every op of :mod:`kbackend.ops.conv` declares its check here (``check=`` in :func:`kbackend._dispatch.op`).
The op runs it on the canonical arguments before dispatch, eagerly and when a graph is built, so an
engine receives only arguments it can compute with and restates no check and no message.  The engines
and the NumPy reference take their padding amounts from :func:`padding_amounts` and
:func:`transpose_crops`.

Shapes are read with :func:`static_shape`; a dimension that is not known yet (a traced ``tf.function``
input, a PyTensor graph variable) is ``None`` and every rule lets it pass.
"""

import functools
import math

import numpy as np

# ---------------------------------------------------------------------------------------------------
# shapes and padding


def static_shape(value):
    """The shape of an engine tensor, variable, NumPy array or Python list as a tuple whose unknown
    dimensions are None; None when even the rank is unknown."""
    shape = getattr(value, "shape", None)
    if shape.__class__ is tuple:
        return shape
    if shape is None:
        try:
            return np.shape(value)
        except ValueError:  # a ragged list: the engine reports it
            return None
    if isinstance(shape, tuple):  # torch.Size
        return tuple(shape)
    as_list = getattr(shape, "as_list", None)  # TensorFlow's TensorShape: ints and None
    if as_list is not None:
        try:
            return tuple(as_list())
        except ValueError:  # an unknown rank
            return None
    static = getattr(getattr(value, "type", None), "shape", None)  # a PyTensor graph variable
    if static.__class__ is tuple:
        return static
    try:
        dims = tuple(shape)
    except (TypeError, ValueError):
        return None
    return tuple(d if d.__class__ is int else None for d in dims)


def effective_size(size, dilation):
    """The extent of a window of ``size`` taps placed ``dilation`` apart."""
    return (size - 1) * dilation + 1


def same_padding(length, window, stride):
    """TensorFlow's 'same' padding (before, after) of one axis: the extra element goes after."""
    out = -(-length // stride)
    total = max((out - 1) * stride + window - length, 0)
    return total // 2, total - total // 2


def padding_amounts(spatial, window, strides, dilation, padding):
    """Per spatial axis, the (before, after) padding of a window sweep: none for 'valid', TensorFlow's
    for 'same', ``extent - 1`` before for 'causal' (output ``t`` sees inputs up to ``t``)."""
    extent = [effective_size(w, d) for w, d in zip(window, dilation)]
    if padding == "same":
        return [same_padding(length, e, s) for length, e, s in zip(spatial, extent, strides)]
    if padding == "causal":
        return [(e - 1, 0) for e in extent]
    return [(0, 0)] * len(window)


def output_length(length, window, stride, dilation, padding):
    """The length of one spatial axis after a window sweep (None when ``length`` is unknown)."""
    if length is None:
        return None
    extent = effective_size(window, dilation)
    if padding == "same":
        return -(-length // stride)
    if padding == "causal":
        length += extent - 1
    return max((length - extent) // stride + 1, 0)


def spatial_of(shape, data_format):
    """The spatial dims of a full shape in ``data_format`` order."""
    return tuple(shape[2:]) if data_format == "channels_first" else tuple(shape[1:-1])


def channels_of(shape, data_format):
    return shape[1] if data_format == "channels_first" else shape[-1]


def split_output_shape(output_shape, data_format):
    """``(batch, channels, spatial)`` of a transposed convolution's ``output_shape``."""
    if data_format == "channels_first":
        return output_shape[0], output_shape[1], tuple(output_shape[2:])
    return output_shape[0], output_shape[-1], tuple(output_shape[1:-1])


def transpose_crops(in_spatial, out_spatial, window, strides, dilation, padding):
    """Per spatial axis, how many elements the full transposed convolution loses before the
    ``out_spatial`` it keeps (the 'before' padding of the forward convolution)."""
    crops = []
    for length, out, w, s, d in zip(in_spatial, out_spatial, window, strides, dilation):
        crops.append(max((length - 1) * s + effective_size(w, d) - out, 0) // 2 if padding == "same" else 0)
    return crops


# ---------------------------------------------------------------------------------------------------
# checks shared by the ops


def check_rank(func, name, value, rank, what="tensor"):
    """The static shape of ``value``, which must have ``rank`` dims (an unknown rank passes as None)."""
    shape = value.shape if value.__class__ is np.ndarray else static_shape(value)
    if shape is not None and len(shape) != rank:
        raise ValueError(f"{func}: argument `{name}` got a tensor of shape {tuple(shape)}; expected a {rank}-D {what}")
    return shape


def check_channels(func, name, got, expected):
    if got is not None and expected is not None and got != expected:
        raise ValueError(
            f"{func}: argument `{name}` got {got} input channels; expected {expected} (the channels of `x`)"
        )


def check_strided_dilation(func, strides, dilation):
    """TensorFlow (the Keras 2 engine) refuses strides > 1 together with dilation > 1."""
    if max(strides) > 1 and max(dilation) > 1:
        raise ValueError(
            f"{func}: argument `dilation_rate` got {dilation}; expected all 1 when strides {strides} exceed 1"
        )


def check_window(func, spatial, window, dilation, padding):
    """A 'valid' window must fit in the input."""
    if padding != "valid" or spatial is None:
        return
    extent = tuple(effective_size(w, d) for w, d in zip(window, dilation))
    if any(length is not None and length < e for length, e in zip(spatial, extent)):
        raise ValueError(
            f"{func}: argument `x` got spatial shape {tuple(spatial)}; expected at least the dilated window "
            f"{extent} with padding='valid'"
        )


def _shapes(func, n, x, kernels):
    """Rank-checked shapes of ``x`` and of each named kernel (all ``n + 2``-D)."""
    x_shape = check_rank(func, "x", x, n + 2)
    return x_shape, [check_rank(func, name, kernel, n + 2, "kernel") for name, kernel in kernels]


def _convolution(func, n, x, kernel, strides, padding, data_format, dilation_rate):
    x_shape, (k_shape,) = _shapes(func, n, x, [("kernel", kernel)])
    check_strided_dilation(func, strides, dilation_rate)
    if padding == "causal" and data_format != "channels_last":
        raise ValueError(
            f"{func}: argument `padding` got 'causal'; expected 'valid' or 'same' with "
            "data_format='channels_first' (causal padding needs channels_last)"
        )
    if x_shape is None or k_shape is None:
        return
    channels = x_shape[1] if data_format == "channels_first" else x_shape[-1]
    if k_shape[n] != channels:
        check_channels(func, "kernel", k_shape[n], channels)
    if padding == "valid":
        check_window(func, spatial_of(x_shape, data_format), k_shape[:n], dilation_rate, padding)


def _depthwise(func, n, x_shape, k_shape, strides, padding, data_format, dilation_rate):
    check_channels(func, "depthwise_kernel", k_shape[n], channels_of(x_shape, data_format))
    check_window(func, spatial_of(x_shape, data_format), k_shape[:n], dilation_rate, padding)


def _separable(func, n, x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate):
    x_shape, (d_shape, p_shape) = _shapes(
        func, n, x, [("depthwise_kernel", depthwise_kernel), ("pointwise_kernel", pointwise_kernel)]
    )
    check_strided_dilation(func, strides, dilation_rate)
    if x_shape is None or d_shape is None or p_shape is None:
        return
    _depthwise(func, n, x_shape, d_shape, strides, padding, data_format, dilation_rate)
    if tuple(p_shape[:n]) != (1,) * n:
        raise ValueError(
            f"{func}: argument `pointwise_kernel` got shape {tuple(p_shape)}; expected {(1,) * n + tuple(p_shape[n:])}"
        )
    if d_shape[n] is not None and d_shape[n + 1] is not None:
        check_channels(func, "pointwise_kernel", p_shape[n], d_shape[n] * d_shape[n + 1])


def _transpose(func, n, x, kernel, output_shape, strides, padding, data_format, dilation_rate):
    x_shape, (k_shape,) = _shapes(func, n, x, [("kernel", kernel)])
    if n == 2 and dilation_rate[0] != dilation_rate[1]:
        raise ValueError(f"{func}: argument `dilation_rate` got {dilation_rate}; expected two equal rates")
    check_strided_dilation(func, strides, dilation_rate)
    if len(output_shape) != n + 2:
        raise ValueError(f"{func}: argument `output_shape` got {output_shape!r}; expected {n + 2} entries")
    if x_shape is None or k_shape is None:
        return
    batch, channels, out_spatial = split_output_shape(output_shape, data_format)
    if batch is not None and x_shape[0] is not None and batch != x_shape[0]:
        raise ValueError(
            f"{func}: argument `output_shape` got batch size {batch}; expected None or {x_shape[0]} (the batch of `x`)"
        )
    check_channels(func, "kernel", k_shape[n + 1], channels_of(x_shape, data_format))
    if k_shape[n] is not None and channels != k_shape[n]:
        raise ValueError(
            f"{func}: argument `output_shape` got {channels} channels; expected {k_shape[n]} "
            "(the output channels of `kernel`)"
        )
    in_spatial = spatial_of(x_shape, data_format)
    for length, out, w, s, d in zip(in_spatial, out_spatial, k_shape[:n], strides, dilation_rate):
        if length is not None and w is not None and output_length(out, w, s, d, padding) != length:
            raise ValueError(
                f"{func}: argument `output_shape` got spatial shape {tuple(out_spatial)}; expected one whose "
                f"{padding!r} convolution has the spatial shape {tuple(in_spatial)} of `x`"
            )


def _pool(func, n, x, pool_size, strides, padding, data_format):
    x_shape = check_rank(func, "x", x, n + 2)
    if x_shape is not None:
        check_window(func, spatial_of(x_shape, data_format), pool_size, (1,) * n, padding)


def _local(func, n, inputs, kernel, kernel_size, strides, output_shape, data_format):
    x_shape = check_rank(func, "x", inputs, n + 2)
    k_shape = static_shape(kernel)
    if x_shape is None or k_shape is None:
        return
    if output_shape is None:  # local_conv1d: one output step per row of the kernel
        if len(k_shape) and k_shape[0] is None:
            return
        output_shape = (k_shape[0] if len(k_shape) else 0,)
    spatial, channels = spatial_of(x_shape, data_format), channels_of(x_shape, data_format)
    positions = math.prod(output_shape)
    features = math.prod(kernel_size) * channels if channels is not None else None
    if (len(k_shape) != 3 or k_shape[0] not in (positions, None)
            or features is not None and k_shape[1] not in (features, None)):
        raise ValueError(
            f"{func}: argument `kernel` got shape {tuple(k_shape)}; expected ({positions}, {features}, filters) "
            f"for output shape {tuple(output_shape)}, kernel size {tuple(kernel_size)} and {channels} channels"
        )
    for length, out, k, s in zip(spatial, output_shape, kernel_size, strides):
        if length is not None and (out - 1) * s + k > length:
            raise ValueError(
                f"{func}: argument `output_shape` got {tuple(output_shape)}; expected windows of size "
                f"{tuple(kernel_size)} and strides {tuple(strides)} to fit the spatial shape {tuple(spatial)}"
            )


# ---------------------------------------------------------------------------------------------------
# the checks the ops declare (each takes its op's parameters)


#: Patterns a remembered check keeps before it forgets them all (a model has a few dozen shapes).
_REMEMBERED = 512


class Remembered:
    """A check that runs once per pattern of arguments it passed.

    A check reads only the shapes of its first ``tensors`` arguments and the canonical values of the
    others (ints, strings, tuples), so the pattern (those shapes, the other arguments) decides it; a
    training loop calls ``conv2d`` on the same shapes every step, and the second call costs a lookup
    instead of the ~2 µs of the checks.  Only tuple shapes (NumPy, torch, JAX, a static graph tensor)
    and plain arguments are remembered; anything else (a TensorShape, a tensor ``output_shape``) is
    checked every time.  A check that raises remembers nothing.

    Calling the object checks canonical arguments (``passed`` holds the patterns).  The op's generated
    wrapper goes one step further and skips the canonicalisers too: ``calls`` maps a pattern of the
    caller's own arguments (and the configuration a canonicaliser reads) to those argument objects and
    their canonical values.  A hit counts only when the caller passed the very objects remembered, so
    that ``strides=(1.0, 1.0)``, equal to ``(1, 1)`` but refused, is never taken for it.
    """

    def __init__(self, check, tensors):
        functools.update_wrapper(self, check)
        self.tensors = tensors
        self.passed = {}
        self.calls = {}

    def __call__(self, *args):
        tensors = self.tensors
        try:
            key = (*(arg.shape for arg in args[:tensors]), *args[tensors:])
            if key in self.passed:
                return
        except (AttributeError, TypeError):  # no shape, or an unhashable argument
            key = None
        self.__wrapped__(*args)
        if key is not None and self._rememberable(key[:tensors], key[tensors:]):
            self._add(self.passed, key, True)

    def remember_call(self, tensors, raw, canonical, state):
        """File a call that passed: its tensors, the caller's other arguments ``raw`` (a tuple), their
        ``canonical`` values and the configuration ``state`` its canonicalisers read."""
        try:
            shapes = tuple(tensor.shape for tensor in tensors)
        except AttributeError:
            return
        if self._rememberable(shapes, (raw, state)):
            self._add(self.calls, (*shapes, *raw, state), (*raw, canonical))

    @staticmethod
    def _rememberable(shapes, values):
        return all(isinstance(shape, tuple) for shape in shapes) and _plain(values)

    @staticmethod
    def _add(memory, key, value):
        if len(memory) >= _REMEMBERED:
            memory.clear()
        memory[key] = value


def remembered(tensors):
    """Decorator: the check becomes a :class:`Remembered` over its first ``tensors`` arguments."""
    if tensors not in (1, 2, 3):
        raise ValueError(f"remembered: argument `tensors` got {tensors!r}; expected 1, 2 or 3")
    return functools.partial(Remembered, tensors=tensors)


def _plain(value):
    """Ints, strings, None and tuples of them: values whose equality is their meaning (a tensor hashes
    by identity, and a new tensor may reuse a freed one's id)."""
    if value is None or value.__class__ in (int, str, bool):
        return True
    return value.__class__ is tuple and all(_plain(v) for v in value)



@remembered(2)
def conv1d(x, kernel, strides, padding, data_format, dilation_rate):
    _convolution("conv1d", 1, x, kernel, strides, padding, data_format, dilation_rate)


@remembered(2)
def conv2d(x, kernel, strides, padding, data_format, dilation_rate):
    _convolution("conv2d", 2, x, kernel, strides, padding, data_format, dilation_rate)


@remembered(2)
def conv3d(x, kernel, strides, padding, data_format, dilation_rate):
    _convolution("conv3d", 3, x, kernel, strides, padding, data_format, dilation_rate)


@remembered(3)
def separable_conv1d(x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate):
    _separable("separable_conv1d", 1, x, depthwise_kernel, pointwise_kernel, strides, padding, data_format,
               dilation_rate)


@remembered(3)
def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate):
    _separable("separable_conv2d", 2, x, depthwise_kernel, pointwise_kernel, strides, padding, data_format,
               dilation_rate)


@remembered(2)
def depthwise_conv2d(x, depthwise_kernel, strides, padding, data_format, dilation_rate):
    x_shape, (d_shape,) = _shapes("depthwise_conv2d", 2, x, [("depthwise_kernel", depthwise_kernel)])
    check_strided_dilation("depthwise_conv2d", strides, dilation_rate)
    if x_shape is not None and d_shape is not None:
        _depthwise("depthwise_conv2d", 2, x_shape, d_shape, strides, padding, data_format, dilation_rate)


@remembered(2)
def conv2d_transpose(x, kernel, output_shape, strides, padding, data_format, dilation_rate):
    _transpose("conv2d_transpose", 2, x, kernel, output_shape, strides, padding, data_format, dilation_rate)


@remembered(2)
def conv3d_transpose(x, kernel, output_shape, strides, padding, data_format):
    _transpose("conv3d_transpose", 3, x, kernel, output_shape, strides, padding, data_format, (1, 1, 1))


@remembered(1)
def pool2d(x, pool_size, strides, padding, data_format, pool_mode):
    _pool("pool2d", 2, x, pool_size, strides, padding, data_format)


@remembered(1)
def pool3d(x, pool_size, strides, padding, data_format, pool_mode):
    _pool("pool3d", 3, x, pool_size, strides, padding, data_format)


@remembered(2)
def local_conv1d(inputs, kernel, kernel_size, strides, data_format):
    _local("local_conv1d", 1, inputs, kernel, kernel_size, strides, None, data_format)


@remembered(2)
def local_conv2d(inputs, kernel, kernel_size, strides, output_shape, data_format):
    _local("local_conv2d", 2, inputs, kernel, kernel_size, strides, output_shape, data_format)


# ---------------------------------------------------------------------------------------------------
# output shapes (``shape_rule=`` in :func:`kbackend._dispatch.op`): each takes its op's parameters, after
# the op's check passed, and raises for what it does not decide (see :mod:`.math_rules`)


def _known_shape(value):
    shape = static_shape(value)
    if shape is None:
        raise ValueError("a tensor of unknown rank")
    return tuple(shape)


def swept_shape(x_shape, window, strides, dilation, padding, data_format, channels):
    """The full output shape of a window sweep over ``x_shape``: the batch, ``channels``, and each spatial
    axis at :func:`output_length`."""
    if None in window:
        raise ValueError("a window of unknown size")
    spatial = tuple(output_length(length, w, s, d, padding)
                    for length, w, s, d in zip(spatial_of(x_shape, data_format), window, strides, dilation))
    if data_format == "channels_first":
        return (x_shape[0], channels) + spatial
    return (x_shape[0],) + spatial + (channels,)


def convolution_shape(x, kernel, strides, padding, data_format, dilation_rate):
    """conv1d, conv2d, conv3d: ``kernel`` is ``(spatial..., in, out)``."""
    x_shape, k_shape = _known_shape(x), _known_shape(kernel)
    n = len(strides)
    return swept_shape(x_shape, k_shape[:n], strides, dilation_rate, padding, data_format, k_shape[-1])


def separable_shape(x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate):
    """separable_conv1d / 2d: the depthwise window, the pointwise kernel's output channels."""
    x_shape, d_shape, p_shape = _known_shape(x), _known_shape(depthwise_kernel), _known_shape(pointwise_kernel)
    n = len(strides)
    return swept_shape(x_shape, d_shape[:n], strides, dilation_rate, padding, data_format, p_shape[-1])


def depthwise_shape(x, depthwise_kernel, strides, padding, data_format, dilation_rate):
    """depthwise_conv2d: ``in * multiplier`` output channels."""
    x_shape, d_shape = _known_shape(x), _known_shape(depthwise_kernel)
    channels = d_shape[2] * d_shape[3] if None not in d_shape[2:] else None
    return swept_shape(x_shape, d_shape[:2], strides, dilation_rate, padding, data_format, channels)


def pool_shape(x, pool_size, strides, padding, data_format, pool_mode):
    """pool2d, pool3d: the channels of ``x``."""
    x_shape = _known_shape(x)
    n = len(strides)
    return swept_shape(x_shape, pool_size, strides, (1,) * n, padding, data_format, channels_of(x_shape, data_format))


def transpose_shape(x, kernel, output_shape, *_):
    """conv2d_transpose, conv3d_transpose: ``output_shape`` with the batch of ``x``."""
    return (_known_shape(x)[0],) + tuple(output_shape[1:])
