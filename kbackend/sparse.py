"""Sparse tensors on the engines that have none of their own.

Keras 2 kept a SciPy sparse matrix given to ``K.variable`` sparse where its backend could (Theano's
sparse variables, TensorFlow's ``SparseTensor``): ``K.is_sparse`` is then True, ``K.concatenate`` of
sparse tensors stays sparse, and ``K.dot``, ``K.to_dense`` and ``K.eval`` give dense values.  TensorFlow
keeps its own ``tf.SparseTensor``; on NumPy, torch, JAX and PyTensor the value is a :class:`SparseTensor`
holding the SciPy matrix.  Every op that does not treat it as sparse reads it as the dense array it
stands for (``__array__``), which is what Keras 2's Theano backend computed for them too.
"""

import numpy as np

#: Engines whose variables hold SciPy sparse matrices as sparse tensors of the engine itself.
ENGINES_WITH_SPARSE = frozenset({"tensorflow"})


class SparseTensor:
    """A 2-D sparse tensor held as a SciPy CSR matrix (``.matrix``).

    >>> import numpy as np, scipy.sparse, kbackend as K
    >>> x = K.variable(scipy.sparse.eye(3, format='csr'))
    >>> K.is_sparse(x), K.int_shape(x), K.dtype(x)
    (True, (3, 3), 'float32')
    >>> K.eval(K.dot(x, np.ones((3, 1), 'float32'))).ravel().tolist()
    [1.0, 1.0, 1.0]
    """

    __slots__ = ("matrix",)

    def __init__(self, matrix):
        if not is_scipy_sparse(matrix) or len(matrix.shape) != 2:
            raise TypeError(f"SparseTensor: argument `matrix` got {type(matrix).__name__}; expected a 2-D SciPy "
                            "sparse matrix")
        self.matrix = matrix.tocsr()

    @property
    def shape(self):
        return tuple(int(d) for d in self.matrix.shape)

    @property
    def dtype(self):
        return self.matrix.dtype

    @property
    def ndim(self):
        return 2

    def __array__(self, dtype=None, copy=None):
        dense = self.matrix.toarray()
        return dense if dtype is None else dense.astype(dtype, copy=False)

    def __repr__(self):
        return f"<kbackend.SparseTensor shape={self.shape} dtype={self.dtype} stored={self.matrix.nnz}>"


def is_scipy_sparse(value):
    """True for a SciPy sparse matrix or array."""
    return type(value).__module__.startswith("scipy.sparse")


def holds_sparse(value):
    """True when ``value`` (or an entry of a list or tuple of them) is a SciPy sparse matrix or a
    :class:`SparseTensor`."""
    if value.__class__ in (list, tuple):
        return any(holds_sparse(v) for v in value)
    return value.__class__ is SparseTensor or is_scipy_sparse(value)


def joined(matrices, axis):
    """SciPy sparse 2-D ``matrices`` joined along ``axis`` (0 or -2: rows; 1 or -1: columns)."""
    import scipy.sparse  # present wherever sparse values are: NumPy stays kbackend's only dependency

    return SparseTensor((scipy.sparse.vstack if axis in (0, -2) else scipy.sparse.hstack)(matrices))
