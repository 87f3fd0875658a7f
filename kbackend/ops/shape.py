"""Shape and indexing ops, image resizing and zero padding."""

import builtins
import functools
import math

import numpy as np

from .._dispatch import K, ArgError, check_size, dtype_or_floatx, is_integer, one_axis, op
from ..dtypes import canonical_dtype, is_float, numpy_dtype, promote
from ..sparse import SparseTensor, holds_sparse, joined
from . import shape_rules as rules
from .conv_rules import static_shape
from .namespace import NUMPY
from .namespace import owned as _array
from .shape_rules import bilinear_taps, concat_axis, spatial_axes, spatial_widths, temporal_widths
from .variables import engine_keeps_sparse

# ---------------------------------------------------------------------------------------------------
# canonicalisers of this topic


def _count(value):
    """A non-negative int (repetitions, classes) that does not alone exceed memory."""
    if is_integer(value) and value >= 0:
        check_size(int(value))
        return int(value)
    raise ArgError("a non-negative int", TypeError if not is_integer(value) else ValueError)


def _factor(value):
    """A positive int (an upsampling factor) that does not alone exceed memory."""
    if is_integer(value) and value > 0:
        check_size(int(value))
        return int(value)
    raise ArgError("a positive int", TypeError if not is_integer(value) else ValueError)


def _int_sequence(value):
    """A list or tuple of ints → a tuple of ints."""
    if isinstance(value, (tuple, list)) and all(is_integer(v) for v in value):
        return tuple(int(v) for v in value)
    raise ArgError("a list or tuple of ints", TypeError)


def _axis_list(value):
    """An int or a list/tuple of ints → a tuple of ints."""
    if is_integer(value):
        return (int(value),)
    return _int_sequence(value)


def _multiples(value):
    """An int → a 1-tuple; a list/tuple of ints or scalar tensors (``K.shape(x)[1]``) → a tuple; a
    tensor passes through."""
    if is_integer(value):
        check_size(abs(int(value)))
        return (int(value),)
    if isinstance(value, (tuple, list)):
        if all(is_integer(v) for v in value):
            check_size(math.prod(abs(int(v)) for v in value))  # the output is at least this large
            return tuple(int(v) for v in value)
        if any(isinstance(v, (str, bytes, float, bool, list, tuple, dict)) or v is None for v in value):
            raise ArgError("an int, a list/tuple of ints or an int tensor", TypeError)
        return tuple(int(v) if is_integer(v) else v for v in value)
    if isinstance(value, (str, bytes, float, bool, dict, set)) or value is None:
        raise ArgError("an int, a list/tuple of ints or an int tensor", TypeError)
    return value


def _interpolation(value):
    if value in ("nearest", "bilinear"):
        return value
    raise ArgError("'nearest' or 'bilinear'")


def _pad_pair(value):
    if not isinstance(value, (tuple, list)) or not all(is_integer(v) for v in value):
        raise ArgError("a pair of non-negative ints (before, after)", TypeError)
    if len(value) != 2 or any(v < 0 for v in value):
        raise ArgError("a pair of non-negative ints (before, after)")
    check_size(int(value[0]) + int(value[1]))
    return (int(value[0]), int(value[1]))


def _pad_pairs(n):
    """Canonicaliser factory: ``n`` pairs of non-negative ints → a tuple of ``n`` int pairs."""
    expected = f"a tuple of {n} pairs of non-negative ints, e.g. {((1, 1),) * n}"

    def canonical(value):
        if not isinstance(value, (tuple, list)):
            raise ArgError(expected, TypeError)
        if len(value) != n:
            raise ArgError(expected)
        pairs = []
        for pair in value:
            try:
                pairs.append(_pad_pair(pair))
            except ArgError as exc:
                raise ArgError(expected, exc.kind) from None
        return tuple(pairs)

    canonical.__name__ = f"pad_pairs_{n}"
    return canonical


# ---------------------------------------------------------------------------------------------------
# helpers of the reference bodies


def _gather_indices(value):
    """Int indices: a Python bool, float or string is refused (NumPy read True as 1; engines differ)."""
    if isinstance(value, (bool, float, str, bytes, np.bool_, np.floating)) or value is None:
        raise ArgError("int indices (an int, a list of ints or an int tensor)", TypeError)
    if value.__class__ is np.ndarray and value.dtype.kind not in "iu":
        raise ArgError("int indices (an int, a list of ints or an int tensor)", TypeError)
    return value


def _tensor_list(value):
    """A non-empty list or tuple of tensors."""
    if not isinstance(value, (list, tuple)):
        raise ArgError("a non-empty list of tensors", TypeError)
    if not value:
        raise ArgError("a non-empty list of tensors")
    return value


@op(indices=_gather_indices)
def gather(reference, indices, *, xp=NUMPY):
    """Select rows of ``reference`` along axis 0 with the integer ``indices``.

    The output has shape ``indices.shape + reference.shape[1:]``.

    Args:
        reference: The tensor to gather from, along its first axis.
        indices: Int tensor of indices.

    >>> import numpy as np, kbackend as K
    >>> K.gather(np.array([[1, 2], [3, 4], [5, 6]]), [2, 0])
    array([[5, 6],
           [1, 2]])
    """
    return xp.take(xp.owned(reference), xp.owned(indices), axis=0)


def _sparse_concatenate(tensors, axis=-1):
    """Sparse 2-D parts joined along axis 0 or 1 stay sparse (SciPy's ``vstack``/``hstack``); a mix
    with dense parts is dense, each sparse part read as its array."""
    if engine_keeps_sparse() or not all(holds_sparse(t) for t in tensors) \
            or any(len(t.shape) != 2 for t in tensors) or axis not in (-2, -1, 0, 1):
        return NotImplemented
    return joined([t.matrix if t.__class__ is SparseTensor else t for t in tensors], axis)


@op(shape_rule=rules.concatenated_shape, axis=one_axis, tensors=_tensor_list, policy="promote",
    sparse=_sparse_concatenate)
def concatenate(tensors, axis=-1, *, xp=NUMPY):
    """Join a list of tensors along an existing ``axis`` (negative axes count from the first tensor's rank).

    Args:
        tensors: A list of tensors.

    >>> import numpy as np, kbackend as K
    >>> K.concatenate([np.zeros((2, 1)), np.ones((2, 2))]).shape
    (2, 3)
    """
    arrays = [xp.owned(t) for t in tensors]
    names = {canonical_dtype(a.dtype) for a in arrays}
    if len(names) > 1:  # the ``promote`` rule of kbackend.dtypes.POLICY over every part
        dtype = numpy_dtype(functools.reduce(promote, sorted(names)))
        arrays = [xp.cast(a, dtype) for a in arrays]
    return xp.concatenate(arrays, axis=concat_axis(axis, arrays[0].ndim))


def _shape_tuple(shape):
    """A target shape given as a tuple/list (entries may be scalar tensors) or as a 1-D int tensor."""
    if isinstance(shape, (tuple, list)):
        return tuple(s if s.__class__ is int else int(_array(s)) for s in shape)  # Python ints pass as they are
    return tuple(int(s) for s in _array(shape).reshape(-1))


@op(shape_rule=rules.reshaped_shape)
def reshape(x, shape):
    """Reshape ``x`` to ``shape``: a tuple whose entries are ints (one may be -1) or scalar tensors
    (e.g. elements of :func:`shape`), or a 1-D int tensor.

    Args:
        shape: The new shape: a tuple of ints, one of which may be -1 (inferred).

    >>> import numpy as np, kbackend as K
    >>> x = np.zeros((2, 3, 4))
    >>> K.reshape(x, (K.shape(x)[0], -1)).shape
    (2, 12)
    """
    return np.reshape(_array(x), _shape_tuple(shape))


@op(shape_rule=rules.permuted_shape, pattern=_int_sequence)
def permute_dimensions(x, pattern, *, xp=NUMPY):
    """Permute the axes of ``x``: output axis ``i`` is input axis ``pattern[i]``.

    Args:
        pattern: A tuple giving, for each output axis, the input axis it takes.

    >>> import numpy as np, kbackend as K
    >>> K.permute_dimensions(np.zeros((2, 3, 4)), (2, 0, 1)).shape
    (4, 2, 3)
    """
    return xp.transpose(xp.owned(x), pattern)


@op(shape_rule=rules.repeated_shape, rep=_count, axis=one_axis)
def repeat_elements(x, rep, axis, *, xp=NUMPY):
    """Repeat each slice of ``x`` along ``axis`` ``rep`` times in a row, like ``np.repeat``.

    Args:
        rep: A positive int: how many times each element is repeated.

    >>> import numpy as np, kbackend as K
    >>> K.repeat_elements(np.array([[1, 2], [3, 4]]), 2, axis=1)
    array([[1, 1, 2, 2],
           [3, 3, 4, 4]])
    """
    return xp.repeat(xp.owned(x), rep, axis=axis)


@op(composite=True, n=_count)
def repeat(x, n):
    """Repeat a 2-D tensor ``(batch, dim)`` ``n`` times on a new axis 1: ``(batch, n, dim)``.

    Raises ``ValueError`` when ``x`` is not 2-D.

    Args:
        n: How many times the 2-D input is repeated along a new axis 1 (an int).

    >>> import numpy as np, kbackend as K
    >>> K.repeat(np.array([[1, 2], [3, 4]]), 2)
    array([[[1, 2],
            [1, 2]],
    <BLANKLINE>
           [[3, 4],
            [3, 4]]])
    """
    if K.ndim(x) != 2:
        raise ValueError(
            f"repeat: argument `x` got a tensor of shape {K.int_shape(x)}; expected a 2-D tensor (batch, dim)"
        )
    return K.tile(K.expand_dims(x, 1), (1, n, 1))


def _range_value(value):
    """A finite number within int64 (or a scalar tensor, which passes)."""
    if isinstance(value, (str, bytes, list, tuple, dict, set)):
        raise ArgError("a number or a scalar tensor", TypeError)
    if isinstance(value, float) and not math.isfinite(value):
        raise ArgError("a finite number")
    if is_integer(value) and not -2**63 <= value < 2**63:
        raise ArgError("a number within the int64 range")
    if isinstance(value, (int, float)) and abs(value) > 2**24:
        check_size(int(abs(value)))  # a range up to it: refused before an engine allocates it
    return value


def _range_stop(value):
    return None if value is None else _range_value(value)


def _range_step(value):
    value = _range_value(value)
    if isinstance(value, (int, float)) and value == 0:
        raise ArgError("a non-zero number")
    return value


@op(dtype=dtype_or_floatx, start=_range_value, stop=_range_stop, step=_range_step)
def arange(start, stop=None, step=1, dtype="int32"):
    """A 1-D tensor ``start, start + step, ...`` up to (excluding) ``stop``; with one argument, ``start``
    is the stop and a negative one gives an empty range.

    With the default ``dtype='int32'`` the values keep the type of the arguments (int32, or float32 when
    one is a float); any other ``dtype`` casts the result.

    Args:
        start: The first value, or the end when ``stop`` is None.
        stop: The end (exclusive), or None to count from 0 to ``start``.
        step: The difference between consecutive values.
        dtype: A dtype name (default 'int32').

    >>> import kbackend as K
    >>> K.arange(5), K.arange(1, 3, 0.5)
    (array([0, 1, 2, 3, 4], dtype=int32), array([1. , 1.5, 2. , 2.5], dtype=float32))
    """
    if stop is None:
        start, stop = 0, (0 if _array(start) < 0 else start)
    inferred = rules.range_dtype((start, stop, step), lambda v: canonical_dtype(_array(v).dtype))
    values = np.arange(_array(start), _array(stop), _array(step), dtype=inferred)
    if dtype != "int32":
        values = values.astype(numpy_dtype(dtype))
    return values


@op(shape_rule=rules.tiled_shape, check=rules.tile, n=_multiples)
def tile(x, n):
    """Tile ``x``: axis ``i`` is repeated ``n[i]`` times; an int or a shorter ``n`` is left-padded with 1s
    (so ``tile(x, 2)`` tiles the last axis).

    Raises ``ValueError`` when ``n`` has more entries than ``x`` has axes.

    Args:
        n: An int or a tuple of ints: the repetitions of each axis.

    >>> import numpy as np, kbackend as K
    >>> K.tile(np.array([[1, 2]]), 2)
    array([[1, 2, 1, 2]])
    """
    x = _array(x)
    if isinstance(n, tuple):
        n = (1,) * (x.ndim - len(n)) + tuple(int(v) for v in n)
    return np.tile(x, n)


@op(composite=True)
def flatten(x):
    """Reshape ``x`` to 1-D.

    >>> import numpy as np, kbackend as K
    >>> K.flatten(np.array([[1, 2], [3, 4]]))
    array([1, 2, 3, 4])
    """
    return K.reshape(x, (-1,))


@op(composite=True)
def batch_flatten(x):
    """Flatten every axis but the first: ``(batch, d1, d2, ...)`` → ``(batch, d1 * d2 * ...)``.

    >>> import numpy as np, kbackend as K
    >>> K.batch_flatten(np.zeros((2, 3, 4))).shape
    (2, 12)
    """
    rest = K.int_shape(x)[1:]
    if None not in rest:
        return K.reshape(x, (-1, math.prod(rest)))
    return K.reshape(x, (K.shape(x)[0], -1))


@op(shape_rule=rules.expanded_shape, axis=one_axis)
def expand_dims(x, axis=-1, *, xp=NUMPY):
    """Insert a size-1 axis at ``axis`` (default: a new last axis).

    >>> import numpy as np, kbackend as K
    >>> K.expand_dims(np.zeros((2, 3))).shape, K.expand_dims(np.zeros((2, 3)), 0).shape
    ((2, 3, 1), (1, 2, 3))
    """
    return xp.expand_dims(xp.owned(x), axis)


@op(shape_rule=rules.squeezed_shape, check=rules.squeeze, axis=one_axis)
def squeeze(x, axis, *, xp=NUMPY):
    """Remove the size-1 axis ``axis``.

    >>> import numpy as np, kbackend as K
    >>> K.squeeze(np.zeros((2, 1, 3)), 1).shape
    (2, 3)
    """
    return xp.squeeze(xp.owned(x), axis)


@op(shape_rule=rules.stacked_shape, axis=one_axis, x=_tensor_list)
def stack(x, axis=0, *, xp=NUMPY):
    """Stack a list of same-shaped tensors along a new ``axis`` (default 0).

    Args:
        x: A list of tensors of one shape.

    >>> import numpy as np, kbackend as K
    >>> K.stack([np.array([1, 2]), np.array([3, 4])], axis=1)
    array([[1, 3],
           [2, 4]])
    """
    return xp.stack([xp.owned(t) for t in x], axis=axis)


def _classes(value):
    """A non-negative int whose one-hot row fits in memory (TensorFlow's depth is an int32)."""
    if is_integer(value) and value >= 2**31:
        raise ArgError("a non-negative int below 2**31")
    return _count(value)


@op(num_classes=_classes)
def one_hot(indices, num_classes, *, xp=NUMPY):
    """One-hot encode integer ``indices`` of shape ``(...)`` into float32 ``(..., num_classes)``;
    an index outside ``[0, num_classes)`` gives a row of zeros.

    Args:
        indices: Int tensor of indices.
        num_classes: The number of classes (the length of the new last axis).

    >>> import numpy as np, kbackend as K
    >>> K.one_hot(np.array([2, 0]), 3)
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    """
    return xp.cast(xp.equal(xp.owned(indices)[..., None], xp.arange(num_classes)), np.float32)


@op(axes=_axis_list)
def reverse(x, axes, *, xp=NUMPY):
    """Reverse ``x`` along ``axes`` (an int or a list of ints).

    Args:
        axes: The axes to contract: an int or a pair of ints.

    >>> import numpy as np, kbackend as K
    >>> K.reverse(np.array([[1, 2], [3, 4]]), axes=[0, 1])
    array([[4, 3],
           [2, 1]])
    """
    return xp.flip(xp.owned(x), axes)


def _index_list(value):
    if isinstance(value, (tuple, list)):  # Python ints pass as they are (converting each costs microseconds)
        return [v if v.__class__ is int else int(_array(v)) for v in value]
    return [int(v) for v in _array(value).reshape(-1)]


@op(check=rules.slice)
def slice(x, start, size, *, xp=NUMPY):
    """Extract ``x[start[i] : start[i] + size[i]]`` along every axis ``i`` (``size[i] == -1``: to the end).

    ``start`` and ``size`` are lists, tuples or 1-D int tensors with one entry per axis of ``x``;
    otherwise ``ValueError`` (the dimension and the size of indices should match).

    Args:
        start: A list or tuple of ints: the start index of each axis.
        size: A list or tuple of ints: the size along each axis (-1 for the rest).

    >>> import numpy as np, kbackend as K
    >>> K.slice(np.arange(12).reshape(3, 4), (1, 0), (2, 3))
    array([[ 4,  5,  6],
           [ 8,  9, 10]])
    """
    x = xp.owned(x)
    start, size = _index_list(start), _index_list(size)
    return x[tuple(builtins.slice(b, None if n == -1 else b + n) for b, n in zip(start, size))]


# ---------------------------------------------------------------------------------------------------
# resizing


def bilinear_axis(x, axis, factor, *, xp=NUMPY):
    """Upsample ``axis`` of ``x`` (of a static length) by ``factor`` with linear interpolation at
    half-pixel centres (the sampling of TensorFlow's ``tf.image.resize(..., 'bilinear')``)."""
    lower, upper, weight = bilinear_taps(static_shape(x)[axis], factor, np.dtype(x.dtype))
    shape = [1] * x.ndim
    shape[axis] = -1
    below, above = xp.take(x, lower, axis=axis), xp.take(x, upper, axis=axis)
    return below + (above - below) * xp.asarray(weight.reshape(shape))


@op(shape_rule=rules.resized_shape, check=rules.resize_images, height_factor=_factor, width_factor=_factor,
    interpolation=_interpolation)
def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest", *, xp=NUMPY):
    """Upsample the two spatial axes of a 4-D image batch by integer factors.

    ``'nearest'`` repeats pixels; ``'bilinear'`` interpolates at half-pixel centres, as
    ``tf.image.resize`` does.  Floating inputs keep their dtype; bilinear resizing of an integer
    input gives float32.

    Args:
        height_factor: A positive int: the scale of the rows axis.
        width_factor: A positive int: the scale of the columns axis.
        interpolation: 'nearest' or 'bilinear'.

    >>> import numpy as np, kbackend as K
    >>> x = np.array([0.0, 1.0]).reshape(1, 1, 2, 1)
    >>> K.resize_images(x, 1, 2, 'channels_last', 'bilinear').ravel()
    array([0.  , 0.25, 0.75, 1.  ])
    """
    x = xp.owned(x)
    rows, cols = spatial_axes(data_format, 2)
    if interpolation == "nearest":
        return xp.repeat(xp.repeat(x, height_factor, axis=rows), width_factor, axis=cols)
    out_dtype = x.dtype if is_float(canonical_dtype(x.dtype)) else np.dtype(np.float32)
    work = xp.cast(x, np.float64 if np.dtype(out_dtype) == np.float64 else np.float32)
    work = bilinear_axis(bilinear_axis(work, rows, height_factor, xp=xp), cols, width_factor, xp=xp)
    return xp.cast(work, out_dtype)


@op(composite=True, check=rules.resize_volumes, depth_factor=_factor, height_factor=_factor, width_factor=_factor)
def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    """Upsample the three spatial axes of a 5-D volume batch by integer factors (nearest: repeats).

    Args:
        depth_factor: A positive int: the scale of the depth axis.
        height_factor: A positive int: the scale of the rows axis.
        width_factor: A positive int: the scale of the columns axis.

    >>> import numpy as np, kbackend as K
    >>> K.resize_volumes(np.zeros((1, 2, 3, 4, 5)), 2, 2, 2, 'channels_first').shape
    (1, 2, 6, 8, 10)
    """
    depth, height, width = spatial_axes(data_format, 3)
    x = K.repeat_elements(x, depth_factor, axis=depth)
    x = K.repeat_elements(x, height_factor, axis=height)
    return K.repeat_elements(x, width_factor, axis=width)


# ---------------------------------------------------------------------------------------------------
# zero padding


@op(shape_rule=rules.temporal_padded_shape, check=rules.temporal_padding, padding=_pad_pair)
def temporal_padding(x, padding=(1, 1), *, xp=NUMPY):
    """Zero-pad axis 1 of a 3-D tensor ``(batch, steps, features)`` by ``(before, after)``.

    Args:
        padding: ``(before, after)``: ints padded on each side of the time axis.

    >>> import numpy as np, kbackend as K
    >>> K.temporal_padding(np.ones((1, 2, 1)), (1, 2))[0, :, 0]
    array([0., 1., 1., 0., 0.])
    """
    return xp.pad(xp.owned(x), temporal_widths(padding))


@op(shape_rule=rules.padded_shape, check=rules.spatial_2d_padding, padding=_pad_pairs(2))
def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None, *, xp=NUMPY):
    """Zero-pad the two spatial axes of a 4-D tensor by ``((top, bottom), (left, right))``; the axes
    follow ``data_format`` (None: :func:`image_data_format`).

    Args:
        padding: ``((top, bottom), (left, right))``: ints padded on each side.

    >>> import numpy as np, kbackend as K
    >>> K.spatial_2d_padding(np.ones((1, 2, 2, 3)), ((1, 0), (0, 2))).shape
    (1, 3, 4, 3)
    """
    return xp.pad(xp.owned(x), spatial_widths(padding, data_format))


@op(shape_rule=rules.padded_shape, check=rules.spatial_3d_padding, padding=_pad_pairs(3))
def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None, *, xp=NUMPY):
    """Zero-pad the three spatial axes of a 5-D tensor by ``((d0, d1), (h0, h1), (w0, w1))``; the axes
    follow ``data_format`` (None: :func:`image_data_format`).

    Args:
        padding: Three ``(before, after)`` pairs of ints, one per spatial axis.

    >>> import numpy as np, kbackend as K
    >>> K.spatial_3d_padding(np.ones((1, 3, 2, 2, 2)), ((1, 1), (0, 0), (2, 0)), 'channels_first').shape
    (1, 3, 4, 2, 4)
    """
    return xp.pad(xp.owned(x), spatial_widths(padding, data_format))
