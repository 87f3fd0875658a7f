"""Convolutions and pooling on PyTensor, composed from strided slices.

PyTensor 3 no longer has Theano's abstract convolution ops nor ``signal.pool``.  A convolution here is
the reference's algorithm written in PyTensor: one strided slice of the (padded) input per kernel tap,
stacked and contracted with the kernel by one ``tensordot``, so ``pytensor.grad`` differentiates it
and the C backend compiles it.  A transposed convolution is the gradient of that convolution with
respect to its input (``pytensor.grad`` with ``known_grads``), which is what it is by definition.
Both data formats move channels last first.  Shapes must be static (they are, eagerly; traced, the
spatial dims of a placeholder are known in Keras models); otherwise the op runs its reference
(:mod:`.reference_op`).  The unshared-weight ``local_conv1d/2d`` run their reference.
"""

import itertools
import math

import numpy as np

import pytensor
import pytensor.tensor as pt

from ...ops.conv_rules import effective_size, padding_amounts
from .reference_op import reference_op
from .arrays import as_type, to_pt


def _work(x):
    """Half precision is computed in float32 (as in the reference); integers in float64."""
    if x.dtype == "float16":
        return as_type(x, "float32")
    if not x.dtype.startswith("float"):
        return as_type(x, "float64")
    return x


def _channels_last(x, data_format):
    if data_format == "channels_first":
        return x.dimshuffle([0] + list(range(2, x.ndim)) + [1])
    return x


def _from_channels_last(y, data_format, dtype):
    if data_format == "channels_first":
        y = y.dimshuffle([0, y.ndim - 1] + list(range(1, y.ndim - 1)))
    return as_type(y, dtype)


def _static(*tensors):
    return all(None not in t.type.shape[1:] for t in tensors)


def _padded(x, pads, value):
    """``x`` (channels last) padded on its spatial axes by ``pads`` [(before, after)…] with ``value``."""
    if all(p == (0, 0) for p in pads):
        return x
    shape = [x.shape[0]] + [d + b + a for d, (b, a) in zip(x.type.shape[1:-1], pads)] + [x.shape[-1]]
    index = (slice(None),) + tuple(slice(b, b + d) for d, (b, _) in zip(x.type.shape[1:-1], pads)) + (slice(None),)
    return pt.set_subtensor(pt.full(shape, value, dtype=x.dtype)[index], x)


def _taps(x, window, strides, dilation, padding, pad_value=0.0):
    """The strided slices of channels-last ``x``, one per tap of ``window``: each (batch, out..., channels)."""
    pads = padding_amounts(x.type.shape[1:-1], window, strides, dilation, padding)
    spatial = [length + b + a for length, (b, a) in zip(x.type.shape[1:-1], pads)]
    x = _padded(x, pads, pad_value)
    extent = [effective_size(w, d) for w, d in zip(window, dilation)]
    out = [(length - e) // s + 1 for length, e, s in zip(spatial, extent, strides)]
    taps = []
    for tap in itertools.product(*[range(w) for w in window]):
        index = (slice(None),) + tuple(slice(t * d, t * d + (o - 1) * s + 1, s)
                                       for t, d, o, s in zip(tap, dilation, out, strides)) + (slice(None),)
        taps.append(x[index])
    return taps


def _convolve(x, kernel, strides, padding, dilation):
    """Cross-correlation of channels-last ``x`` with ``kernel`` (window..., in, out)."""
    n = kernel.ndim - 2
    window = kernel.type.shape[:n]
    patches = pt.stack(_taps(x, window, strides, dilation, padding), axis=-2)  # (batch, out..., taps, in)
    weights = kernel.reshape((math.prod(window), kernel.type.shape[n], kernel.type.shape[n + 1]))
    return pt.tensordot(patches, weights, axes=[[n + 1, n + 2], [0, 1]])


def _depthwise(x, kernel, strides, padding, dilation):
    n = kernel.ndim - 2
    window, channels, multiplier = kernel.type.shape[:n], kernel.type.shape[n], kernel.type.shape[n + 1]
    patches = pt.stack(_taps(x, window, strides, dilation, padding), axis=-1)  # (batch, out..., in, taps)
    weights = kernel.reshape((math.prod(window), channels, multiplier)).dimshuffle(1, 0, 2)  # (in, taps, m)
    y = (patches[..., None] * weights).sum(axis=-2)  # (batch, out..., in, m)
    return y.reshape([y.shape[i] for i in range(n + 1)] + [channels * multiplier], ndim=n + 2)


def _pointwise(y, kernel):
    n = kernel.ndim - 2
    return pt.tensordot(y, kernel.reshape(kernel.type.shape[n:]), axes=[[y.ndim - 1], [0]])


def _native(name, compute):
    """The op ``name``: ``compute`` when the shapes it needs are static, else its reference."""
    fallback = reference_op(name)

    def run(x, *args):
        tensors = [to_pt(x)] + [to_pt(a) for a in args[:compute.kernels]]
        if not all(None not in t.type.shape for t in tensors[1:]) or not _static(tensors[0]):
            return fallback(x, *args)
        return compute(*tensors, *args[compute.kernels:])

    run.__name__ = name
    return run


def _kernels(count):
    def mark(fn):
        fn.kernels = count
        return fn

    return mark


@_kernels(1)
def _conv_nd(x, kernel, strides, padding="valid", data_format=None, dilation_rate=None):
    dtype = x.dtype
    x = _channels_last(_work(x), data_format)
    kernel = as_type(kernel, x.dtype)
    dilation_rate = dilation_rate or (1,) * (kernel.ndim - 2)
    return _from_channels_last(_convolve(x, kernel, strides, padding, dilation_rate), data_format, dtype)


@_kernels(1)
def _depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                      dilation_rate=(1, 1)):
    dtype = x.dtype
    x = _channels_last(_work(x), data_format)
    y = _depthwise(x, as_type(depthwise_kernel, x.dtype), strides, padding, dilation_rate)
    return _from_channels_last(y, data_format, dtype)


@_kernels(2)
def _separable(x, depthwise_kernel, pointwise_kernel, strides, padding="valid", data_format=None,
               dilation_rate=None):
    dtype = x.dtype
    x = _channels_last(_work(x), data_format)
    y = _depthwise(x, as_type(depthwise_kernel, x.dtype), strides, padding, dilation_rate)
    return _from_channels_last(_pointwise(y, as_type(pointwise_kernel, x.dtype)), data_format, dtype)


@_kernels(1)
def _transpose(x, kernel, output_shape, strides, padding="valid", data_format=None, dilation_rate=None):
    """The input gradient of the 'padding' convolution that maps ``output_shape`` to ``x``'s shape."""
    dtype = x.dtype
    x = _channels_last(_work(x), data_format)
    n = kernel.ndim - 2
    dilation_rate = dilation_rate or (1,) * n
    spatial = tuple(output_shape[2:]) if data_format == "channels_first" else tuple(output_shape[1:-1])
    forward_kernel = as_type(kernel, x.dtype)  # (window..., out, in): the forward convolution maps out → in
    stand_in = pt.zeros([x.shape[0]] + list(spatial) + [kernel.type.shape[n]], dtype=x.dtype)
    image = pt.specify_shape(stand_in, (None,) + spatial + (kernel.type.shape[n],))
    forward = _convolve(image, forward_kernel, strides, padding, dilation_rate)
    y = pytensor.grad(None, wrt=image, known_grads={forward: x})
    return _from_channels_last(y, data_format, dtype)


@_kernels(0)
def _pool(x, pool_size, strides, padding="valid", data_format=None, pool_mode="max"):
    dtype = x.dtype
    x = _channels_last(_work(x), data_format)
    n = len(pool_size)
    ones = (1,) * n
    if pool_mode == "max":
        y = pt.max(pt.stack(_taps(x, pool_size, strides, ones, padding, pad_value=-np.inf)), axis=0)
    else:
        total = pt.sum(pt.stack(_taps(x, pool_size, strides, ones, padding)), axis=0)
        if padding == "valid":
            y = total / math.prod(pool_size)
        else:  # 'same': the padded elements are left out of the count (a constant, from the shapes)
            spatial = x.type.shape[1:-1]
            count = np.zeros([1] + [-(-length // s) for length, s in zip(spatial, strides)] + [1])
            pads = padding_amounts(spatial, pool_size, strides, ones, padding)
            padded = np.pad(np.ones([1] + list(spatial) + [1]), [(0, 0)] + pads + [(0, 0)])
            for tap in itertools.product(*[range(w) for w in pool_size]):
                index = (slice(None),) + tuple(slice(t, t + (o - 1) * s + 1, s) for t, o, s in
                                               zip(tap, count.shape[1:-1], strides)) + (slice(None),)
                count = count + padded[index]
            y = total / pt.constant(count.astype(x.dtype))
    return _from_channels_last(y, data_format, dtype)


conv1d = _native("conv1d", _conv_nd)
conv2d = _native("conv2d", _conv_nd)
conv3d = _native("conv3d", _conv_nd)
depthwise_conv2d = _native("depthwise_conv2d", _depthwise_conv2d)
separable_conv1d = _native("separable_conv1d", _separable)
separable_conv2d = _native("separable_conv2d", _separable)
conv2d_transpose = _native("conv2d_transpose", _transpose)
conv3d_transpose = _native("conv3d_transpose", _transpose)
pool2d = _native("pool2d", _pool)
pool3d = _native("pool3d", _pool)
