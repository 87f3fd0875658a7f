"""Sparse values on every engine, as Keras 2 kept them: ``K.variable`` of a SciPy sparse matrix is sparse,
``K.concatenate`` of sparse tensors stays sparse, and ``K.dot``, ``K.to_dense`` and ``K.eval`` give dense
values (Keras 2.3.1's backend tests ``test_sparse_dot`` and ``test_sparse_concat``)."""

import numpy as np
import pytest
import scipy.sparse

import kbackend as K
from conftest import BACKENDS
from kbackend.sparse import SparseTensor

pytestmark = pytest.mark.parametrize("backend", BACKENDS)


def _matrix():
    values = np.array([0, 7, 2, 3], dtype=np.float64)
    rows, cols = np.array([0, 2, 2, 3]), np.array([4, 3, 2, 3])
    return scipy.sparse.csr_matrix((values, (rows, cols)), shape=(4, 5))


def test_variable_of_a_sparse_matrix_is_sparse(backend):
    matrix = _matrix()
    with K.backend_scope(backend):
        x = K.variable(matrix)
        assert K.is_sparse(x)
        assert (K.int_shape(x), K.ndim(x), K.dtype(x)) == ((4, 5), 2, K.floatx())
        assert not K.is_sparse(K.variable(matrix.toarray()))
        assert not K.is_sparse(K.constant(np.eye(2)))
        dense = K.to_dense(x)
        assert not K.is_sparse(dense) and K.is_tensor(dense) == K.is_tensor(K.constant(np.eye(2)))
        np.testing.assert_array_equal(K.eval(dense), matrix.toarray().astype(np.float32))
        np.testing.assert_array_equal(K.eval(x), matrix.toarray().astype(np.float32))
        assert K.dtype(K.variable(matrix, dtype="float64")) == "float64"
    matrix.data[:] = 9.0  # the variable holds a copy
    with K.backend_scope(backend):
        assert K.eval(x)[2, 3] == 7.0


def test_sparse_dot_is_the_dense_dot(backend):
    matrix, weights = _matrix(), np.random.default_rng(0).random((5, 4))
    with K.backend_scope(backend):
        got = K.eval(K.dot(K.variable(matrix), K.variable(weights)))
        expected = K.eval(K.dot(K.variable(matrix.toarray()), K.variable(weights)))
    assert got.shape == expected.shape == (4, 4)
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("axis,shape", [(-1, (4, 10)), (1, (4, 10)), (0, (8, 5)), (-2, (8, 5))])
def test_concatenating_sparse_tensors_stays_sparse(backend, axis, shape):
    matrix = _matrix()
    with K.backend_scope(backend):
        joined = K.concatenate([K.variable(matrix), K.variable(2 * matrix)], axis=axis)
        assert K.is_sparse(joined) and K.int_shape(joined) == shape
        np.testing.assert_array_equal(K.eval(joined), np.concatenate([matrix.toarray(), 2 * matrix.toarray()],
                                                                     axis=axis))


def test_concatenating_sparse_with_dense_is_dense(backend):
    matrix = _matrix()
    with K.backend_scope(backend):
        mixed = K.concatenate([K.variable(matrix), K.variable(np.ones((4, 2)))])
        assert not K.is_sparse(mixed)
        np.testing.assert_array_equal(K.eval(mixed), np.concatenate([matrix.toarray(), np.ones((4, 2))], -1))


def test_sparse_tensor_in_a_graph(backend):
    """A sparse variable read by a graph (Keras 2's fixed sparse input to a layer) computes densely."""
    matrix, weights = _matrix(), np.random.default_rng(1).random((5, 3)).astype(np.float32)
    with K.backend_scope(backend):
        sparse = K.variable(matrix)
        x = K.placeholder((None, 3))
        y = x * K.sum(K.dot(sparse, K.constant(weights)), axis=0)
        got = K.function([x], [y])([np.ones((2, 3), np.float32)])[0]
    expected = np.ones((2, 3)) * (matrix.toarray() @ weights).sum(axis=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_sparse_tensor_reads_as_its_array(backend):
    tensor = SparseTensor(_matrix())
    assert np.asarray(tensor).shape == (4, 5) and np.asarray(tensor, dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="SparseTensor: argument `matrix`"):
        SparseTensor(np.eye(2))
