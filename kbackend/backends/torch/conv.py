"""Convolution, transposed convolution, pooling and local convolution on torch.nn.functional.

torch computes channels-first ``(batch, channels, spatial...)``.  A channels_last input is handed over as
a permuted view, which is exactly torch's channels_last memory format, so no data moves; the result is
permuted back the same way.  Keras kernels ``(spatial..., in, out)`` become torch weights
``(out, in, spatial...)`` by a permuted view too.  TensorFlow's 'same' padding is passed to the kernel
when it is symmetric; only an odd total (the extra element goes after) pads the input explicitly.
"""

import math

import torch
import torch.nn.functional as F

from ...ops.convolution import check_channels, check_strided_dilation, effective_size, same_padding
from ...ops.convolution import split_output_shape
from .variables import Tensor, to_tensor

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAX_POOL = {2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {2: F.avg_pool2d, 3: F.avg_pool3d}
_HALVES = (torch.float16, torch.bfloat16)


def _prepare(func, x, kernels, n, data_format):
    """``x`` as a channels-first view in its working dtype, the kernels in that dtype, and the output
    dtype.  Integer and bool inputs work in float64, as in the reference."""
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if x.dim() != n + 2:
        raise ValueError(
            f"{func}: argument `x` got a tensor of shape {tuple(x.shape)}; expected a {n + 2}-D tensor"
        )
    dtype = x.dtype
    if not x.is_floating_point():
        x = x.to(torch.float64)
    weights = {}
    for name, kernel in kernels.items():
        if kernel.__class__ is not Tensor:
            kernel = to_tensor(kernel, x.device)
        if kernel.dim() != n + 2:
            raise ValueError(
                f"{func}: argument `{name}` got a tensor of shape {tuple(kernel.shape)}; "
                f"expected a {n + 2}-D kernel"
            )
        weights[name] = kernel if kernel.dtype is x.dtype else kernel.to(x.dtype)
    if data_format == "channels_last":
        x = x.movedim(-1, 1)
    return x, weights, dtype


def _finish(y, data_format, dtype):
    if y.dtype is not dtype:
        y = y.to(dtype)
    return y.movedim(1, -1) if data_format == "channels_last" else y


def _padding(func, spatial, window, strides, dilation, padding):
    """Per-axis (before, after) padding; checks that a 'valid' window fits."""
    extent = [effective_size(w, d) for w, d in zip(window, dilation)]
    if padding == "same":
        return [same_padding(length, e, s) for length, e, s in zip(spatial, extent, strides)]
    if any(length < e for length, e in zip(spatial, extent)):
        raise ValueError(
            f"{func}: argument `x` got spatial shape {tuple(spatial)}; expected at least the dilated window "
            f"{tuple(extent)} with padding='valid'"
        )
    return [(0, 0)] * len(spatial)


def _split_padding(x, pads, value=0.0):
    """Symmetric padding for the kernel; an asymmetric one is applied to ``x`` here instead."""
    if all(before == after for before, after in pads):
        return x, [before for before, _ in pads]
    flat = []
    for before, after in reversed(pads):
        flat += [before, after]
    return F.pad(x, flat, value=value), [0] * len(pads)


def _convolve(func, x, weight, window, strides, padding, dilation, groups=1):
    """Cross-correlation of channels-first ``x`` with a torch ``weight``; 'same' padded as TF does."""
    pads = _padding(func, x.shape[2:], window, strides, dilation, padding)
    x, symmetric = _split_padding(x, pads)
    return _CONV[len(window)](x, weight, None, strides, symmetric, dilation, groups)


def _weight(kernel):
    """Keras ``(spatial..., in, out)`` → torch ``(out, in, spatial...)``, a view."""
    n = kernel.dim() - 2
    return kernel.permute(n + 1, n, *range(n))


def _depthwise(func, x, kernel, strides, padding, dilation):
    n = kernel.dim() - 2
    channels, multiplier = kernel.shape[n], kernel.shape[n + 1]
    check_channels(func, "depthwise_kernel", channels, x.shape[1])
    weight = kernel.reshape(tuple(kernel.shape[:n]) + (channels * multiplier,)).movedim(-1, 0).unsqueeze(1)
    return _convolve(func, x, weight, tuple(kernel.shape[:n]), strides, padding, dilation, groups=channels)


def _pointwise(func, x, kernel):
    n = kernel.dim() - 2
    if tuple(kernel.shape[:n]) != (1,) * n:
        raise ValueError(
            f"{func}: argument `pointwise_kernel` got shape {tuple(kernel.shape)}; "
            f"expected {(1,) * n + tuple(kernel.shape[n:])}"
        )
    check_channels(func, "pointwise_kernel", kernel.shape[n], x.shape[1])
    return _CONV[n](x, _weight(kernel))


def _conv(func, x, kernel, strides, padding, data_format, dilation_rate):
    n = len(strides)
    x, weights, dtype = _prepare(func, x, {"kernel": kernel}, n, data_format)
    check_strided_dilation(func, strides, dilation_rate)
    kernel = weights["kernel"]
    check_channels(func, "kernel", kernel.shape[n], x.shape[1])
    y = _convolve(func, x, _weight(kernel), tuple(kernel.shape[:n]), strides, padding, dilation_rate)
    return _finish(y, data_format, dtype)


def conv1d(x, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    if padding != "causal":
        return _conv("conv1d", x, kernel, strides, padding, data_format, dilation_rate)
    x, weights, dtype = _prepare("conv1d", x, {"kernel": kernel}, 1, data_format)
    kernel = weights["kernel"]
    check_strided_dilation("conv1d", strides, dilation_rate)
    if data_format != "channels_last":
        raise ValueError(
            "conv1d: argument `padding` got 'causal'; expected 'valid' or 'same' with "
            "data_format='channels_first' (causal padding needs channels_last)"
        )
    check_channels("conv1d", "kernel", kernel.shape[1], x.shape[1])
    x = F.pad(x, (dilation_rate[0] * (kernel.shape[0] - 1), 0))
    y = F.conv1d(x, _weight(kernel), None, strides, 0, dilation_rate)
    return _finish(y, data_format, dtype)


def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1)):
    # The common call (float tensors of one dtype, undilated, 'valid' or symmetric 'same') goes straight
    # to the kernel; anything else, and every input to refuse, takes the checked path below.
    if x.__class__ is Tensor and kernel.__class__ is Tensor and x.dtype is kernel.dtype and \
            x.dtype in _FAST_DTYPES and dilation_rate == (1, 1) and x.dim() == 4 and kernel.dim() == 4:
        rows, cols, channels, _ = kernel.shape
        last = data_format == "channels_last"
        if channels == x.shape[3 if last else 1]:
            height, width = x.shape[1:3] if last else x.shape[2:]
            pad = _fast_padding(padding, height, width, rows, cols, strides)
            if pad is not None:
                weight = kernel.permute(3, 2, 0, 1)
                if last:
                    return F.conv2d(x.permute(0, 3, 1, 2), weight, None, strides, pad).permute(0, 2, 3, 1)
                return F.conv2d(x, weight, None, strides, pad)
    return _conv("conv2d", x, kernel, strides, padding, data_format, dilation_rate)


_FAST_DTYPES = frozenset((torch.float32, torch.float64))


def _fast_padding(padding, height, width, rows, cols, strides):
    """The kernel's padding for a 2-D window: 0 for a 'valid' window that fits, the per-side amounts
    of a symmetric 'same'; None when the checked path must decide."""
    if padding == "valid":
        return 0 if height >= rows and width >= cols else None
    if padding != "same":
        return None
    top, bottom = same_padding(height, rows, strides[0])
    left, right = same_padding(width, cols, strides[1])
    return (top, left) if top == bottom and left == right else None


def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", data_format=None, dilation_rate=(1, 1, 1)):
    return _conv("conv3d", x, kernel, strides, padding, data_format, dilation_rate)


def _separable(func, n, x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate):
    x, weights, dtype = _prepare(
        func, x, {"depthwise_kernel": depthwise_kernel, "pointwise_kernel": pointwise_kernel}, n, data_format
    )
    check_strided_dilation(func, strides, dilation_rate)
    y = _depthwise(func, x, weights["depthwise_kernel"], strides, padding, dilation_rate)
    y = _pointwise(func, y, weights["pointwise_kernel"])
    return _finish(y, data_format, dtype)


def separable_conv1d(x, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                     dilation_rate=1):
    return _separable("separable_conv1d", 1, x, depthwise_kernel, pointwise_kernel, strides, padding,
                      data_format, dilation_rate)


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    return _separable("separable_conv2d", 2, x, depthwise_kernel, pointwise_kernel, strides, padding,
                      data_format, dilation_rate)


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    func = "depthwise_conv2d"
    x, weights, dtype = _prepare(func, x, {"depthwise_kernel": depthwise_kernel}, 2, data_format)
    check_strided_dilation(func, strides, dilation_rate)
    y = _depthwise(func, x, weights["depthwise_kernel"], strides, padding, dilation_rate)
    return _finish(y, data_format, dtype)


# ---------------------------------------------------------------------------------------------------
# transposed convolution


def _conv_transpose(func, x, kernel, output_shape, strides, padding, data_format, dilation):
    n = len(strides)
    channels, out_spatial = split_output_shape(func, x, output_shape, data_format)
    check_channels(func, "kernel", kernel.shape[n + 1], x.shape[1])
    if channels != kernel.shape[n]:
        raise ValueError(
            f"{func}: argument `output_shape` got {channels} channels; expected {kernel.shape[n]} "
            "(the output channels of `kernel`)"
        )
    in_spatial = tuple(x.shape[2:])
    crop, extra = [], []
    for length, out, w, s, d in zip(in_spatial, out_spatial, kernel.shape[:n], strides, dilation):
        extent = effective_size(w, d)
        if padding == "same":
            forward = -(-out // s)
            before = max((length - 1) * s + extent - out, 0) // 2
        else:
            forward = (out - extent) // s + 1 if out >= extent else 0
            before = 0
        if forward != length:
            raise ValueError(
                f"{func}: argument `output_shape` got spatial shape {tuple(out_spatial)}; expected one whose "
                f"{padding!r} convolution has the spatial shape {tuple(in_spatial)} of `x`"
            )
        crop.append(before)
        extra.append(max(out - ((length - 1) * s + extent - 2 * before), 0))
    weight = kernel.permute(n + 1, n, *range(n))
    y = _CONV_TRANSPOSE[n](x, weight, None, strides, crop, extra, 1, dilation)
    for axis, out in enumerate(out_spatial, 2):
        if y.shape[axis] != out:
            y = y.narrow(axis, 0, out)
    return y


def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    func = "conv2d_transpose"
    x, weights, dtype = _prepare(func, x, {"kernel": kernel}, 2, data_format)
    if dilation_rate[0] != dilation_rate[1]:
        raise ValueError(f"{func}: argument `dilation_rate` got {dilation_rate}; expected two equal rates")
    check_strided_dilation(func, strides, dilation_rate)
    y = _conv_transpose(func, x, weights["kernel"], output_shape, strides, padding, data_format, dilation_rate)
    return _finish(y, data_format, dtype)


def conv3d_transpose(x, kernel, output_shape, strides=(1, 1, 1), padding="valid", data_format=None):
    func = "conv3d_transpose"
    x, weights, dtype = _prepare(func, x, {"kernel": kernel}, 3, data_format)
    y = _conv_transpose(func, x, weights["kernel"], output_shape, strides, padding, data_format, (1, 1, 1))
    return _finish(y, data_format, dtype)


# ---------------------------------------------------------------------------------------------------
# pooling


def _pool(func, x, pool_size, strides, padding, data_format, pool_mode):
    n = len(pool_size)
    x, _, dtype = _prepare(func, x, {}, n, data_format)
    if n == 3 and pool_mode == "avg" and x.dtype in _HALVES and x.device.type == "cpu":
        x = x.to(torch.float32)  # torch has no CPU avg_pool3d kernel for float16/bfloat16
    pads = _padding(func, x.shape[2:], pool_size, strides, (1,) * n, padding)
    if pool_mode == "max":
        x, symmetric = _split_padding(x, pads, value=-math.inf)
        y = _MAX_POOL[n](x, pool_size, strides, symmetric)
    elif all(before == after for before, after in pads):
        y = _AVG_POOL[n](x, pool_size, strides, [before for before, _ in pads], count_include_pad=False)
    else:
        # Asymmetric 'same': window sums over the zero-padded input divided by the count of real elements.
        total, _ = _split_padding(x, pads)
        ones, _ = _split_padding(torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device), pads)
        y = _AVG_POOL[n](total, pool_size, strides, divisor_override=1)
        y = y / _AVG_POOL[n](ones, pool_size, strides, divisor_override=1)
    return _finish(y, data_format, dtype)


def pool2d(x, pool_size, strides=(1, 1), padding="valid", data_format=None, pool_mode="max"):
    return _pool("pool2d", x, pool_size, strides, padding, data_format, pool_mode)


def pool3d(x, pool_size, strides=(1, 1, 1), padding="valid", data_format=None, pool_mode="max"):
    return _pool("pool3d", x, pool_size, strides, padding, data_format, pool_mode)


# ---------------------------------------------------------------------------------------------------
# unshared-weight convolution


def _local(func, inputs, kernel, kernel_size, strides, output_shape, data_format):
    n = len(kernel_size)
    x, weights, dtype = _prepare(func, inputs, {}, n, data_format)
    if kernel.__class__ is not Tensor:
        kernel = to_tensor(kernel, x.device)
    kernel = kernel if kernel.dtype is x.dtype else kernel.to(x.dtype)
    x = x.movedim(1, -1)
    spatial, channels = tuple(x.shape[1:-1]), x.shape[-1]
    positions = math.prod(output_shape)
    features = math.prod(kernel_size) * channels
    if kernel.dim() != 3 or tuple(kernel.shape[:2]) != (positions, features):
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
    patches = x
    for axis, (k, s, out) in enumerate(zip(kernel_size, strides, output_shape), 1):
        patches = patches.unfold(axis, k, s).narrow(axis, 0, out)  # (batch, out..., channels, window...)
    if data_format == "channels_last":
        patches = patches.movedim(n + 1, -1)
    patches = patches.reshape(x.shape[0], positions, features)
    y = torch.bmm(patches.transpose(0, 1), kernel).transpose(0, 1)
    y = y.reshape((x.shape[0],) + tuple(output_shape) + (kernel.shape[-1],))
    return _finish(y.movedim(-1, 1), data_format, dtype)


def local_conv1d(inputs, kernel, kernel_size, strides, data_format=None):
    if kernel.__class__ is not Tensor:
        kernel = to_tensor(kernel)
    return _local("local_conv1d", inputs, kernel, kernel_size, strides, (kernel.shape[0],), data_format)


def local_conv2d(inputs, kernel, kernel_size, strides, output_shape, data_format=None):
    return _local("local_conv2d", inputs, kernel, kernel_size, strides, output_shape, data_format)
