"""Shape and indexing ops, image resizing and zero padding on TensorFlow."""

import functools

import numpy as np
import tensorflow as tf

from ...dtypes import numpy_dtype, promote
from ...ops.array_bodies import padding_ops
from ...ops.shape_rules import RANGE_DTYPES, bilinear_taps, spatial_axes
from .variables import DTYPES, TENSORS, R, int32s, tensor

repeat_elements = tf.repeat


def gather(reference, indices):
    return R.GatherV2(params=reference, indices=indices, axis=0)


def permute_dimensions(x, pattern):
    return R.Transpose(x=x, perm=int32s(pattern))


def expand_dims(x, axis=-1):
    return R.ExpandDims(input=x, axis=axis)


def squeeze(x, axis):
    return R.Squeeze(input=x, axis=[axis])


def stack(x, axis=0):
    return R.Pack(values=x, axis=axis)


def reverse(x, axes):
    return R.ReverseV2(tensor=x, axis=int32s(axes))


# tensorflow: SparseTensor parts concatenate sparse (or densify when mixed); parts promoted to one dtype
def concatenate(tensors, axis=-1):
    if any(isinstance(t, tf.SparseTensor) for t in tensors):
        if all(isinstance(t, tf.SparseTensor) for t in tensors):
            return tf.sparse.concat(axis, tensors)
        tensors = [tf.sparse.to_dense(t) if isinstance(t, tf.SparseTensor) else t for t in tensors]
    tensors = [tensor(t) for t in tensors]
    names = {t.dtype.name for t in tensors}
    if len(names) > 1:  # the ``promote`` rule of kbackend.dtypes.POLICY over every part
        dtype = tf.as_dtype(numpy_dtype(functools.reduce(promote, sorted(names))))
        tensors = [t if t.dtype is dtype else R.Cast(x=t, DstT=dtype) for t in tensors]
    return R.ConcatV2(values=tensors, axis=axis)


# tensorflow: a shape of ints as a cached constant; entries from K.shape(...) stacked in the graph
def reshape(x, shape):
    if shape.__class__ is tuple and all(d.__class__ is int for d in shape):
        return R.Reshape(tensor=x, shape=int32s(shape))
    return tf.reshape(x, shape)


def _range_bound(value):
    """A tensor bound in a dtype ``tf.range`` infers from (half floats → float32, small ints → int32)."""
    if isinstance(value, TENSORS) and value.dtype.name not in RANGE_DTYPES:
        return tf.cast(value, tf.float32 if value.dtype.is_floating else tf.int32)
    return value


# tensorflow: a tensor bound in a graph stays symbolic; a negative stop becomes 0, as Keras 2
def arange(start, stop=None, step=1, dtype="int32"):
    if stop is None:
        if isinstance(start, TENSORS) and not tf.executing_eagerly():
            start, stop = 0, tf.maximum(start, 0)
        else:  # a negative stop becomes the int 0, as in Keras 2 (an int32 range, whatever its dtype)
            start, stop = 0, (0 if np.asarray(start) < 0 else start)
    result = tf.range(_range_bound(start), _range_bound(stop), _range_bound(step))
    if dtype != "int32":
        result = R.Cast(x=result, DstT=DTYPES[dtype])
    return result


# tensorflow: multiples may be graph scalars; missing leading multiples are 1
def tile(x, n):
    x = tensor(x)
    rank = x.shape.rank
    if isinstance(n, tuple):
        if all(isinstance(v, int) for v in n):
            return R.Tile(input=x, multiples=int32s((1,) * (rank - len(n)) + n))
        n = tf.stack([tf.cast(v, tf.int32) for v in n])  # entries from K.shape(...) inside a graph
    n = tf.reshape(tf.cast(n, tf.int32), (-1,))
    if n.shape[0] < rank:
        n = tf.concat([tf.ones(rank - n.shape[0], tf.int32), n], 0)
    return R.Tile(input=x, multiples=n)


_ONE_HOT_INDEX_DTYPES = ("uint8", "int8", "int32", "int64")


# tensorflow: the OneHot kernel takes int32/int64/uint8 indices only
def one_hot(indices, num_classes):
    indices = tensor(indices)
    if indices.dtype.name not in _ONE_HOT_INDEX_DTYPES:
        indices = tf.cast(indices, tf.int64)
    return R.OneHot(indices=indices, depth=num_classes, on_value=1.0, off_value=0.0, axis=-1)


def _indices(value):
    """Slice starts or sizes as tf.slice takes them."""
    if isinstance(value, (tuple, list)):
        if all(isinstance(v, int) for v in value):
            return int32s(tuple(value))
        return tf.stack([tf.cast(v, tf.int32) for v in value])
    return tf.reshape(tf.cast(value, tf.int32), (-1,))


# tensorflow: starts and sizes may be graph values (tf.slice)
def slice(x, start, size):
    x = tensor(x)
    return R.Slice(input=x, begin=_indices(start), size=_indices(size))


def _bilinear_axis(x, axis, factor):
    """The reference's half-pixel taps (:func:`kbackend.ops.shape_rules.bilinear_taps`) along ``axis``."""
    lower, upper, weight = bilinear_taps(x.shape[axis], factor, x.dtype.as_numpy_dtype)
    shape = [1] * x.shape.rank
    shape[axis] = -1
    below, above = tf.gather(x, lower, axis=axis), tf.gather(x, upper, axis=axis)
    return below + (above - below) * tf.constant(weight.reshape(shape))


# tensorflow: tf.image.resize for float32 bilinear; float64 runs the reference's taps (resize computes in float32)
def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest"):
    x = tensor(x)
    rows, cols = spatial_axes(data_format, 2)
    if interpolation == "nearest":
        return tf.repeat(tf.repeat(x, height_factor, axis=rows), width_factor, axis=cols)
    if x.dtype is tf.float64:  # tf.image.resize computes in float32
        return _bilinear_axis(_bilinear_axis(x, rows, height_factor), cols, width_factor)
    channels_first = data_format == "channels_first"
    if channels_first:
        x = tf.transpose(x, (0, 2, 3, 1))
    size = (x.shape[1] * height_factor, x.shape[2] * width_factor)
    result = tf.image.resize(x, size, "bilinear")
    if x.dtype.is_floating:
        result = tf.cast(result, x.dtype)
    if channels_first:
        result = tf.transpose(result, (0, 3, 1, 2))
    return result


temporal_padding, spatial_2d_padding, spatial_3d_padding = padding_ops(
    lambda x, widths: R.Pad(input=x, paddings=int32s(tuple(widths))))
