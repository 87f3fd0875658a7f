"""Variables, constants, tensor introspection and value I/O on TensorFlow."""


import operator

import numpy as np
import tensorflow as tf

from ... import config
from ..._dispatch import install_operators
from ...dtypes import NAMES, canonical_dtype, numpy_dtype
from ...dtypes import from_python as python_array
from ...ops.array_bodies import filled_ops, keras_tensor_ops
from ...sparse import is_scipy_sparse

#: Values every tf op accepts as they are (variables read themselves).
TENSORS = (tf.Tensor, tf.Variable)
#: TensorFlow's generated op wrappers: the public ``tf.*`` functions add dispatch layers and rebuild
#: constant arguments (axes, shapes) on every call, which costs more than a small op itself.
R = tf.raw_ops

_ResourceVariable = type(tf.Variable(0.0))  # the class tf.Variable(...) instantiates in TensorFlow 2


class Variable(_ResourceVariable):
    """The variable of :func:`variable`: a ``tf.Variable`` whose Python operators are recorded, not run,
    while graphs are being built, so that expressions over it read its value when a function runs."""


def _eager(name, fn, reflected):
    """A variable's operator when no graph records it: tf.Variable's own; unary + (which TensorFlow
    lacks) reads the value."""
    if name == "pos":
        return lambda self: self.read_value()
    return getattr(_ResourceVariable, f"__{'r' if reflected else ''}{name}__", None)


install_operators(Variable, _eager)  # recorded while graphs are built (see kbackend._dispatch.OPERATORS)

#: Python operators in graphs that TensorFlow's tensors lack.
OPERATORS = {operator.pos: tf.identity}


def tensor(x):
    """``x`` as a tf value: tensors and variables pass through; NumPy values keep their dtype; Python
    floats become ``floatx()`` and Python ints int32 (int64 when they do not fit)."""
    if isinstance(x, TENSORS):
        return x
    if isinstance(x, (np.ndarray, np.generic)):
        return tf.convert_to_tensor(x)
    converted = tf.convert_to_tensor(x)
    if converted.dtype is tf.float32 and config._floatx != "float32":
        converted = tf.convert_to_tensor(x, DTYPES[config._floatx])
    return converted


def tensor_of(x, dtype):
    """``x`` as a tensor of dtype name ``dtype``; non-tensors go through NumPy so nothing is rounded twice."""
    if isinstance(x, TENSORS):
        return x if x.dtype.name == dtype else R.Cast(x=x, DstT=DTYPES[dtype])
    return tf.constant(np.asarray(x, dtype=numpy_dtype(dtype)))


_INT32S = {}


def int32s(values):
    """A constant int32 tensor of the tuple ``values`` (axes, shapes, permutations), made once and reused:
    converting a Python tuple costs more than most small ops."""
    constant = _INT32S.get(values)
    if constant is None:
        with tf.init_scope():
            constant = tf.constant(values, tf.int32)
        if len(_INT32S) < 4096:
            _INT32S[values] = constant
    return constant


_ALL_AXES = {}


def all_axes(rank):
    """The axes ``0 .. rank - 1`` as a cached int32 constant."""
    axes = _ALL_AXES.get(rank)
    if axes is None:
        axes = _ALL_AXES[rank] = int32s(tuple(range(rank)))
    return axes


_FLOATS = frozenset((tf.float16, tf.bfloat16, tf.float32, tf.float64))
#: Canonical dtype name → tf.DType: raw ops parse a dtype given as a string on every call (~60 µs).
DTYPES = {name: tf.as_dtype(name) for name in NAMES}


def is_float(dtype):
    return dtype is tf.float32 or dtype in _FLOATS


def _sparse_from_scipy(value, dtype):
    coo = value.tocoo()
    indices = np.stack([coo.row, coo.col], axis=1).astype(np.int64)
    return tf.SparseTensor(indices, coo.data.astype(numpy_dtype(dtype)), coo.shape)


def uid_name(name, prefix):
    return name if name is not None else f"{prefix}_{config.get_uid(prefix)}"


def is_sparse(tensor):
    return isinstance(tensor, tf.SparseTensor)


# tensorflow: a tf.SparseTensor densifies; a list becomes a tensor
def to_dense(tensor):
    if isinstance(tensor, tf.SparseTensor):
        return tf.sparse.to_dense(tensor)
    if isinstance(tensor, (list, tuple)):
        return globals()["tensor"](tensor)
    return tensor


# tensorflow: a tf.Variable subclass; a scipy sparse value becomes a tf.SparseTensor
def variable(value, dtype=None, name=None, constraint=None):
    if is_scipy_sparse(value):
        return _sparse_from_scipy(value, dtype)
    if isinstance(value, tf.Variable):
        value = value.read_value()
    return Variable(tensor_of(value, dtype), name=uid_name(name, "variable"), constraint=constraint)


def is_variable(x):
    return isinstance(x, tf.Variable)


# tensorflow: a variable's current value is read first; one element broadcasts to shape
def constant(value, dtype=None, shape=None, name=None):
    if isinstance(value, tf.Variable):
        value = value.read_value()
    result = tensor_of(value, dtype)
    if shape is not None:
        shape = tuple(shape)
        if result.shape.num_elements() == 1:
            result = tf.broadcast_to(tf.reshape(result, ()), shape)
        else:
            result = tf.reshape(result, shape)
    return result


def is_tensor(x):
    return isinstance(x, (tf.Tensor, tf.Variable, tf.SparseTensor))


is_keras_tensor, is_placeholder = keras_tensor_ops(is_tensor)


# tensorflow: a SparseTensor's dense_shape; int32 as in Keras 2
def shape(x):
    if isinstance(x, tf.SparseTensor):
        return R.Cast(x=x.dense_shape, DstT=tf.int32)
    return R.Shape(input=x, out_type=tf.int32)


# tensorflow: TensorShape's known dims (None where unknown, None for an unknown rank)
def int_shape(x):
    try:
        return tuple(x.shape.as_list())
    except AttributeError:
        return tuple(np.shape(x))
    except ValueError:  # unknown rank
        return None


def ndim(x):
    try:
        return x.shape.rank
    except AttributeError:
        return np.ndim(x)


def size(x, name=None):
    return R.Size(input=x, out_type=tf.int32)


def dtype(x):
    try:
        return canonical_dtype(x.dtype)
    except AttributeError:
        return canonical_dtype(python_array(x).dtype)  # Python values take Keras 2's types


# tensorflow: a SparseTensor densified first
def eval(x):
    if isinstance(x, tf.SparseTensor):
        x = tf.sparse.to_dense(x)
    try:
        return x.numpy()
    except AttributeError:
        return np.asarray(x)


# Shape entries may be tensors (``K.shape(x)[0]``), graph tensors inside a function: kept as given.
zeros, ones, eye = filled_ops(lambda kind, shape, dtype: getattr(tf, kind)(shape, DTYPES[dtype]),
                              lambda rows, cols, dtype: tf.eye(rows, cols, dtype=DTYPES[dtype]),
                              lambda value, name: Variable(value, name=uid_name(name, "variable")), dims=tuple)


def zeros_like(x, dtype=None, name=None):
    if dtype is None:
        return R.ZerosLike(x=x)
    return tf.zeros_like(x, DTYPES[dtype])


def ones_like(x, dtype=None, name=None):
    if dtype is None:
        return R.OnesLike(x=x)
    return tf.ones_like(x, DTYPES[dtype])


def identity(x, name=None):
    return R.Identity(input=x)


def count_params(x):
    return np.prod(int_shape(x), dtype=np.int64)


# tensorflow: a non-tensor converts straight to the dtype (not through floatx)
def cast(x, dtype):
    if isinstance(x, TENSORS):
        return R.Cast(x=x, DstT=DTYPES[dtype])
    return tf.constant(np.asarray(x, dtype=numpy_dtype(dtype)))


def _like(x, value):
    """``value`` in the dtype and shape of variable ``x`` (tf's assign ops refuse another dtype, and
    another shape where NumPy and torch broadcast)."""
    value = value if isinstance(value, TENSORS) else tensor(value)
    if value.dtype is not x.dtype:
        value = R.Cast(x=value, DstT=x.dtype)
    if value.shape != x.shape:
        value = tf.broadcast_to(value, x.shape)
    return value


# tensorflow: assign ops, the value cast and broadcast to the variable first (every update op)
def update(x, new_x):
    x.assign(_like(x, new_x), read_value=False)
    return x


def update_add(x, increment):
    x.assign_add(_like(x, increment), read_value=False)
    return x


def update_sub(x, decrement):
    x.assign_sub(_like(x, decrement), read_value=False)
    return x


# tensorflow: one assign_sub on the held value (not the recorded operators)
def moving_average_update(x, value, momentum):
    keep = 1 - momentum
    keep = tf.constant(keep, x.dtype) if isinstance(keep, (int, float)) else _like(x, tensor(keep))
    x.assign_sub((x.value() - _like(x, value)) * keep, read_value=False)  # not x's recorded operators
    return x


# tensorflow: assign from a NumPy value of the variable's dtype
def set_value(x, value):
    x.assign(np.asarray(value, dtype=x.dtype.as_numpy_dtype), read_value=False)


def batch_set_value(tuples):
    for x, value in tuples:
        set_value(x, value)
