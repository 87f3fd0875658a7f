"""Convolution, transposed convolution, pooling and local convolution on TensorFlow (``tf.nn`` kernels).

channels_last runs as it is.  channels_first runs natively where TensorFlow has NCHW kernels (GPU); on
CPU, which has none, the input is transposed to channels_last and the result transposed back.  The op's
check (:mod:`kbackend.ops.conv_rules`) has run before any function here.
"""

import math

import numpy as np
import tensorflow as tf

from ...ops.conv_rules import padding_amounts, split_output_shape
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


def _operand(x):
    """``x`` as a tensor in a dtype the kernels take (integers compute in float64)."""
    x = tensor(x)
    return x if is_float(x.dtype) else R.Cast(x=x, DstT=tf.float64)


def _kernel(kernel, dtype):
    kernel = tensor(kernel)
    return kernel if kernel.dtype is dtype else R.Cast(x=kernel, DstT=dtype)


def _restore(y, dtype):
    return y if y.dtype is dtype else R.Cast(x=y, DstT=dtype)


def _convolve(x, kernel, strides, padding, data_format, dilation_rate):
    n = len(strides)
    x = _operand(x)
    kernel = _kernel(kernel, x.dtype)
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


def conv1d(x, kernel, strides, padding, data_format, dilation_rate):
    x = tensor(x)
    dtype = x.dtype
    if padding == "causal":  # TensorFlow has no causal padding: pad the steps, then a 'valid' convolution
        (left, _), = padding_amounts((None,), tensor(kernel).shape[:1], strides, dilation_rate, padding)
        x = tf.pad(x, ((0, 0), (left, 0), (0, 0)))
        padding = "valid"
    return _restore(_convolve(x, kernel, strides, padding, data_format, dilation_rate), dtype)


def conv2d(x, kernel, strides, padding, data_format, dilation_rate):
    x, kernel = tensor(x), tensor(kernel)
    if (data_format == "channels_last" and dilation_rate == (1, 1) and x.dtype is kernel.dtype and is_float(x.dtype)
            and x.shape[0] != 0):  # the common case: straight to the kernel, no helper's cost
        return R.Conv2D(input=x, filter=kernel, strides=(1, *strides, 1),
                        padding="SAME" if padding == "same" else "VALID")
    return _restore(_convolve(x, kernel, strides, padding, data_format, dilation_rate), x.dtype)


def conv3d(x, kernel, strides, padding, data_format, dilation_rate):
    x = tensor(x)
    return _restore(_convolve(x, kernel, strides, padding, data_format, dilation_rate), x.dtype)


def _depthwise_nhwc(x, depthwise_kernel, strides, padding, dilation_rate):
    """Depthwise convolution of NHWC ``x``; unequal strides (no tf kernel) run at stride 1 on the
    explicitly padded input, then subsample."""
    if strides[0] == strides[1]:
        return tf.nn.depthwise_conv2d(x, depthwise_kernel, (1, *strides, 1), padding.upper(),
                                      "NHWC", dilation_rate)
    if padding == "same":
        pads = padding_amounts(x.shape[1:3], depthwise_kernel.shape[:2], strides, dilation_rate, padding)
        x = tf.pad(x, ((0, 0), *pads, (0, 0)))
    y = tf.nn.depthwise_conv2d(x, depthwise_kernel, (1, 1, 1, 1), "VALID", "NHWC", dilation_rate)
    return y[:, :: strides[0], :: strides[1], :]


def depthwise_conv2d(x, depthwise_kernel, strides, padding, data_format, dilation_rate):
    x = tensor(x)
    dtype = x.dtype
    x = _operand(x)
    kernel = _kernel(depthwise_kernel, x.dtype)

    def compute(x, fmt):
        if fmt == "NHWC":
            return _depthwise_nhwc(x, kernel, strides, padding, dilation_rate)
        return tf.nn.depthwise_conv2d(x, kernel, (1, 1, *strides), padding.upper(), fmt, dilation_rate)

    return _restore(_in_format(compute, x, data_format, 2), dtype)


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate):
    x = tensor(x)
    dtype = x.dtype
    x = _operand(x)
    depthwise = _kernel(depthwise_kernel, x.dtype)
    pointwise = _kernel(pointwise_kernel, x.dtype)

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


def separable_conv1d(x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate):
    # TensorFlow has no 1-D kernel: the 2-D one over a dummy rows axis of size 1.
    row_axis = 2 if data_format == "channels_first" else 1
    y = separable_conv2d(
        tf.expand_dims(tensor(x), row_axis), tf.expand_dims(depthwise_kernel, 0),
        tf.expand_dims(pointwise_kernel, 0), (1, strides[0]), padding, data_format, (1, dilation_rate[0]),
    )
    return tf.squeeze(y, [row_axis])


def _transpose_operands(x, kernel, output_shape, data_format):
    x = tensor(x)
    dtype = x.dtype
    x = _operand(x)
    kernel = _kernel(kernel, x.dtype)
    batch, channels, spatial = split_output_shape(output_shape, data_format)
    if batch is None:
        batch = tf.shape(x)[0]
    return x, kernel, dtype, batch, channels, spatial


def _output_shape(fmt, batch, channels, spatial):
    if fmt.startswith("NC"):
        return tf.stack([batch, channels, *spatial]) if tf.is_tensor(batch) else (batch, channels, *spatial)
    return tf.stack([batch, *spatial, channels]) if tf.is_tensor(batch) else (batch, *spatial, channels)


def conv2d_transpose(x, kernel, output_shape, strides, padding, data_format, dilation_rate):
    x, kernel, dtype, batch, channels, spatial = _transpose_operands(x, kernel, output_shape, data_format)

    def compute(x, fmt):
        shape = _output_shape(fmt, batch, channels, spatial)
        if dilation_rate[0] > 1 and fmt == "NHWC":
            return tf.nn.atrous_conv2d_transpose(x, kernel, shape, dilation_rate[0], padding.upper())
        return tf.nn.conv2d_transpose(x, kernel, shape, strides, padding.upper(), fmt, dilation_rate)

    return _restore(_in_format(compute, x, data_format, 2), dtype)


def conv3d_transpose(x, kernel, output_shape, strides, padding, data_format):
    x, kernel, dtype, batch, channels, spatial = _transpose_operands(x, kernel, output_shape, data_format)

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


def pool2d(x, pool_size, strides, padding, data_format, pool_mode):
    x = tensor(x)
    dtype = x.dtype
    x = _operand(x)
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


def pool3d(x, pool_size, strides, padding, data_format, pool_mode):
    x = tensor(x)
    dtype = x.dtype
    x = _operand(x)
    pad = padding.upper()
    if x.dtype.name in ("float32", "bfloat16"):
        pool = _POOLS_3D[pool_mode]

        def compute(x, fmt):
            return pool(x, pool_size, strides, pad, fmt)

        return _restore(_in_format(compute, x, data_format, 3), dtype)
    y = _separable_pool3d(_POOLS_2D[pool_mode], x if data_format == "channels_last" else _to_last(x),
                          pool_size, strides, pad)
    return _restore(y if data_format == "channels_last" else _to_first(y), dtype)


def _local(inputs, kernel, kernel_size, strides, output_shape, data_format):
    """Unshared-weight convolution: the window at each output position, flattened in the layout of
    ``data_format``, times that position's slice of ``kernel`` ``(positions, features, filters)``."""
    n = len(kernel_size)
    x = tensor(inputs)
    dtype = x.dtype
    x = _operand(x)
    kernel = _kernel(kernel, x.dtype)
    positions = math.prod(output_shape)
    if data_format == "channels_first":
        x = _to_last(x)
    for d, (out, k, s) in enumerate(zip(output_shape, kernel_size, strides)):
        taps = np.arange(out)[:, None] * s + np.arange(k)[None, :]
        x = tf.gather(x, taps, axis=1 + 2 * d)  # (batch, o1, k1, ..., od, kd, rest..., channels)
    outs = [1 + 2 * d for d in range(n)]
    windows = [2 + 2 * d for d in range(n)]
    last = 2 * n + 1
    order = windows + [last] if data_format == "channels_last" else [last] + windows
    patches = tf.reshape(tf.transpose(x, outs + [0] + order), (positions, -1, kernel.shape[1]))
    y = tf.matmul(patches, kernel)  # (positions, batch, filters)
    y = tf.reshape(y, (*output_shape, -1, kernel.shape[-1]))
    if data_format == "channels_first":
        y = tf.transpose(y, (n, n + 1, *range(n)))
    else:
        y = tf.transpose(y, (n, *range(n), n + 1))
    return _restore(y, dtype)


def local_conv1d(inputs, kernel, kernel_size, strides, data_format):
    return _local(inputs, kernel, kernel_size, strides, (tensor(kernel).shape[0],), data_format)


local_conv2d = _local
