"""Variables, constants, tensor introspection and value I/O on PyTensor.

Eager values on this engine are NumPy arrays, so the reference bodies answer for them; the functions
here add what a shared variable or a traced graph variable needs.
"""

import numpy as np

import pytensor.tensor as pt

from ... import config
from ..._dispatch import OPS
from ...dtypes import canonical_dtype, numpy_dtype
from ...ops.array_bodies import keras_tensor_ops
from ...sparse import is_scipy_sparse
from .arrays import Variable, as_type as _cast, concrete, evaluate_graph, is_graph, new_variable, pt_dtype, to_pt


def _name(name, prefix):
    return name if name is not None else f"{prefix}_{config.get_uid(prefix)}"


def _reference(name):
    return OPS[name].reference


# pytensor: a shared variable holding the value
def variable(value, dtype=None, name=None, constraint=None):
    if is_scipy_sparse(value):
        value = value.toarray()
    return new_variable(np.array(concrete(value), dtype=numpy_dtype(dtype)), _name(name, "variable"), constraint)


def is_variable(x):
    return x.__class__ is Variable


# pytensor: a traced graph value is cast and shaped in the graph; otherwise the reference
def constant(value, dtype=None, shape=None, name=None):
    if is_graph(value):  # traced: a graph value made constant-shaped
        out = _cast(value, pt_dtype(dtype))
        return out if shape is None else pt.broadcast_to(out, tuple(shape)) if _size(out) == 1 else out.reshape(shape)
    return _reference("constant")(concrete(value), dtype, shape, name)


def _size(x):
    return int(np.prod(x.type.shape)) if None not in x.type.shape else None


def feed(value, dtype):
    """A value fed to ``K.function`` as an array of the placeholder's dtype (no copy when it is one)."""
    return np.asarray(concrete(value), dtype=numpy_dtype(dtype))


def is_tensor(x):
    # a NumPy array is data, never a tensor (as on the NumPy engine): eager results are arrays
    return is_graph(x)


is_keras_tensor, is_placeholder = keras_tensor_ops(is_tensor)


def is_sparse(tensor):
    return is_scipy_sparse(tensor)


def to_dense(tensor):
    if is_sparse(tensor):
        return tensor.toarray()
    return tensor


# pytensor: a graph value's shape is a graph value; a concrete one is NumPy
def shape(x):
    if is_graph(x) and x.__class__ is not Variable:
        return _cast(pt.shape(x), "int32")
    return np.array(np.shape(concrete(x)), dtype=np.int32)


# pytensor: a graph value's static shape (None where unknown)
def int_shape(x):
    if is_graph(x) and x.__class__ is not Variable:
        return tuple(x.type.shape)
    return tuple(np.shape(concrete(x)))


def ndim(x):
    if is_graph(x):
        return x.type.ndim
    return np.ndim(x)


# pytensor: as shape
def size(x, name=None):
    if is_graph(x) and x.__class__ is not Variable:
        return _cast(pt.prod(pt.shape(x)), "int32")
    return np.array(np.size(concrete(x)), dtype=np.int32)


def dtype(x):
    if is_graph(x):
        return canonical_dtype(x.dtype)
    return canonical_dtype(np.asarray(x).dtype if not hasattr(x, "dtype") else x.dtype)


# pytensor: a graph value is compiled and run
def eval(x):
    if x.__class__ is Variable:
        return x.get_value()
    if is_graph(x):
        return evaluate_graph(x)
    return np.asarray(x)


def _wrapped(value):
    return new_variable(value.value, value.name) if OPS["is_variable"].reference(value) else value


def _filled(fill, name, shape, dtype, label):
    entries = shape if isinstance(shape, (list, tuple)) else None
    if entries is not None and any(is_graph(d) for d in entries):  # traced: a shape read from a tensor
        return fill([to_pt(d).reshape(()) if is_graph(d) else d for d in entries], dtype=pt_dtype(dtype))
    return _wrapped(_reference(name)(shape, dtype, label))


# pytensor: a shape holding graph scalars builds pt.zeros; otherwise the reference's value, shared (zeros, ones)
def zeros(shape, dtype=None, name=None):
    return _filled(pt.zeros, "zeros", shape, dtype, name)


def ones(shape, dtype=None, name=None):
    return _filled(pt.ones, "ones", shape, dtype, name)


def eye(size, dtype=None, name=None):
    return _wrapped(_reference("eye")(concrete(size), dtype, name))


def zeros_like(x, dtype=None, name=None):
    x = to_pt(x)
    return pt.zeros_like(x, dtype=x.dtype if dtype is None else pt_dtype(dtype))


def ones_like(x, dtype=None, name=None):
    x = to_pt(x)
    return pt.ones_like(x, dtype=x.dtype if dtype is None else pt_dtype(dtype))


def identity(x, name=None):
    return pt.identity(to_pt(x)) if hasattr(pt, "identity") else to_pt(x).copy()


# pytensor: the reference's values in a shared variable (both random variables)
def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    return _wrapped(_reference("random_uniform_variable")(shape, low, high, dtype, name, seed))


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    return _wrapped(_reference("random_normal_variable")(shape, mean, scale, dtype, name, seed))


# pytensor: int_shape reads a graph value's static shape
def count_params(x):
    return np.prod(int_shape(x), dtype=np.int64)


def cast(x, dtype):
    return _cast(to_pt(x), pt_dtype(dtype))


def _assign(x, value):
    current = x.get_value(borrow=True)
    value = np.asarray(concrete(value), dtype=current.dtype)
    if value.shape != current.shape:
        value = np.broadcast_to(value, current.shape)
    x.set_value(np.array(value))
    return x


# pytensor: the shared variable's value is set (every update op)
def update(x, new_x):
    return _assign(x, new_x)


def update_add(x, increment):
    return _assign(x, x.get_value(borrow=True) + concrete(increment))


def update_sub(x, decrement):
    return _assign(x, x.get_value(borrow=True) - concrete(decrement))


def moving_average_update(x, value, momentum):
    current = x.get_value(borrow=True)
    return _assign(x, current - (current - concrete(value)) * (1 - concrete(momentum)))


def set_value(x, value):
    current = x.get_value(borrow=True)
    x.set_value(np.array(concrete(value), dtype=current.dtype))


def batch_set_value(tuples):
    for x, value in tuples:
        set_value(x, value)


#: Ops that act on the values or the variable objects themselves: never compiled.
DIRECT = frozenset(
    """variable is_variable constant is_tensor is_keras_tensor is_placeholder is_sparse to_dense shape int_shape
    ndim size dtype eval zeros ones eye random_uniform_variable random_normal_variable count_params update
    update_add update_sub moving_average_update set_value batch_set_value switch rnn map_fn
    foldl foldr""".split()
)
