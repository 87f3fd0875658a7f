"""Convolution, transposed convolution, pooling and unshared-weight (local) convolution.

Kernels are channels-last whatever ``data_format`` says: ``(spatial..., in, out)`` for convolutions,
``(spatial..., out, in)`` for transposed ones, ``(spatial..., in, multiplier)`` for depthwise ones.
'same' padding is TensorFlow's: output length ``ceil(length / stride)``, the odd padding element after.
"""

import math

import numpy as np

from .._dispatch import ArgError, causal_padding, check_size, int_tuple, op, symbolic
from . import convolution as kernels
from . import conv_rules as rules


def _is_graph_tensor(value):
    return symbolic.is_symbolic is not None and symbolic.is_symbolic(value)


def _static_value(tensor):
    """The value of a scalar graph tensor that is the same whatever size its unknown inputs take
    (``K.shape(x)[1] * 2`` when that dim of ``x`` is known); ValueError otherwise."""
    values = {int(v) for v in getattr(tensor, "stand_ins", {}).values() if v.__class__ is np.ndarray and v.ndim == 0}
    if len(values) != 1:
        raise ValueError("an entry that depends on an unknown dimension")
    return values.pop()


def _window(n):
    """Canonicaliser factory: ``pool_size`` → a tuple of ``n`` positive ints whose window fits in memory
    (with 'same' padding the padded input is at least that large; TensorFlow's kernel crashes on it)."""
    sizes = int_tuple(n)

    def canonical(value):
        value = sizes(value)
        check_size(math.prod(value))
        return value

    canonical.__name__ = f"window_{n}"
    return canonical


def _transpose_output_shape(rank):
    """Canonicaliser factory: ``output_shape`` of a transposed convolution → a tuple of ``rank`` entries,
    ints except a batch entry that may be None."""

    def canonical(value):
        try:
            # The batch entry is often K.shape(x)[0], a graph tensor: only the input's batch counts.
            # Keras 2 computes the other entries from K.shape too; they count by their static value.
            dims = tuple(None if v is None or i == 0 and _is_graph_tensor(v) else
                         _static_value(v) if _is_graph_tensor(v) else int(v)
                         for i, v in enumerate(value))
        except (TypeError, ValueError):
            dims = None
        if dims is None or len(dims) != rank or None in dims[1:] or any(d <= 0 for d in dims if d is not None):
            raise ArgError(f"a tuple of {rank} positive ints (the batch entry may be None or a tensor; "
                           "the others may be tensors of a static value)", TypeError)
        return dims

    canonical.__name__ = f"transpose_output_shape_{rank}"
    return canonical


@op(check=rules.conv1d, shape_rule=rules.convolution_shape, strides=int_tuple(1), padding=causal_padding,
    dilation_rate=int_tuple(1))
def conv1d(x, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """1-D convolution (cross-correlation) of ``x`` ``(batch, steps, in)`` with ``kernel`` ``(k, in, out)``.

    ``padding='causal'`` left-pads the steps by ``dilation_rate * (k - 1)`` so that output ``t`` sees only
    inputs up to ``t``; it needs ``data_format='channels_last'``.  Strides above 1 together with dilation
    above 1 raise ``ValueError`` (as in TensorFlow).

    Args:
        x: ``(batch, steps, in)``, or ``(batch, in, steps)`` for channels_first.
        kernel: ``(k, in, out)``.
        strides, dilation_rate: an int (or a 1-tuple).
        padding: 'valid', 'same' or 'causal'.

    Returns:
        ``(batch, new_steps, out)`` (channels_first: ``(batch, out, new_steps)``).

    >>> import numpy as np, kbackend as K
    >>> x = np.arange(5, dtype='float32').reshape(1, 5, 1)
    >>> K.conv1d(x, np.ones((2, 1, 1), 'float32'), padding='causal')[0, :, 0]
    array([0., 1., 3., 5., 7.], dtype=float32)
    """
    x, weights, dtype = kernels.prepare(x, {"kernel": kernel}, data_format)
    y = kernels.convolve(x, weights["kernel"], strides, padding, dilation_rate)
    return kernels.from_channels_last(y, data_format, dtype)


@op(check=rules.separable_conv1d, shape_rule=rules.separable_shape, strides=int_tuple(1), dilation_rate=int_tuple(1))
def separable_conv1d(x, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                     dilation_rate=1):
    """1-D separable convolution: a depthwise convolution, then a pointwise (size-1) one.

    Args:
        x: ``(batch, steps, in)``, or ``(batch, in, steps)`` for channels_first.
        depthwise_kernel: ``(k, in, multiplier)``.
        pointwise_kernel: ``(1, in * multiplier, out)``.
        strides, dilation_rate: an int (or a 1-tuple); not both above 1.

    Returns:
        ``(batch, new_steps, out)`` (channels_first: ``(batch, out, new_steps)``).

    >>> import numpy as np, kbackend as K
    >>> x = np.ones((1, 4, 2), 'float32')
    >>> K.separable_conv1d(x, np.ones((3, 2, 1), 'float32'), np.ones((1, 2, 1), 'float32'))[0, :, 0]
    array([6., 6.], dtype=float32)
    """
    x, weights, dtype = kernels.prepare(
        x, {"depthwise_kernel": depthwise_kernel, "pointwise_kernel": pointwise_kernel}, data_format
    )
    y = kernels.depthwise(x, weights["depthwise_kernel"], strides, padding, dilation_rate)
    y = kernels.pointwise(y, weights["pointwise_kernel"])
    return kernels.from_channels_last(y, data_format, dtype)


@op(check=rules.conv2d, shape_rule=rules.convolution_shape, strides=int_tuple(2), dilation_rate=int_tuple(2))
def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1)):
    """2-D convolution (cross-correlation) of ``x`` with ``kernel`` ``(kh, kw, in, out)``.

    Strides above 1 together with dilation above 1 raise ``ValueError`` (as in TensorFlow).

    Args:
        x: ``(batch, rows, cols, in)``, or ``(batch, in, rows, cols)`` for channels_first.
        kernel: ``(kh, kw, in, out)``.
        strides, dilation_rate: an int or a tuple of 2 ints.

    Returns:
        ``(batch, new_rows, new_cols, out)`` (channels_first: ``(batch, out, new_rows, new_cols)``).

    >>> import numpy as np, kbackend as K
    >>> x = np.arange(16, dtype='float32').reshape(1, 4, 4, 1)
    >>> K.conv2d(x, np.ones((2, 2, 1, 1), 'float32'), strides=2)[0, :, :, 0]
    array([[10., 18.],
           [42., 50.]], dtype=float32)
    """
    x, weights, dtype = kernels.prepare(x, {"kernel": kernel}, data_format)
    y = kernels.convolve(x, weights["kernel"], strides, padding, dilation_rate)
    return kernels.from_channels_last(y, data_format, dtype)


@op(check=rules.separable_conv2d, shape_rule=rules.separable_shape, strides=int_tuple(2), dilation_rate=int_tuple(2))
def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    """2-D separable convolution: a depthwise convolution, then a pointwise (1×1) one.

    Args:
        x: ``(batch, rows, cols, in)``, or ``(batch, in, rows, cols)`` for channels_first.
        depthwise_kernel: ``(kh, kw, in, multiplier)``.
        pointwise_kernel: ``(1, 1, in * multiplier, out)``.
        strides, dilation_rate: an int or a tuple of 2 ints; not both above 1.

    Returns:
        ``(batch, new_rows, new_cols, out)`` (channels_first: ``(batch, out, new_rows, new_cols)``).

    >>> import numpy as np, kbackend as K
    >>> x = np.ones((1, 3, 3, 2), 'float32')
    >>> dk, pk = np.ones((2, 2, 2, 1), 'float32'), np.full((1, 1, 2, 1), 0.5, 'float32')
    >>> K.separable_conv2d(x, dk, pk)[0, :, :, 0]
    array([[4., 4.],
           [4., 4.]], dtype=float32)
    """
    x, weights, dtype = kernels.prepare(
        x, {"depthwise_kernel": depthwise_kernel, "pointwise_kernel": pointwise_kernel}, data_format
    )
    y = kernels.depthwise(x, weights["depthwise_kernel"], strides, padding, dilation_rate)
    y = kernels.pointwise(y, weights["pointwise_kernel"])
    return kernels.from_channels_last(y, data_format, dtype)


@op(check=rules.conv2d_transpose, shape_rule=rules.transpose_shape, output_shape=_transpose_output_shape(4),
    strides=int_tuple(2), dilation_rate=int_tuple(2))
def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    """2-D transposed convolution (the input gradient of :func:`conv2d`) to an explicit ``output_shape``.

    ``output_shape`` is the full shape in ``data_format`` order; its batch entry may be None (the batch
    of ``x``).  Its ``padding`` convolution with ``strides`` must give back the spatial shape of ``x``.
    The two dilation rates must be equal, and strides above 1 together with dilation above 1 raise
    ``ValueError`` (as in TensorFlow).

    Args:
        x: ``(batch, rows, cols, in)``, or ``(batch, in, rows, cols)`` for channels_first.
        kernel: ``(kh, kw, out, in)``.
        output_shape: ``(batch, new_rows, new_cols, out)`` (channels_first: ``(batch, out, new_rows, new_cols)``).
        strides, dilation_rate: an int or a tuple of 2 ints.

    Returns:
        A tensor of ``output_shape``.

    >>> import numpy as np, kbackend as K
    >>> x = np.ones((1, 2, 2, 1), 'float32')
    >>> K.conv2d_transpose(x, np.ones((2, 2, 1, 1), 'float32'), (None, 3, 3, 1))[0, :, :, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]], dtype=float32)
    """
    x, weights, dtype = kernels.prepare(x, {"kernel": kernel}, data_format)
    spatial = rules.split_output_shape(output_shape, data_format)[2]
    y = kernels.convolve_transpose(x, weights["kernel"], spatial, strides, padding, dilation_rate)
    return kernels.from_channels_last(y, data_format, dtype)


@op(check=rules.depthwise_conv2d, shape_rule=rules.depthwise_shape, strides=int_tuple(2), dilation_rate=int_tuple(2))
def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    """2-D depthwise convolution: each input channel convolved with its own ``multiplier`` filters.

    Output channel ``c * multiplier + m`` is input channel ``c`` convolved with
    ``depthwise_kernel[:, :, c, m]``.

    Args:
        x: ``(batch, rows, cols, in)``, or ``(batch, in, rows, cols)`` for channels_first.
        depthwise_kernel: ``(kh, kw, in, multiplier)``.
        strides, dilation_rate: an int or a tuple of 2 ints; not both above 1.

    Returns:
        ``(batch, new_rows, new_cols, in * multiplier)`` (channels_first: channels on axis 1).

    >>> import numpy as np, kbackend as K
    >>> x = np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))], axis=-1)[None].astype('float32')
    >>> K.depthwise_conv2d(x, np.ones((3, 3, 2, 1), 'float32'))[0, 0, 0]
    array([ 9., 18.], dtype=float32)
    """
    x, weights, dtype = kernels.prepare(x, {"depthwise_kernel": depthwise_kernel}, data_format)
    y = kernels.depthwise(x, weights["depthwise_kernel"], strides, padding, dilation_rate)
    return kernels.from_channels_last(y, data_format, dtype)


@op(check=rules.conv3d, shape_rule=rules.convolution_shape, strides=int_tuple(3), dilation_rate=int_tuple(3))
def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", data_format=None, dilation_rate=(1, 1, 1)):
    """3-D convolution (cross-correlation) of ``x`` with ``kernel`` ``(kd, kh, kw, in, out)``.

    Strides above 1 together with dilation above 1 raise ``ValueError`` (as in TensorFlow).

    Args:
        x: ``(batch, d1, d2, d3, in)``, or ``(batch, in, d1, d2, d3)`` for channels_first.
        kernel: ``(k1, k2, k3, in, out)``.
        strides, dilation_rate: an int or a tuple of 3 ints.

    Returns:
        ``(batch, n1, n2, n3, out)`` (channels_first: ``(batch, out, n1, n2, n3)``).

    >>> import numpy as np, kbackend as K
    >>> x = np.ones((1, 3, 3, 3, 1), 'float32')
    >>> K.conv3d(x, np.ones((2, 2, 2, 1, 1), 'float32'), padding='same')[0, :, :, :, 0].sum(axis=(1, 2))
    array([50., 50., 25.], dtype=float32)
    """
    x, weights, dtype = kernels.prepare(x, {"kernel": kernel}, data_format)
    y = kernels.convolve(x, weights["kernel"], strides, padding, dilation_rate)
    return kernels.from_channels_last(y, data_format, dtype)


@op(check=rules.conv3d_transpose, shape_rule=rules.transpose_shape, output_shape=_transpose_output_shape(5),
    strides=int_tuple(3))
def conv3d_transpose(x, kernel, output_shape, strides=(1, 1, 1), padding="valid", data_format=None):
    """3-D transposed convolution (the input gradient of :func:`conv3d`) to an explicit ``output_shape``.

    ``output_shape`` is the full shape in ``data_format`` order; its batch entry may be None.  Its
    ``padding`` convolution with ``strides`` must give back the spatial shape of ``x``.

    Args:
        x: ``(batch, d1, d2, d3, in)``, or ``(batch, in, d1, d2, d3)`` for channels_first.
        kernel: ``(k1, k2, k3, out, in)``.
        output_shape: ``(batch, n1, n2, n3, out)`` (channels_first: ``(batch, out, n1, n2, n3)``).
        strides: an int or a tuple of 3 ints.

    Returns:
        A tensor of ``output_shape``.

    >>> import numpy as np, kbackend as K
    >>> x = np.ones((1, 2, 2, 2, 1), 'float32')
    >>> y = K.conv3d_transpose(x, np.ones((1, 1, 1, 1, 1), 'float32'), (1, 4, 4, 4, 1), strides=2)
    >>> y.shape, float(y.sum())
    ((1, 4, 4, 4, 1), 8.0)
    """
    x, weights, dtype = kernels.prepare(x, {"kernel": kernel}, data_format)
    spatial = rules.split_output_shape(output_shape, data_format)[2]
    y = kernels.convolve_transpose(x, weights["kernel"], spatial, strides, padding, (1, 1, 1))
    return kernels.from_channels_last(y, data_format, dtype)


@op(check=rules.pool2d, shape_rule=rules.pool_shape, pool_size=_window(2), strides=int_tuple(2))
def pool2d(x, pool_size, strides=(1, 1), padding="valid", data_format=None, pool_mode="max"):
    """2-D max or average pooling.  ``strides`` defaults to ``(1, 1)``, not to ``pool_size``.

    With 'same' padding the padded elements never win a max and are left out of an average's count.

    Args:
        x: ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` for channels_first.
        pool_size, strides: an int or a tuple of 2 ints.
        pool_mode: 'max' or 'avg'.

    Returns:
        ``(batch, new_rows, new_cols, channels)`` (channels_first: channels on axis 1).

    >>> import numpy as np, kbackend as K
    >>> x = np.arange(9, dtype='float32').reshape(1, 3, 3, 1)
    >>> K.pool2d(x, (2, 2), strides=(2, 2), padding='same', pool_mode='avg')[0, :, :, 0]
    array([[2. , 3.5],
           [6.5, 8. ]], dtype=float32)
    """
    x, _, dtype = kernels.prepare(x, {}, data_format)
    y = kernels.pool(x, pool_size, strides, padding, pool_mode)
    return kernels.from_channels_last(y, data_format, dtype)


@op(check=rules.pool3d, shape_rule=rules.pool_shape, pool_size=_window(3), strides=int_tuple(3))
def pool3d(x, pool_size, strides=(1, 1, 1), padding="valid", data_format=None, pool_mode="max"):
    """3-D max or average pooling.  ``strides`` defaults to ``(1, 1, 1)``, not to ``pool_size``.

    With 'same' padding the padded elements never win a max and are left out of an average's count.

    Args:
        x: ``(batch, d1, d2, d3, channels)``, or ``(batch, channels, d1, d2, d3)`` for channels_first.
        pool_size, strides: an int or a tuple of 3 ints.
        pool_mode: 'max' or 'avg'.

    Returns:
        ``(batch, n1, n2, n3, channels)`` (channels_first: channels on axis 1).

    >>> import numpy as np, kbackend as K
    >>> x = np.arange(8, dtype='float32').reshape(1, 2, 2, 2, 1)
    >>> K.pool3d(x, (2, 2, 2)).ravel(), K.pool3d(x, (2, 2, 2), pool_mode='avg').ravel()
    (array([7.], dtype=float32), array([3.5], dtype=float32))
    """
    x, _, dtype = kernels.prepare(x, {}, data_format)
    y = kernels.pool(x, pool_size, strides, padding, pool_mode)
    return kernels.from_channels_last(y, data_format, dtype)


def _local(inputs, kernel, kernel_size, strides, output_shape, data_format):
    x, _, dtype = kernels.prepare(inputs, {}, data_format)
    kernel = kernels.as_array(kernel).astype(x.dtype, copy=False)
    y = kernels.local_convolve(x, kernel, kernel_size, strides, output_shape, data_format)
    return kernels.from_channels_last(y, data_format, dtype)


@op(check=rules.local_conv1d, kernel_size=int_tuple(1), strides=int_tuple(1))
def local_conv1d(inputs, kernel, kernel_size, strides, data_format=None):
    """1-D convolution with unshared weights: every output step has its own filters.

    The number of output steps is ``kernel.shape[0]``; output step ``i`` reads the window starting at
    ``i * strides[0]``, flattened in the input's layout: ``(kernel_size, in)`` for channels_last,
    ``(in, kernel_size)`` for channels_first (as tf_keras does).

    Args:
        inputs: ``(batch, steps, in)``, or ``(batch, in, steps)`` for channels_first.
        kernel: ``(output_length, kernel_size[0] * in, filters)``.
        kernel_size, strides: a 1-tuple (or an int).

    Returns:
        ``(batch, output_length, filters)`` (channels_first: ``(batch, filters, output_length)``).

    >>> import numpy as np, kbackend as K
    >>> x = np.arange(4, dtype='float32').reshape(1, 4, 1)
    >>> kernel = np.array([[[1.], [1.]], [[0.], [2.]]], 'float32')
    >>> K.local_conv1d(x, kernel, (2,), (2,))[0, :, 0]
    array([1., 6.], dtype=float32)
    """
    return _local(inputs, kernel, kernel_size, strides, (kernels.as_array(kernel).shape[0],), data_format)


@op(check=rules.local_conv2d, kernel_size=int_tuple(2), strides=int_tuple(2), output_shape=int_tuple(2))
def local_conv2d(inputs, kernel, kernel_size, strides, output_shape, data_format=None):
    """2-D convolution with unshared weights: every output position has its own filters.

    Output position ``(r, c)`` (row-major index ``r * out_cols + c`` into ``kernel``) reads the window
    starting at ``(r * strides[0], c * strides[1])``, flattened in the input's layout:
    ``(kh, kw, in)`` for channels_last, ``(in, kh, kw)`` for channels_first (as tf_keras does).

    Args:
        inputs: ``(batch, rows, cols, in)``, or ``(batch, in, rows, cols)`` for channels_first.
        kernel: ``(out_rows * out_cols, kh * kw * in, filters)``.
        kernel_size, strides: a tuple of 2 ints (or an int).
        output_shape: ``(out_rows, out_cols)``.

    Returns:
        ``(batch, out_rows, out_cols, filters)`` (channels_first: ``(batch, filters, out_rows, out_cols)``).

    >>> import numpy as np, kbackend as K
    >>> x = np.ones((1, 3, 3, 1), 'float32')
    >>> kernel = np.arange(4, dtype='float32').reshape(4, 1, 1).repeat(4, axis=1)
    >>> K.local_conv2d(x, kernel, (2, 2), (1, 1), (2, 2))[0, :, :, 0]
    array([[ 0.,  4.],
           [ 8., 12.]], dtype=float32)
    """
    return _local(inputs, kernel, kernel_size, strides, output_shape, data_format)
