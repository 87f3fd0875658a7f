"""Variables, constants, tensor introspection and value I/O."""

import numpy as np

from .. import config
from .._dispatch import (ArgError, active_backend, dtype_or_floatx, dtype_or_none, new_shape, new_shape_or_none, op,
                         symbolic)
from ..dtypes import canonical_dtype, from_python, numpy_dtype
from ..sparse import ENGINES_WITH_SPARSE, SparseTensor, is_scipy_sparse
from .checks import readable
from .variable import Variable


def _array(x):
    """A NumPy view of a reference-backend value (variables unwrap; array-likes convert)."""
    if x.__class__ is np.ndarray:
        return x
    if x.__class__ is Variable:
        return x.value
    return from_python(x)  # Python values take Keras 2's types (floatx, int32)


def _array_as(value, dtype):
    """A new array of ``value`` in ``dtype``; Python numbers and lists convert straight to it (not
    through floatx, which would round a float64 constant)."""
    if isinstance(value, (int, float, list, tuple)):
        return np.array(value, dtype=numpy_dtype(dtype))
    return np.array(_array(value), dtype=numpy_dtype(dtype))


def _name(name, prefix):
    return name if name is not None else f"{prefix}_{config.get_uid(prefix)}"


def engine_keeps_sparse():
    """True when the engine in force has sparse tensors of its own (the ``sparse=`` rules then leave
    sparse values to it)."""
    return active_backend().name in ENGINES_WITH_SPARSE


def _sparse_is_sparse(tensor):
    return NotImplemented if engine_keeps_sparse() or tensor.__class__ in (list, tuple) else True


@op(sparse=_sparse_is_sparse)
def is_sparse(tensor):
    """Return True if ``tensor`` is a sparse tensor: a :class:`kbackend.sparse.SparseTensor` (what
    ``K.variable`` makes of a SciPy sparse matrix) or a SciPy sparse matrix, or TensorFlow's own.

    Args:
        tensor: Tensor or variable.

    >>> import numpy as np, kbackend as K
    >>> K.is_sparse(np.zeros((2, 2)))
    False
    """
    return tensor.__class__ is SparseTensor or is_scipy_sparse(tensor)


def _sparse_to_dense(tensor):
    """The engine's dense tensor of a sparse value."""
    if engine_keeps_sparse() or tensor.__class__ in (list, tuple):
        return NotImplemented
    dense = np.asarray(tensor) if tensor.__class__ is SparseTensor else tensor.toarray()
    return active_backend().constant(dense, canonical_dtype(dense.dtype), None, None)


@op(sparse=_sparse_to_dense)
def to_dense(tensor):
    """Return a dense version of ``tensor``; dense tensors pass through unchanged.

    Args:
        tensor: Tensor or variable.

    >>> import numpy as np, kbackend as K
    >>> K.to_dense(np.eye(2)).shape
    (2, 2)
    """
    if is_scipy_sparse(tensor):
        return tensor.toarray()
    if isinstance(tensor, (list, tuple)):
        return _array(tensor)  # a Python list becomes a tensor (Keras 2's types), as on every engine
    return tensor


def _sparse_variable(value, dtype=None, name=None, constraint=None):
    """A 2-D SciPy sparse value stays sparse: a :class:`kbackend.sparse.SparseTensor` holding a copy in
    ``dtype``, as Keras 2's Theano backend kept a sparse variable (a constant: optimizers do not train
    it).  Other ranks become dense variables."""
    matrix = value.matrix if value.__class__ is SparseTensor else value
    if engine_keeps_sparse() or value.__class__ in (list, tuple) or len(matrix.shape) != 2:
        return NotImplemented
    return SparseTensor(matrix.astype(numpy_dtype(dtype)))


@op(dtype=dtype_or_floatx, sparse=_sparse_variable)
def variable(value, dtype=None, name=None, constraint=None):
    """Create a trainable variable holding a copy of ``value`` (dtype defaults to ``floatx()``).

    Args:
        value: The initial value: a tensor, NumPy array, Python number or nested list.  A 2-D SciPy
            sparse matrix gives a sparse tensor (:mod:`kbackend.sparse`), which optimizers do not train.
        constraint: A projection applied after optimizer updates (stored on the variable), or None.

    >>> import kbackend as K
    >>> v = K.variable([[1, 2], [3, 4]], name='w')
    >>> K.dtype(v), K.int_shape(v), float(K.get_value(v).sum())
    ('float32', (2, 2), 10.0)
    """
    if is_scipy_sparse(value):
        value = value.toarray()
    array = _array_as(value, dtype)
    return Variable(array, _name(name, "variable"), constraint)


@op
def is_variable(x):
    """Return True if ``x`` is a variable created by :func:`variable`.

    >>> import kbackend as K
    >>> K.is_variable(K.variable(1.0)), K.is_variable(K.constant(1.0))
    (True, False)
    """
    return x.__class__ is Variable


@op(dtype=dtype_or_floatx, shape=new_shape_or_none)
def constant(value, dtype=None, shape=None, name=None):
    """Create a constant tensor from ``value``; a scalar with ``shape`` fills that shape.

    Args:
        value: A number, list, NumPy array or tensor (broadcast to ``shape`` when given).

    >>> import kbackend as K
    >>> K.eval(K.constant(2.0, shape=(2, 2)))
    array([[2., 2.],
           [2., 2.]], dtype=float32)
    """
    array = _array_as(value, dtype)
    if shape is not None:
        shape = tuple(shape)
        array = np.broadcast_to(array, shape).copy() if array.size == 1 else array.reshape(shape)
    return array


@op
def is_tensor(x):
    """Return True if ``x`` is a tensor or variable of the active backend.

    A NumPy array is data, never a tensor, on every engine (Keras 2's ``fit`` tells its inputs from
    symbolic tensors this way); on NumPy the variables are the tensors.

    >>> import numpy as np, kbackend as K
    >>> K.is_tensor(np.zeros(2)), K.is_tensor(K.variable([1, 2])), K.is_tensor([1, 2])
    (False, True, False)
    """
    return isinstance(x, Variable)


@op
def is_keras_tensor(x):
    """Return True if ``x`` is the output of a Keras layer (carries ``_keras_history``).

    Raises ``ValueError`` when ``x`` is not a tensor at all.

    >>> import kbackend as K
    >>> K.is_keras_tensor(K.variable([1.0]))
    False
    """
    if not isinstance(x, Variable):  # an ndarray is data, as `is_tensor` says
        raise ValueError(
            f"is_keras_tensor: argument `x` got {type(x).__name__}; expected a tensor or variable"
        )
    return hasattr(x, "_keras_history")


@op
def is_placeholder(x):
    """Return True if ``x`` is a placeholder created by :func:`placeholder`.

    >>> import numpy as np, kbackend as K
    >>> K.is_placeholder(np.zeros(2))
    False
    """
    return bool(getattr(x, "_is_placeholder", False))


@op
def shape(x):
    """Return the shape of ``x`` as an int32 tensor (usable when dims are only known at run time).

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.shape(np.zeros((2, 3))))
    array([2, 3], dtype=int32)
    """
    return np.array(np.shape(x), dtype=np.int32)


@op(check=readable("int_shape"))
def int_shape(x):
    """Return the static shape of ``x`` as a tuple of ints (None for unknown dims).

    >>> import numpy as np, kbackend as K
    >>> K.int_shape(np.zeros((2, 3)))
    (2, 3)
    """
    return tuple(np.shape(x))


@op(check=readable("ndim"))
def ndim(x):
    """Return the rank of ``x`` as an int.

    >>> import numpy as np, kbackend as K
    >>> K.ndim(np.zeros((2, 3)))
    2
    """
    return len(np.shape(x))


@op(check=readable("size"))
def size(x, name=None):
    """Return the number of elements of ``x`` as an int32 scalar tensor.

    >>> import numpy as np, kbackend as K
    >>> int(K.eval(K.size(np.zeros((2, 3)))))
    6
    """
    return np.array(np.size(x), dtype=np.int32)


@op(check=readable("dtype"))
def dtype(x):
    """Return the dtype of ``x`` as a string such as ``'float32'``.

    >>> import kbackend as K
    >>> K.dtype(K.variable(1.0, dtype='float64'))
    'float64'
    """
    return canonical_dtype(_array(x).dtype)


@op(check=readable("eval"))
def eval(x):
    """Return the value of ``x`` as a NumPy array.

    >>> import kbackend as K
    >>> K.eval(K.variable([1.0, 2.0]))
    array([1., 2.], dtype=float32)
    """
    if x.__class__ is Variable:
        return x.value.copy()
    return np.asarray(x)


def _filled(fill, shape, dtype, name):
    array = fill(tuple(shape) if not isinstance(shape, int) else (shape,), dtype=numpy_dtype(dtype))
    if all(d for d in array.shape):
        return Variable(array, _name(name, "variable"))
    return array


@op(dtype=dtype_or_floatx, shape=new_shape)
def zeros(shape, dtype=None, name=None):
    """Return an all-zeros variable of ``shape`` (a plain tensor when a dimension is 0).

    >>> import kbackend as K
    >>> float(K.eval(K.zeros((2, 3))).sum()), K.dtype(K.zeros((2, 3)))
    (0.0, 'float32')
    """
    return _filled(np.zeros, shape, dtype, name)


@op(dtype=dtype_or_floatx, shape=new_shape)
def ones(shape, dtype=None, name=None):
    """Return an all-ones variable of ``shape`` (a plain tensor when a dimension is 0).

    >>> import kbackend as K
    >>> float(K.eval(K.ones((2, 3))).sum())
    6.0
    """
    return _filled(np.ones, shape, dtype, name)


def _eye_size(size):
    """``n`` or ``(n, m)`` → ``(n, m)``, checked like every new shape."""
    dims = new_shape(size)
    if dims.__class__ is tuple and len(dims) == 1 and not isinstance(size, (tuple, list)):
        dims = dims * 2
    if dims.__class__ is not tuple or len(dims) != 2:
        raise ArgError("an int n or a pair (n, m) of non-negative ints", TypeError)
    return dims


@op(dtype=dtype_or_floatx, size=_eye_size)
def eye(size, dtype=None, name=None):
    """Return an identity-matrix variable; ``size`` is ``n`` or ``(n, m)``.

    Args:
        size: An int (or an int tensor).

    >>> import kbackend as K
    >>> K.eval(K.eye(2))
    array([[1., 0.],
           [0., 1.]], dtype=float32)
    """
    rows, cols = (size, size) if np.ndim(size) == 0 else tuple(size)
    return Variable(np.eye(int(rows), int(cols), dtype=numpy_dtype(dtype)), _name(name, "variable"))


@op(dtype=dtype_or_none)
def zeros_like(x, dtype=None, name=None):
    """Return zeros with the shape of ``x`` and, unless ``dtype`` is given, its dtype.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.zeros_like(np.ones((2, 2), dtype='int32')))
    array([[0, 0],
           [0, 0]], dtype=int32)
    """
    array = _array(x)
    return np.zeros(array.shape, dtype=array.dtype if dtype is None else numpy_dtype(dtype))


@op(dtype=dtype_or_none)
def ones_like(x, dtype=None, name=None):
    """Return ones with the shape of ``x`` and, unless ``dtype`` is given, its dtype.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.ones_like(np.zeros(3, dtype='float64')))
    array([1., 1., 1.])
    """
    array = _array(x)
    return np.ones(array.shape, dtype=array.dtype if dtype is None else numpy_dtype(dtype))


@op
def identity(x, name=None):
    """Return a new tensor with the content of ``x``.

    >>> import kbackend as K
    >>> K.eval(K.identity(K.variable([1.0])))
    array([1.], dtype=float32)
    """
    return _array(x).copy()


def _seed(seed):
    return np.random.randint(10e8) if seed is None else seed


@op(dtype=dtype_or_floatx, shape=new_shape)
def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """Return a variable drawn from the uniform distribution on [low, high).

    Args:
        low: The lower bound of the uniform distribution.
        high: The upper bound of the uniform distribution.

    >>> import kbackend as K
    >>> v = K.random_uniform_variable((100,), -1.0, 1.0, seed=1)
    >>> bool(-1 <= K.eval(v).min() and K.eval(v).max() < 1)
    True
    """
    values = np.random.default_rng(_seed(seed)).uniform(low, high, size=tuple(shape))
    return Variable(values.astype(numpy_dtype(dtype)), _name(name, "variable"))


@op(dtype=dtype_or_floatx, shape=new_shape)
def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """Return a variable drawn from the normal distribution N(mean, scale).

    Args:
        mean: The mean (a tensor or a number).
        scale: The standard deviation of the normal distribution.

    >>> import kbackend as K
    >>> K.int_shape(K.random_normal_variable((2, 3), 0.0, 1.0, seed=1))
    (2, 3)
    """
    values = np.random.default_rng(_seed(seed)).normal(mean, scale, size=tuple(shape))
    return Variable(values.astype(numpy_dtype(dtype)), _name(name, "variable"))


@op
def count_params(x):
    """Return the number of scalars in ``x``.

    >>> import kbackend as K
    >>> int(K.count_params(K.zeros((2, 3))))
    6
    """
    return np.prod(int_shape(x), dtype=np.int64)


@op(dtype=dtype_or_floatx)
def cast(x, dtype):
    """Return a new tensor with the values of ``x`` converted to ``dtype``; ``x`` is unchanged.

    Float to int conversion truncates toward zero.

    >>> import numpy as np, kbackend as K
    >>> x = np.array([1.7, -1.7], dtype='float32')
    >>> K.cast(x, 'int32'), x.dtype
    (array([ 1, -1], dtype=int32), dtype('float32'))
    """
    return _array_as(x, dtype)


def _variable_check(func):
    """The check of an op whose ``x`` must be a variable of a loaded engine (its updates act in place)."""

    def check(x, *others):
        if x.__class__ not in symbolic.variable_types:
            raise TypeError(f"{func}: argument `x` got {type(x).__name__}; expected a variable (K.variable)")

    check.__name__ = f"check_{func}"
    return check


@op(check=_variable_check("update"))
def update(x, new_x):
    """Assign ``new_x`` to the variable ``x`` and return ``x``.

    Args:
        x: A variable (``K.variable``).
        new_x: The value to assign (or add) to ``x``.

    >>> import kbackend as K
    >>> v = K.variable([1.0, 2.0]); _ = K.update(v, [3.0, 4.0]); K.get_value(v)
    array([3., 4.], dtype=float32)
    """
    return x.assign(_array(new_x))


@op(check=_variable_check("update_add"))
def update_add(x, increment):
    """Add ``increment`` to the variable ``x`` in place and return ``x``.

    Args:
        x: A variable (``K.variable``).
        increment: The value added to ``x``.

    >>> import kbackend as K
    >>> v = K.variable([1.0]); _ = K.update_add(v, [2.0]); K.get_value(v)
    array([3.], dtype=float32)
    """
    return x.assign(x.value + _array(increment))


@op(check=_variable_check("update_sub"))
def update_sub(x, decrement):
    """Subtract ``decrement`` from the variable ``x`` in place and return ``x``.

    Args:
        x: A variable (``K.variable``).
        decrement: The value subtracted from ``x``.

    >>> import kbackend as K
    >>> v = K.variable([1.0]); _ = K.update_sub(v, [2.0]); K.get_value(v)
    array([-1.], dtype=float32)
    """
    return x.assign(x.value - _array(decrement))


@op(check=_variable_check("moving_average_update"))
def moving_average_update(x, value, momentum):
    """Update ``x := x * momentum + value * (1 - momentum)`` in place and return ``x``.

    Args:
        x: A variable (``K.variable``).
        value: The new observation the average moves towards.
        momentum: The moving-average momentum (a float in [0, 1]).

    >>> import kbackend as K
    >>> v = K.variable([1.0]); _ = K.moving_average_update(v, [3.0], 0.75); K.get_value(v)
    array([1.5], dtype=float32)
    """
    return x.assign(x.value - (x.value - _array(value)) * (1 - momentum))


@op(composite=True)
def get_value(x):
    """Return the value of variable ``x`` as a NumPy array (a copy).

    Args:
        x: A variable (or any tensor).

    >>> import kbackend as K
    >>> K.get_value(K.variable([1.0]))
    array([1.], dtype=float32)
    """
    return eval(x)


@op(composite=True)
def batch_get_value(ops):
    """Return the values of a list of tensors/variables as NumPy arrays.

    Args:
        ops: A list of tensors or variables.

    >>> import kbackend as K
    >>> [a.tolist() for a in K.batch_get_value([K.variable([1.0]), K.variable([2.0])])]
    [[1.0], [2.0]]
    """
    return [eval(x) for x in ops]


@op(check=_variable_check("set_value"))
def set_value(x, value):
    """Load ``value`` (cast to the variable's dtype) into variable ``x``.

    Args:
        x: A variable (``K.variable``).
        value: The value: a tensor, NumPy array, Python number or nested list.

    >>> import kbackend as K
    >>> v = K.variable([1.0, 2.0]); K.set_value(v, [5, 6]); K.get_value(v)
    array([5., 6.], dtype=float32)
    """
    array = np.asarray(value, dtype=x.value.dtype)
    if array.shape == x.value.shape:
        x.value[...] = array
    else:
        x.value = array.copy()


@op
def batch_set_value(tuples):
    """Load several values at once: ``tuples`` is a list of ``(variable, value)`` pairs.

    Args:
        tuples: A list of ``(variable, value)`` pairs.

    >>> import kbackend as K
    >>> v = K.variable([1.0]); K.batch_set_value([(v, [7.0])]); K.get_value(v)
    array([7.], dtype=float32)
    """
    for x, value in tuples:
        set_value(x, value)


def get_variable_shape(x):
    """Legacy alias of :func:`int_shape`.

    Args:
        x: Tensor, variable, NumPy array or Python number.

    Raises:
        ValueError: as :func:`int_shape`, whose name the message starts with.
    """
    return int_shape(x)
