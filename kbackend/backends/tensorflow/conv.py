"""Convolution, transposed convolution, pooling and local convolution on TensorFlow (``tf.nn`` kernels).

channels_last runs as it is.  channels_first runs natively where TensorFlow has NCHW kernels (GPU); on
CPU, which has none, the input is transposed to channels_last and the result transposed back.
"""

import math

import numpy as np
import tensorflow as tf

from .variables import R, int32s, is_float, tensor

_HAVE_GPU = bool(tf.config.list_physical_devices("GPU"))
_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}
_NO_NCHW = (tf.errors.UnimplementedError, tf.errors.InvalidArgumentError, tf.errors.NotFoundError)


def _spread(values, fmt):
    """Per-spatial-axis ``values`` as the 4/5-entry attribute of a raw op in layout ``fmt``."""
    return (1, 1, *values) if fmt.startswith("NC") else (1, *values, 1)


def _to_last(x):
    rank = x.shape.rank
    return R.Transpose(x=x, perm=int32s((0, *range(2, rank), 1)))


def _to_first(y):
    rank = y.shape.rank
    return R.Transpose(x=y, perm=int32s((0, rank - 1, *range(1, rank - 1))))


def _in_format(compute, x, data_format, n):
    """``compute(x, tf_format)`` in ``data_format``: NCHW natively on GPU, else transposed around NHWC.

    An empty batch runs on one zero sample and keeps none of it: TensorFlow's CPU kernels return their
    input unchanged for an empty batch, whatever the output's shape should be."""
    if x.shape.rank and x.shape[0] == 0:
        one = tf.zeros((1, *x.shape[1:]), x.dtype)
        return _in_format(compute, one, data_format, n)[:0]
    last, first = _FORMATS[n]
    if data_format == "channels_last":
        return compute(x, last)
    if _HAVE_GPU:
        try:
            return compute(x, first)
        except _NO_NCHW:
            pass
    return _to_first(compute(_to_last(x), last))


def _operand(func, x, n):
    """``x`` as a tensor of rank ``n + 2`` in a dtype the kernels take (integers compute in float64)."""
    x = tensor(x)
    if x.shape.rank != n + 2:
        raise ValueError(
            f"{func}: argument `x` got a tensor of shape {tuple(x.shape)}; expected a {n + 2}-D tensor"
        )
    return x if is_float(x.dtype) else R.Cast(x=x, DstT=tf.float64)


def _kernel(func, name, kernel, n, dtype):
    kernel = tensor(kernel)
    if kernel.shape.rank != n + 2:
        raise ValueError(
            f"{func}: argument `{name}` got a tensor of shape {tuple(kernel.shape)}; expected a {n + 2}-D kernel"
        )
    return kernel if kernel.dtype is dtype else R.Cast(x=kernel, DstT=dtype)


def _restore(y, dtype):
    return y if y.dtype is dtype else R.Cast(x=y, DstT=dtype)


def _channels(x, data_format):
    shape = x.shape.as_list()
    return shape[1] if data_format == "channels_first" else shape[-1]


def _spatial(x, data_format):
    shape = x.shape.as_list()
    return tuple(shape[2:]) if data_format == "channels_first" else tuple(shape[1:-1])


def _check_channels(func, name, got, expected):
    if got != expected:
        raise ValueError(
            f"{func}: argument `{name}` got {got} input channels; expected {expected} (the channels of `x`)"
        )


def _check_window(func, x, data_format, window, dilation, padding):
    if padding != "valid":
        return
    spatial = _spatial(x, data_format)
    extent = tuple((w - 1) * d + 1 for w, d in zip(window, dilation))
    if any(length is not None and length < e for length, e in zip(spatial, extent)):
        raise ValueError(
            f"{func}: argument `x` got spatial shape {spatial}; expected at least the dilated window "
            f"{extent} with padding='valid'"
        )


def _check_strided_dilation(func, strides, dilation):
    if any(s > 1 for s in strides) and any(d > 1 for d in dilation):
        raise ValueError(
            f"{func}: argument `dilation_rate` got {dilation}; expected all 1 when strides {strides} exceed 1"
        )


def _convolve(func, x, kernel, strides, padding, data_format, dilation_rate):
    n = len(strides)
    x = _operand(func, x, n)
    kernel = _kernel(func, "kernel", kernel, n, x.dtype)
    _check_strided_dilation(func, strides, dilation_rate)
    window = kernel.shape.as_list()
    _check_channels(func, "kernel", window[n], _channels(x, data_format))
    _check_window(func, x, data_format, window[:n], dilation_rate, padding)
    pad = "SAME" if padding == "same" else "VALID"

    def compute(x, fmt):
        if any(d > 1 for d in dilation_rate):  # by space-to-batch: the CPU kernels' gradients lack dilation
            return tf.nn.convolution(x, kernel, strides, pad, fmt, dilation_rate)
        if n == 2:
            return R.Conv2D(input=x, filter=kernel, strides=_spread(strides, fmt), padding=pad, data_format=fmt)
        if n == 1:  # as a 2-D convolution over a rows axis of size 1
            fmt = "NCHW" if fmt == "NCW" else "NHWC"
            rows = 2 if fmt == "NCHW" else 1
            y = R.Conv2D(input=R.ExpandDims(input=x, axis=rows), filter=R.ExpandDims(input=kernel, axis=0),
                         strides=_spread((1, *strides), fmt), padding=pad, data_format=fmt)
            return R.Squeeze(input=y, axis=[rows])
        return R.Conv3D(input=x, filter=kernel, strides=_spread(strides, fmt), padding=pad, data_format=fmt)

    return _in_format(compute, x, data_format, n)


def conv1d(x, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    dtype = tensor(x).dtype
    if padding == "causal":
        if data_format != "channels_last":
            raise ValueError(
                "conv1d: argument `padding` got 'causal'; expected 'valid' or 'same' with "
                "data_format='channels_first' (causal padding needs channels_last)"
            )
        left = dilation_rate[0] * (tensor(kernel).shape[0] - 1)
        x = tf.pad(x, ((0, 0), (left, 0), (0, 0)))
        padding = "valid"
    y = _convolve("conv1d", x, kernel, strides, padding, data_format, dilation_rate)
    return _restore(y, dtype)


def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1)):
    x, kernel = tensor(x), tensor(kernel)
    if data_format == "channels_last" and dilation_rate == (1, 1) and x.dtype is kernel.dtype and x.shape[0] != 0:
        # the common case, checked inline: it costs less than the generic path's helpers
        x_shape, k_shape = x.shape.as_list(), kernel.shape.as_list()
        if (len(x_shape) == 4 and len(k_shape) == 4 and k_shape[2] == x_shape[3] and is_float(x.dtype)
                and (padding == "same" or x_shape[1] >= k_shape[0] and x_shape[2] >= k_shape[1])):
            return R.Conv2D(input=x, filter=kernel, strides=(1, *strides, 1),
                            padding="SAME" if padding == "same" else "VALID")
    y = _convolve("conv2d", x, kernel, strides, padding, data_format, dilation_rate)
    return _restore(y, x.dtype)


def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", data_format=None, dilation_rate=(1, 1, 1)):
    x = tensor(x)
    y = _convolve("conv3d", x, kernel, strides, padding, data_format, dilation_rate)
    return _restore(y, x.dtype)


def _same_pads(length, extent, stride):
    out = -(-length // stride)
    total = max((out - 1) * stride + extent - length, 0)
    return total // 2, total - total // 2


def _depthwise_nhwc(x, depthwise_kernel, strides, padding, dilation_rate):
    """Depthwise convolution of NHWC ``x``; unequal strides (no tf kernel) run at stride 1 on the
    explicitly padded input, then subsample."""
    if strides[0] == strides[1]:
        return tf.nn.depthwise_conv2d(x, depthwise_kernel, (1, *strides, 1), padding.upper(),
                                      "NHWC", dilation_rate)
    if padding == "same":
        pads = [_same_pads(length, (k - 1) * d + 1, s) for length, k, d, s in
                zip(x.shape[1:3], depthwise_kernel.shape[:2], dilation_rate, strides)]
        x = tf.pad(x, ((0, 0), *pads, (0, 0)))
    y = tf.nn.depthwise_conv2d(x, depthwise_kernel, (1, 1, 1, 1), "VALID", "NHWC", dilation_rate)
    return y[:, :: strides[0], :: strides[1], :]


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    x = tensor(x)
    dtype = x.dtype
    x = _operand("depthwise_conv2d", x, 2)
    kernel = _kernel("depthwise_conv2d", "depthwise_kernel", depthwise_kernel, 2, x.dtype)
    _check_strided_dilation("depthwise_conv2d", strides, dilation_rate)
    _check_channels("depthwise_conv2d", "depthwise_kernel", kernel.shape[2], _channels(x, data_format))
    _check_window("depthwise_conv2d", x, data_format, kernel.shape[:2], dilation_rate, padding)

    def compute(x, fmt):
        if fmt == "NHWC":
            return _depthwise_nhwc(x, kernel, strides, padding, dilation_rate)
        return tf.nn.depthwise_conv2d(x, kernel, (1, 1, *strides), padding.upper(), fmt, dilation_rate)

    return _restore(_in_format(compute, x, data_format, 2), dtype)


def _separable(func, x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate):
    x = tensor(x)
    dtype = x.dtype
    x = _operand(func, x, 2)
    depthwise = _kernel(func, "depthwise_kernel", depthwise_kernel, 2, x.dtype)
    pointwise = _kernel(func, "pointwise_kernel", pointwise_kernel, 2, x.dtype)
    _check_strided_dilation(func, strides, dilation_rate)
    _check_channels(func, "depthwise_kernel", depthwise.shape[2], _channels(x, data_format))
    _check_window(func, x, data_format, depthwise.shape[:2], dilation_rate, padding)
    if tuple(pointwise.shape[:2]) != (1, 1):
        raise ValueError(
            f"{func}: argument `pointwise_kernel` got shape {tuple(pointwise.shape)}; expected "
            f"{(1, 1) + tuple(pointwise.shape[2:])}"
        )
    _check_channels(func, "pointwise_kernel", pointwise.shape[2], depthwise.shape[2] * depthwise.shape[3])

    def compute(x, fmt):
        if fmt == "NHWC":
            if strides[0] == strides[1]:
                return tf.nn.separable_conv2d(x, depthwise, pointwise, (1, *strides, 1), padding.upper(),
                                              fmt, dilation_rate)
            y = _depthwise_nhwc(x, depthwise, strides, padding, dilation_rate)
            return tf.nn.conv2d(y, pointwise, 1, "VALID", fmt)
        return tf.nn.separable_conv2d(x, depthwise, pointwise, (1, 1, *strides), padding.upper(), fmt,
                                      dilation_rate)

    return _restore(_in_format(compute, x, data_format, 2), dtype)


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    return _separable("separable_conv2d", x, depthwise_kernel, pointwise_kernel, strides, padding,
                      data_format, dilation_rate)


def separable_conv1d(x, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                     dilation_rate=1):
    x = tensor(x)
    if x.shape.rank != 3:
        raise ValueError(
            f"separable_conv1d: argument `x` got a tensor of shape {tuple(x.shape)}; expected a 3-D tensor"
        )
    # The 1-D op runs as the 2-D one over a dummy rows axis of size 1.
    row_axis = 2 if data_format == "channels_first" else 1
    y = _separable(
        "separable_conv1d", tf.expand_dims(x, row_axis), tf.expand_dims(depthwise_kernel, 0),
        tf.expand_dims(pointwise_kernel, 0), (1, strides[0]), padding, data_format, (1, dilation_rate[0]),
    )
    return tf.squeeze(y, [row_axis])


def _transpose_operands(func, x, kernel, output_shape, strides, padding, dilation_rate, data_format, n):
    x = tensor(x)
    dtype = x.dtype
    x = _operand(func, x, n)
    kernel = _kernel(func, "kernel", kernel, n, x.dtype)
    _check_channels(func, "kernel", kernel.shape[n + 1], _channels(x, data_format))
    if data_format == "channels_first":
        batch, channels, spatial = output_shape[0], output_shape[1], tuple(output_shape[2:])
    else:
        batch, channels, spatial = output_shape[0], output_shape[-1], tuple(output_shape[1:-1])
    if channels != kernel.shape[n]:
        raise ValueError(
            f"{func}: argument `output_shape` got {channels} channels; expected {kernel.shape[n]} "
            "(the output channels of `kernel`)"
        )
    in_spatial = _spatial(x, data_format)
    for length, out, w, stride, d in zip(in_spatial, spatial, kernel.shape[:n], strides, dilation_rate):
        extent = (w - 1) * d + 1
        if padding == "same":
            forward = -(-out // stride)
        else:
            forward = (out - extent) // stride + 1 if out >= extent else 0
        if length is not None and forward != length:
            raise ValueError(
                f"{func}: argument `output_shape` got spatial shape {spatial}; expected one whose "
                f"{padding!r} convolution has the spatial shape {in_spatial} of `x`"
            )
    if batch is None:
        batch = tf.shape(x)[0]
    elif x.shape[0] is not None and batch != x.shape[0]:
        raise ValueError(
            f"{func}: argument `output_shape` got batch size {batch}; expected None or {x.shape[0]} "
            "(the batch of `x`)"
        )
    return x, kernel, dtype, batch, channels, spatial


def _output_shape(fmt, batch, channels, spatial):
    if fmt.startswith("NC"):
        return tf.stack([batch, channels, *spatial]) if tf.is_tensor(batch) else (batch, channels, *spatial)
    return tf.stack([batch, *spatial, channels]) if tf.is_tensor(batch) else (batch, *spatial, channels)


def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    if dilation_rate[0] != dilation_rate[1]:
        raise ValueError(
            f"conv2d_transpose: argument `dilation_rate` got {dilation_rate}; expected two equal rates"
        )
    _check_strided_dilation("conv2d_transpose", strides, dilation_rate)
    x, kernel, dtype, batch, channels, spatial = _transpose_operands(
        "conv2d_transpose", x, kernel, output_shape, strides, padding, dilation_rate, data_format, 2)

    def compute(x, fmt):
        shape = _output_shape(fmt, batch, channels, spatial)
        if dilation_rate[0] > 1 and fmt == "NHWC":
            return tf.nn.atrous_conv2d_transpose(x, kernel, shape, dilation_rate[0], padding.upper())
        return tf.nn.conv2d_transpose(x, kernel, shape, strides, padding.upper(), fmt, dilation_rate)

    return _restore(_in_format(compute, x, data_format, 2), dtype)


def conv3d_transpose(x, kernel, output_shape, strides=(1, 1, 1), padding="valid", data_format=None):
    x, kernel, dtype, batch, channels, spatial = _transpose_operands(
        "conv3d_transpose", x, kernel, output_shape, strides, padding, (1, 1, 1), data_format, 3)

    def compute(x, fmt):
        shape = _output_shape(fmt, batch, channels, spatial)
        return tf.nn.conv3d_transpose(x, kernel, shape, strides, padding.upper(), fmt)

    return _restore(_in_format(compute, x, data_format, 3), dtype)


_POOLS_2D = {
    "max": lambda x, size, strides, padding, fmt: R.MaxPool(
        input=x, ksize=_spread(size, fmt), strides=_spread(strides, fmt), padding=padding, data_format=fmt),
    "avg": lambda x, size, strides, padding, fmt: R.AvgPool(
        value=x, ksize=_spread(size, fmt), strides=_spread(strides, fmt), padding=padding, data_format=fmt),
}
_POOLS_3D = {
    "max": lambda x, size, strides, padding, fmt: R.MaxPool3D(
        input=x, ksize=_spread(size, fmt), strides=_spread(strides, fmt), padding=padding, data_format=fmt),
    "avg": lambda x, size, strides, padding, fmt: R.AvgPool3D(
        input=x, ksize=_spread(size, fmt), strides=_spread(strides, fmt), padding=padding, data_format=fmt),
}


def pool2d(x, pool_size, strides=(1, 1), padding="valid", data_format=None, pool_mode="max"):
    x = tensor(x)
    dtype = x.dtype
    x = _operand("pool2d", x, 2)
    _check_window("pool2d", x, data_format, pool_size, (1, 1), padding)
    pool = _POOLS_2D[pool_mode]

    def compute(x, fmt):
        return pool(x, pool_size, strides, padding.upper(), fmt)

    return _restore(_in_format(compute, x, data_format, 2), dtype)


def _separable_pool3d(pool, x, pool_size, strides, padding):
    """A 3-D max/average pool of NDHWC ``x`` as a 2-D pool over (H, W), then one over D.

    Both pools are separable per axis (also with 'same' padding, whose average counts real elements
    only), so this equals the 3-D kernel, which TensorFlow's CPU build lacks for float16 and float64.
    """
    batch, depth, height, width, channels = x.shape
    planes = pool(tf.reshape(x, (-1, height, width, channels)), pool_size[1:], strides[1:], padding, "NHWC")
    out_h, out_w = planes.shape[1:3]
    columns = tf.reshape(planes, (-1, depth, out_h * out_w, channels))
    y = pool(columns, (pool_size[0], 1), (strides[0], 1), padding, "NHWC")
    return tf.reshape(y, (-1, y.shape[1], out_h, out_w, channels))


def pool3d(x, pool_size, strides=(1, 1, 1), padding="valid", data_format=None, pool_mode="max"):
    x = tensor(x)
    dtype = x.dtype
    x = _operand("pool3d", x, 3)
    _check_window("pool3d", x, data_format, pool_size, (1, 1, 1), padding)
    pad = padding.upper()
    if x.dtype.name in ("float32", "bfloat16"):
        pool = _POOLS_3D[pool_mode]

        def compute(x, fmt):
            return pool(x, pool_size, strides, pad, fmt)

        return _restore(_in_format(compute, x, data_format, 3), dtype)
    y = _separable_pool3d(_POOLS_2D[pool_mode], x if data_format == "channels_last" else _to_last(x),
                          pool_size, strides, pad)
    return _restore(y if data_format == "channels_last" else _to_first(y), dtype)


def _local(func, inputs, kernel, kernel_size, strides, output_shape, data_format):
    """Unshared-weight convolution: the window at each output position, flattened in the layout of
    ``data_format``, times that position's slice of ``kernel`` ``(positions, features, filters)``."""
    n = len(kernel_size)
    x = tensor(inputs)
    dtype = x.dtype
    x = _operand(func, x, n)
    kernel = _kernel(func, "kernel", kernel, 1, x.dtype)
    spatial, channels = _spatial(x, data_format), _channels(x, data_format)
    positions = math.prod(output_shape)
    features = math.prod(kernel_size) * channels
    if tuple(kernel.shape[:2]) != (positions, features):
        raise ValueError(
            f"{func}: argument `kernel` got shape {tuple(kernel.shape)}; expected ({positions}, {features}, "
            f"filters) for output shape {tuple(output_shape)}, kernel size {tuple(kernel_size)} and "
            f"{channels} channels"
        )
    for length, out, k, s in zip(spatial, output_shape, kernel_size, strides):
        if (out - 1) * s + k > length:
            raise ValueError(
                f"{func}: argument `output_shape` got {tuple(output_shape)}; expected windows of size "
                f"{tuple(kernel_size)} and strides {tuple(strides)} to fit the spatial shape {spatial}"
            )
    if data_format == "channels_first":
        x = _to_last(x)
    for d, (out, k, s) in enumerate(zip(output_shape, kernel_size, strides)):
        taps = np.arange(out)[:, None] * s + np.arange(k)[None, :]
        x = tf.gather(x, taps, axis=1 + 2 * d)  # (batch, o1, k1, ..., od, kd, rest..., channels)
    outs = [1 + 2 * d for d in range(n)]
    windows = [2 + 2 * d for d in range(n)]
    last = 2 * n + 1
    order = windows + [last] if data_format == "channels_last" else [last] + windows
    patches = tf.reshape(tf.transpose(x, outs + [0] + order), (positions, -1, features))
    y = tf.matmul(patches, kernel)  # (positions, batch, filters)
    y = tf.reshape(y, (*output_shape, -1, kernel.shape[-1]))
    if data_format == "channels_first":
        y = tf.transpose(y, (n, n + 1, *range(n)))
    else:
        y = tf.transpose(y, (n, *range(n), n + 1))
    return _restore(y, dtype)


def local_conv1d(inputs, kernel, kernel_size, strides, data_format=None):
    return _local("local_conv1d", inputs, kernel, kernel_size, strides, (tensor(kernel).shape[0],),
                  data_format)


def local_conv2d(inputs, kernel, kernel_size, strides, output_shape, data_format=None):
    return _local("local_conv2d", inputs, kernel, kernel_size, strides, output_shape, data_format)
