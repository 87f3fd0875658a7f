"""The symbolic layer: placeholders, K.function, K.gradients, updates and the learning phase."""

import re

import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request):
    with K.backend_scope(request.param):
        yield request.param


def test_placeholder_reads_like_keras():
    x = K.placeholder((2, 3), dtype="float32")
    assert re.fullmatch(r"Placeholder_\d+:0", x.name)
    assert K.int_shape(x) == (2, 3) and K.dtype(x) == "float32"
    assert repr(x) == f"<kbackend.SymbolicTensor '{x.name}' shape=(2, 3) dtype=float32>"
    y = K.cast(x, dtype="float16")
    assert re.fullmatch(r"Cast_\d+:0", y.name)
    assert K.dtype(y) == "float16" and K.dtype(x) == "float32"
    assert K.is_placeholder(x) and not K.is_placeholder(y)
    assert K.is_tensor(x) and not K.is_keras_tensor(x)


def test_placeholder_ndim_and_unknown_dims():
    x = K.placeholder(ndim=3)
    assert K.int_shape(x) == (None, None, None) and K.ndim(x) == 3
    y = K.placeholder((None, 4))
    z = K.reshape(K.dot(y, K.ones((4, 6))), (-1, 2, 3))
    assert K.int_shape(z) == (None, 2, 3)
    assert K.int_shape(K.sum(z, axis=0)) == (2, 3)
    with pytest.raises(ValueError, match="placeholder"):
        K.placeholder()


def test_function_evaluates(backend):
    x = K.placeholder((None, 3))
    y = K.placeholder((None, 3))
    out = K.sum(x * y + 1.0, axis=1)
    f = K.function([x, y], [out, K.square(x)])
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.ones((2, 3), dtype=np.float32)
    total, square = f([a, b])
    np.testing.assert_allclose(total, (a * b + 1).sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(square, a ** 2, rtol=1e-6)
    assert isinstance(total, np.ndarray)
    total, _ = f([a[:1], b[:1]])  # a new batch size
    assert total.shape == (1,)


def test_function_updates_and_shared_variables(backend):
    x = K.placeholder((2,))
    v = K.variable([1.0, 1.0])
    step = K.function([x], [K.sum(v * x)], updates=[K.update_add(v, x)])
    read = K.function([x], [v * 1.0 + x * 0.0])
    first, = step([np.array([1.0, 2.0], np.float32)])
    assert first == pytest.approx(3.0)  # outputs use the values before the update
    np.testing.assert_allclose(K.get_value(v), [2.0, 3.0])
    np.testing.assert_allclose(read([np.zeros(2, np.float32)])[0], [2.0, 3.0])


def test_update_expression_reads_variables_at_call_time(backend):
    x = K.placeholder(())
    m = K.variable(1.0)
    momentum = K.variable(0.5)
    f = K.function([x], [m], updates=[(m, momentum * m + x)])
    f([np.float32(1.0)])
    f([np.float32(1.0)])
    assert float(K.get_value(m)) == pytest.approx(1.75)  # 0.5 * 1 + 1, then 0.5 * 1.5 + 1


def test_gradients_of_a_small_network(backend):
    rng = np.random.default_rng(0)
    x_value = rng.standard_normal((5, 4)).astype(np.float32)
    w_value = rng.standard_normal((4, 3)).astype(np.float32)
    x = K.placeholder((None, 4))
    w = K.variable(w_value)
    b = K.variable(np.zeros(3, np.float32))
    loss = K.mean(K.square(K.tanh(K.dot(x, w) + b)))
    gw, gb, gx = K.gradients(loss, [w, b, x])
    values = K.function([x], [gw, gb, gx])([x_value])

    def numpy_loss(xv, wv, bv):
        return np.mean(np.tanh(xv @ wv + bv) ** 2)

    def finite(f, value, eps=1e-3):
        grad = np.zeros_like(value, dtype=np.float64)
        for index in np.ndindex(value.shape):
            up, down = value.astype(np.float64).copy(), value.astype(np.float64).copy()
            up[index] += eps
            down[index] -= eps
            grad[index] = (f(up) - f(down)) / (2 * eps)
        return grad

    expected = [finite(lambda v: numpy_loss(x_value, v, 0.0), w_value),
                finite(lambda v: numpy_loss(x_value, w_value, v), np.zeros(3)),
                finite(lambda v: numpy_loss(v, w_value, 0.0), x_value)]
    for got, want in zip(values, expected):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


def test_gradients_need_a_symbolic_loss():
    with pytest.raises(TypeError, match="gradients: argument `loss`"):
        K.gradients(K.constant(1.0), [K.variable(1.0)])


def test_stop_gradient(backend):
    x = K.placeholder((3,))
    w = K.variable([1.0, 2.0, 3.0])
    loss = K.sum(K.stop_gradient(w * x) + w * x)
    g, = K.gradients(loss, [w])
    np.testing.assert_allclose(K.function([x], [g])([np.ones(3, np.float32)])[0], [1.0, 1.0, 1.0])


def test_training_lowers_the_loss(backend):
    rng = np.random.default_rng(1)
    data = rng.standard_normal((32, 3)).astype(np.float32)
    target = data @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    x, y = K.placeholder((None, 3)), K.placeholder((None, 1))
    w = K.variable(np.zeros((3, 1), np.float32))
    loss = K.mean(K.square(K.dot(x, w) - y))
    g, = K.gradients(loss, [w])
    step = K.function([x, y], [loss], updates=[(w, w - 0.1 * g)])
    losses = [float(step([data, target])[0]) for _ in range(50)]
    assert losses[-1] < 0.01 * losses[0]
    np.testing.assert_allclose(K.get_value(w).ravel(), [1.0, -2.0, 0.5], atol=0.05)


def test_learning_phase_is_fed(backend):
    x = K.placeholder((4,))
    out = K.in_train_phase(x * 2.0, x * 3.0)
    f = K.function([x, K.learning_phase()], [out])
    ones = np.ones(4, np.float32)
    np.testing.assert_allclose(f([ones, 1])[0], 2.0 * ones)
    np.testing.assert_allclose(f([ones, 0])[0], 3.0 * ones)
    g = K.function([x], [out])  # not fed: test phase
    np.testing.assert_allclose(g([ones])[0], 3.0 * ones)


def test_dropout_is_off_at_inference_through_in_train_phase(backend):
    """Keras 2's Dropout layer writes ``K.in_train_phase(dropped, inputs)``; ``K.dropout`` itself always
    drops, whatever the learning phase (only ``in_train_phase`` reads it)."""
    x = K.placeholder((1000,))
    f = K.function([x, K.learning_phase()], [K.in_train_phase(K.dropout(x, 0.5, seed=1), x)])
    ones = np.ones(1000, np.float32)
    np.testing.assert_allclose(f([ones, 0])[0], ones)
    trained = f([ones, 1])[0]
    assert set(np.unique(trained).tolist()) <= {0.0, 2.0}
    assert 0.4 < (trained == 0).mean() < 0.6
    for always in (K.function([x, K.learning_phase()], [K.dropout(x, 0.5, seed=2)])([ones, 0])[0],
                   K.eval(K.dropout(K.variable(ones), 0.5, seed=3))):
        assert set(np.unique(always).tolist()) <= {0.0, 2.0}
        assert 0.4 < (always == 0).mean() < 0.6


def test_eval_of_a_graph_without_placeholders(backend):
    v = K.variable([1.0, 2.0])
    K.placeholder((1,))  # graphs exist: expressions over variables are recorded
    doubled = v * 2.0
    np.testing.assert_allclose(K.eval(doubled), [2.0, 4.0])
    K.set_value(v, [3.0, 4.0])
    np.testing.assert_allclose(K.eval(doubled), [6.0, 8.0])


def test_function_errors():
    x = K.placeholder((2,))
    y = K.placeholder((2,))
    with pytest.raises(ValueError, match="invalid argument"):
        K.function([x], [x * 2], fetches=[])
    with pytest.raises(ValueError, match="not among `inputs`"):
        K.function([x], [x + y])
    f = K.function([x], [x * 2])
    with pytest.raises(ValueError, match="expected 1 input values, got 2"):
        f([np.ones(2), np.ones(2)])
    with pytest.raises(TypeError, match="function: argument `updates`"):
        K.function([x], [x], updates=[3])


def test_name_scope():
    with K.name_scope("block"):
        x = K.placeholder((2,))
    assert x.name.startswith("block/Placeholder_")


def test_dropout_mask_changes_between_steps(backend):
    x = K.placeholder((500,))
    f = K.function([x], [K.dropout(x, 0.5, seed=3)])
    ones = np.ones(500, np.float32)
    first, second = f([ones])[0], f([ones])[0]
    assert not np.array_equal(first, second)
    g = K.function([x], [K.dropout(x, 0.5, seed=3)])
    np.testing.assert_array_equal(g([ones])[0], first)  # the same seed replays the same sequence


def test_outputs_are_read_before_the_updates(backend):
    """Outputs that are the variable, or views of its storage, keep the values read in this call."""
    v = K.variable([1.0, 2.0])
    x = K.placeholder((2,))
    f = K.function([x], [v, K.identity(v), K.reshape(v, (2, 1)), v * 1.0], updates=[(v, v + x)])
    ones = np.ones(2, np.float32)
    for expected in ([1.0, 2.0], [2.0, 3.0]):
        for out in f([ones]):
            np.testing.assert_allclose(np.ravel(out), expected)
    np.testing.assert_allclose(K.get_value(v), [3.0, 4.0])


UPDATE_KINDS = {  # how the update is written → the variable after two steps from `start` by `amount`
    "v - e": (lambda v, e: (v, v - e), lambda start, amount: start - 2 * amount),
    "v + e": (lambda v, e: (v, v + e), lambda start, amount: start + 2 * amount),
    "e + v": (lambda v, e: (v, e + v), lambda start, amount: start + 2 * amount),
    "update_add": (lambda v, e: K.update_add(v, e), lambda start, amount: start + 2 * amount),
    "update_sub": (lambda v, e: K.update_sub(v, e), lambda start, amount: start - 2 * amount),
    "assign": (lambda v, e: (v, e * 1.0), lambda start, amount: amount),
    "e - v": (lambda v, e: (v, e - v), lambda start, amount: start),
    "v - 0.5 * e": (lambda v, e: (v, v - 0.5 * e), lambda start, amount: start - amount),
    "v + e * 2": (lambda v, e: (v, v + e * 2), lambda start, amount: start + 4 * amount),
    "v - 0.5 * variable": (lambda v, e: (v, v - 0.5 * K.variable([[1.0, 2.0], [3.0, 4.0]])),
                           lambda start, amount: start - np.array([[1.0, 2.0], [3.0, 4.0]])),
}


@pytest.mark.parametrize("kind", UPDATE_KINDS)
def test_update_kinds_agree_with_numpy(backend, kind):
    """Steps of the form v ± e are applied in place by the engines; the result is what NumPy computes."""
    make, expected = UPDATE_KINDS[kind]
    start = np.array([[1.0, -2.0], [0.5, 4.0]], np.float32)
    amount = np.array([[0.25, 1.0], [-3.0, 2.0]], np.float32)
    v = K.variable(start)
    e = K.placeholder((2, 2))
    f = K.function([e], [K.sum(v)], updates=[make(v, e)])
    assert float(f([amount])[0]) == pytest.approx(float(start.sum()))
    f([amount])
    np.testing.assert_allclose(K.get_value(v), expected(start, amount), rtol=1e-6)


def test_update_with_a_scalar_broadcasts(backend):
    v = K.variable([1.0, 2.0, 3.0])
    x = K.placeholder(())
    f = K.function([x], [], updates=[K.update_add(v, x)])
    f([np.float32(0.5)])
    np.testing.assert_allclose(K.get_value(v), [1.5, 2.5, 3.5])
    decrement = K.update_sub(v, 1.0)  # graph mode: an update op, applied when run
    np.testing.assert_allclose(K.get_value(v), [1.5, 2.5, 3.5])
    np.testing.assert_allclose(K.eval(decrement), [0.5, 1.5, 2.5])
    np.testing.assert_allclose(K.get_value(v), [0.5, 1.5, 2.5])


def test_feeds_are_checked_and_never_aliased(backend):
    x = K.placeholder((None, 3))
    f = K.function([x], [K.identity(x), x * 2.0])
    with pytest.raises(ValueError, match=r"function: input .* of shape \(None, 3\) got a value of shape \(2, 4\)"):
        f([np.ones((2, 4), np.float32)])
    a = np.ones((2, 3), np.float32)
    same, doubled = f([a])
    assert not np.shares_memory(same, a)
    same[0, 0] = 5.0
    assert a[0, 0] == 1.0 and doubled[0, 0] == 2.0


def test_gradients_of_several_losses_and_targets(backend):
    """Gradient nodes of one loss share a backward pass; another loss gets its own."""
    x = K.placeholder((None, 2))
    w = K.variable([[1.0], [2.0]])
    b = K.variable([0.5])
    hidden = K.dot(x, w) + b
    first = K.sum(K.square(hidden))
    second = K.sum(hidden * 3.0)
    gw, gb, gx = K.gradients(first, [w, b, x])
    hw, hh = K.gradients(second, [w, hidden])
    data = np.array([[1.0, -1.0], [2.0, 0.5]], np.float32)
    out = K.function([x], [gw, gb, gx, hw, hh])([data])
    h = data @ np.array([[1.0], [2.0]]) + 0.5
    np.testing.assert_allclose(out[0], data.T @ (2 * h), rtol=1e-6)
    np.testing.assert_allclose(out[1], (2 * h).sum(0), rtol=1e-6)
    np.testing.assert_allclose(out[2], 2 * h @ np.array([[1.0, 2.0]]), rtol=1e-6)
    np.testing.assert_allclose(out[3], data.T @ np.full((2, 1), 3.0), rtol=1e-6)
    np.testing.assert_allclose(out[4], np.full((2, 1), 3.0), rtol=1e-6)


def test_replaying_on_one_thread_leaves_recording_on_others(backend):
    """A function replaying its graph executes ops on its own thread only; another thread that builds
    a graph at the same time still records."""
    import threading

    from kbackend._dispatch import symbolic

    x = K.placeholder((2,))
    v = K.variable([1.0, 2.0])
    built = {}
    with symbolic.suspended():
        executed = v * 2.0
        # the worker builds a graph (it uses x first), so its ops on variables record too
        worker = threading.Thread(target=lambda: built.update(total=K.sum(x), scaled=v * 2.0))
        worker.start()
        worker.join()
    np.testing.assert_allclose(K.eval(executed), [2.0, 4.0])
    assert type(built["scaled"]).__name__ == "SymbolicTensor"
    assert type(built["total"]).__name__ == "SymbolicTensor"
    assert type(v * 2.0).__name__ == "SymbolicTensor"  # recording again here too


def test_gradients_of_gradients(backend):
    """Second order through the engines' autodiff; the NumPy rules are first order only (a clear error)."""
    x = K.placeholder((3,))
    w = K.variable([1.0, 2.0, 3.0])
    g, = K.gradients(K.sum(w * w * w * x), [w])  # 3 w² x
    h, = K.gradients(K.sum(g * x), [w])  # 6 w x²
    hx, = K.gradients(K.sum(g), [x])  # 3 w²
    if backend == "numpy":
        with pytest.raises(NotImplementedError, match="gradients of gradients"):
            K.function([x], [h])([np.ones(3, np.float32)])
        return
    got = K.function([x], [g, h, hx])([np.array([1.0, 2.0, 1.0], np.float32)])
    w_, x_ = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 1.0])
    for value, want in zip(got, (3 * w_ ** 2 * x_, 6 * w_ * x_ ** 2, 3 * w_ ** 2)):
        np.testing.assert_allclose(value, want, rtol=1e-6)


def test_shapes_stay_unknown_through_strides_and_pools():
    """A fully convolutional net on unknown image sides: strided and pooled sizes stay None (small
    probe sizes would collapse to the same value and look static)."""
    x = K.placeholder((None, None, None, 3))
    y = K.conv2d(x, K.ones((3, 3, 3, 4)), strides=(2, 2), padding="same")
    y = K.pool2d(y, (2, 2), strides=(2, 2), padding="same")
    y = K.spatial_2d_padding(K.resize_images(y, 2, 2, "channels_last"), ((1, 1), (1, 1)))
    assert K.int_shape(y) == (None, None, None, 4)
    z = K.placeholder((None, 8, 8, 3))
    strided = K.conv2d(z, K.ones((3, 3, 3, 4)), strides=(2, 2), padding="same")
    assert K.int_shape(K.pool2d(strided, (2, 2), strides=(2, 2))) == (None, 2, 2, 4)
    out = K.function([x], [y])([np.ones((1, 8, 8, 3), np.float32)])[0]
    assert out.shape == (1, 6, 6, 4)


def test_switch_with_callable_branches_in_a_graph(backend):
    x = K.placeholder((2,))
    condition = K.placeholder((), dtype="bool")
    f = K.function([x, condition], [K.switch(condition, lambda: x * 2.0, lambda: x)])
    ones = np.ones(2, np.float32)
    np.testing.assert_array_equal(f([ones, True])[0], [2.0, 2.0])
    np.testing.assert_array_equal(f([ones, False])[0], [1.0, 1.0])
    rows = K.placeholder((2,), dtype="bool")
    g = K.function([x, rows], [K.switch(rows, lambda: x * 2.0, lambda: -x)])
    np.testing.assert_array_equal(g([ones, np.array([True, False])])[0], [2.0, -1.0])


def test_ctc_batch_cost_reads_in_graph_mode(backend):
    """Once graphs exist, the CTC loss over a variable is recorded and K.eval reads it (TensorFlow too)."""
    rng = np.random.default_rng(0)
    y_pred = rng.random((2, 5, 4)).astype(np.float32)
    y_pred /= y_pred.sum(-1, keepdims=True)
    labels, lengths, label_lengths = np.array([[1, 2], [2, 1]]), np.array([[5], [5]]), np.array([[2], [2]])
    with K.backend_scope("numpy"):
        expected = K.ctc_batch_cost(labels, y_pred, lengths, label_lengths)
    K.placeholder((1,))
    got = K.eval(K.ctc_batch_cost(labels, K.variable(y_pred), lengths, label_lengths))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    # every argument a variable: the lengths are graph values when the engine runs, not known up front
    got = K.eval(K.ctc_batch_cost(K.variable(labels, dtype="int32"), K.variable(y_pred),
                                  K.variable(lengths, dtype="int32"), K.variable(label_lengths, dtype="int32")))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    p = K.placeholder((2, 5, 4))
    f = K.function([p], [K.ctc_batch_cost(labels, p, lengths, label_lengths)])
    np.testing.assert_allclose(f([y_pred])[0], expected, rtol=1e-5)


def test_learning_phase_scope():
    """Keras 2's ``K.learning_phase_scope(value)`` sets the phase and restores the previous one."""
    K.clear_session()  # no graph: an unset phase reads 0
    assert K.learning_phase() == 0
    with K.learning_phase_scope(1):
        assert K.learning_phase() == 1
        assert K.in_train_phase("train", "test") == "train"
        with K.learning_phase_scope(0):
            assert K.learning_phase() == 0
        assert K.learning_phase() == 1
    assert K.learning_phase() == 0
    K.set_learning_phase(1)
    with pytest.raises(RuntimeError):
        with K.learning_phase_scope(0):
            raise RuntimeError("inside")
    assert K.learning_phase() == 1
    with pytest.raises(ValueError, match="^learning_phase_scope: argument `value` got 2; expected 0 or 1"):
        with K.learning_phase_scope(2):
            pass


def test_the_graph_walker_keeps_namedtuples():
    """One walker over nested arguments: namedtuples are walked like tuples and rebuilt as their type."""
    from collections import namedtuple

    from kbackend.graph.node import leaves, map_structure

    Pair = namedtuple("Pair", "a b")
    value = [Pair(1, (2, {"k": 3})), 4]
    assert list(leaves(value)) == [1, 2, 3, 4]
    doubled = map_structure(lambda v: v * 2, value)
    assert doubled == [Pair(2, (4, {"k": 6})), 8]
    assert type(doubled[0]) is Pair


def test_an_array_multiplied_in_place_by_a_graph_tensor_records_the_product(backend):
    # Keras 2's recurrent cells do `h *= dropout_mask` where h is an eager state and the mask a graph tensor.
    x = K.placeholder((None, 3))
    state = np.full((2, 3), 2.0, dtype="float32")
    product = state
    product *= x
    assert K.is_tensor(product) and K.int_shape(product) == (2, 3)
    compare = np.ones((2, 3), "float32") < x
    fed = np.array([[1, 2, 3], [4, 5, 6]], "float32")
    out, less = K.function([x], [product, compare])([fed])
    np.testing.assert_allclose(out, 2.0 * fed)
    np.testing.assert_array_equal(less, np.ones((2, 3)) < fed)
    np.testing.assert_array_equal(state, np.full((2, 3), 2.0))  # the array itself is untouched


def test_a_variable_made_from_a_graph_tensor_is_a_variable(backend):
    # Keras's identity initializer returns `gain * K.eye(n)`: a graph tensor once the thread builds graphs.
    x = K.placeholder((None, 3))
    v = K.variable(2.0 * K.eye((3, 3)))
    assert K.is_variable(v)
    np.testing.assert_allclose(K.get_value(v), 2.0 * np.eye(3))
    step = K.function([x], [K.sum(K.dot(x, v))], updates=[K.update_add(v, K.ones((3, 3)))])
    step([np.ones((1, 3), "float32")])
    np.testing.assert_allclose(K.get_value(v), 2.0 * np.eye(3) + 1.0)
    with pytest.raises(ValueError, match=r"^variable: argument `value` got .*placeholder"):
        K.variable(x * 2.0)


def test_is_keras_tensor_refuses_data_on_every_engine(backend):
    with pytest.raises(ValueError, match=r"^is_keras_tensor: argument `x` got ndarray"):
        K.is_keras_tensor(np.array([1, 2]))
    assert not K.is_keras_tensor(K.variable([1.0]))
    assert not K.is_keras_tensor(K.placeholder((2,)))


def test_repeat_elements_over_an_unknown_axis_keeps_its_keras_shape(backend):
    x = K.placeholder((2, None, 3))
    y = K.repeat_elements(x, 3, axis=1)
    assert y._keras_shape == (2, None, 3) == K.int_shape(y)
    out = K.function([x], [y])([np.arange(12, dtype="float32").reshape(2, 2, 3)])[0]
    np.testing.assert_array_equal(out, np.repeat(np.arange(12).reshape(2, 2, 3), 3, axis=1))


def test_map_fn_over_eager_elements_reading_a_variable_in_a_graph(backend):
    # Keras 2's backend test: the function indexes a variable, which records graph tensors once the thread
    # builds graphs, while the elements (K.arange) are eager.
    x = np.arange(30, dtype="float32").reshape(10, 3)
    vx = K.variable(x)
    K.placeholder((None, 3))
    by_row = K.eval(K.map_fn(K.sum, vx))
    by_index = K.eval(K.map_fn(lambda i: K.sum(vx[i]), K.arange(10), dtype=K.floatx()))
    np.testing.assert_allclose(by_row, x.sum(axis=1))
    np.testing.assert_allclose(by_index, x.sum(axis=1))
    total = K.eval(K.foldl(lambda acc, i: acc + K.sum(vx[i]), K.arange(10), initializer=K.constant(0.0)))
    np.testing.assert_allclose(total, x.sum())


@pytest.mark.parametrize("argument,error", [
    (dict(shape="ab"), TypeError), (dict(shape=(2, -3)), ValueError), (dict(shape=(2.5,)), TypeError),
    (dict(shape=(True,)), TypeError), (dict(ndim="x"), TypeError), (dict(ndim=-1), ValueError),
])
def test_placeholder_refuses_bad_shapes_by_name(argument, error):
    name = next(iter(argument))
    with pytest.raises(error, match=rf"^placeholder: argument `{name}` got "):
        K.placeholder(**argument)
    assert K.int_shape(K.placeholder(shape=(np.int64(2), None))) == (2, None)
    assert K.int_shape(K.placeholder(shape=np.array([2, 3]))) == (2, 3)


def test_ops_reading_x_refuse_arbitrary_objects(backend):
    for op in (K.int_shape, K.ndim, K.dtype, K.eval, K.size):
        with pytest.raises(TypeError, match=rf"^{op.__name__}: argument `x` got object; expected a tensor"):
            op(object())
    assert K.int_shape([[1, 2]]) == (1, 2) and K.ndim(3.0) == 0


def test_control_dependencies_wants_a_list():
    with pytest.raises(TypeError, match=r"^control_dependencies: argument `control_inputs` got 3"):
        K.control_dependencies(3)
    with K.control_dependencies(None):
        pass


def test_unknown_dims_stay_unknown_through_shape_arithmetic(backend):
    """Keras 2's TimeDistributed on unknown sizes: reshapes by entries of ``K.shape``.  A reshape with
    -1 beside a zero-size entry fails on the empty probe, so the ops after it need other probe sizes
    than the ones before it stopped at; every value one op reads must still come from the same size
    (a mix of sizes made these reshapes fail, or made an unknown dim look static)."""
    ints = K.placeholder((None, None, None), dtype="int32")
    flat = K.reshape(ints, (-1, K.shape(ints)[2]))
    assert K.int_shape(flat) == (None, None)
    table = np.arange(30, dtype=np.float32).reshape(5, 6)
    embedded = K.gather(K.variable(table), flat)
    out = K.reshape(embedded, (-1, K.shape(ints)[1], K.shape(embedded)[1], 6))
    assert K.int_shape(out) == (None, None, None, 6)
    x = K.placeholder((None, None, 4))
    masked = K.reshape(x, (-1, 4)) * 2.0
    y = K.reshape(K.dot(masked, K.ones((4, 5))), (-1, K.shape(x)[1], 5))
    assert K.int_shape(y) == (None, None, 5)
    known = K.placeholder((5, 3))  # its K.shape entries are the same at every probe size
    pairs = K.reshape(K.placeholder((None, 6)), (-1, K.shape(known)[1]))
    assert K.int_shape(pairs) == (None, 3)
    data = np.arange(60, dtype=np.int32).reshape(5, 3, 4) % 5
    np.testing.assert_array_equal(K.function([ints], [out])([data])[0], table[data])
    values = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    want = np.repeat((values * 2.0).sum(axis=-1, keepdims=True), 5, axis=-1)
    np.testing.assert_allclose(K.function([x], [y])([values])[0], want, rtol=1e-6)


def test_an_op_that_takes_one_size_only_pins_the_unknown_dims(backend):
    """Keras 2's Dropout(noise_shape=[3, 1]) on a (None, 2) input: the dropout runs at batch 3 only,
    so its shape is (3, 2), and its loss against a target whose dims are all unknown (which meets it
    at no batch size of its own) keeps that shape."""
    x = K.placeholder((None, 2))
    target = K.placeholder((None, None))
    dropped = K.dropout(x, 0.5, noise_shape=(3, 1), seed=1)
    assert K.int_shape(dropped) == (3, 2)
    error = dropped - target
    assert K.int_shape(error) == (3, 2)
    values = np.arange(1, 7, dtype=np.float32).reshape(3, 2)
    got = K.function([x, target], [error])([values, np.ones((3, 2), np.float32)])[0] + 1.0
    kept = got != 0
    assert (kept == kept[:, :1]).all()  # one mask entry per row
    np.testing.assert_allclose(got[kept], 2.0 * values[kept], rtol=1e-6)


def test_random_draws_shaped_by_a_graph_shape(backend):
    """Keras 2's GaussianNoise and GaussianDropout draw ``K.random_normal(K.shape(x))``: the draw
    takes the fed batch's shape (its size comes from the shape's values, unknown until run)."""
    x = K.placeholder((None, 2, 3))
    noisy = x + K.random_normal(K.shape(x), stddev=0.5, seed=3)
    drawn = K.random_uniform(K.shape(x)[:2], seed=4)
    got, uniform = K.function([x], [noisy, drawn])([np.ones((400, 2, 3), np.float32)])
    assert got.shape == (400, 2, 3) and uniform.shape == (400, 2)
    assert abs(np.std(got - 1.0) - 0.5) < 0.05 and abs(np.mean(got - 1.0)) < 0.05
    assert ((uniform >= 0.0) & (uniform < 1.0)).all() and abs(np.mean(uniform) - 0.5) < 0.05




def test_an_update_listed_twice_runs_once(backend):
    """Keras 2 lists a shared model's updates once per call of it that a new model owns: the same
    update op twice, which runs once per call (TensorFlow fetches an op once)."""
    x = K.placeholder((None, 2))
    counter = K.variable(0.0)
    step = K.update_add(counter, 1.0)
    mean = K.variable(np.zeros(2, np.float32))
    moving = K.moving_average_update(mean, K.mean(x, axis=0), 0.5)
    f = K.function([x], [K.sum(x)], updates=[step, moving, step, moving])
    f([np.ones((3, 2), np.float32)])
    f([np.ones((3, 2), np.float32)])
    assert K.get_value(counter) == 2.0
    np.testing.assert_allclose(K.get_value(mean), [0.75, 0.75], rtol=1e-6)


def test_a_loss_whose_batch_a_fixed_input_pins_records(backend):
    # Keras 2: an RNN given a fixed-size initial state has a batch of 2, the targets an unknown one; the
    # loss runs at no probe size but 2, and the ops after it (a cast, a mean) still record.
    y_true = K.placeholder((None, 5))
    y_pred = K.placeholder((2, 5))
    loss = -K.sum(y_true * K.log(y_pred), axis=-1)
    assert K.int_shape(loss) == (2,)
    total = K.mean(K.cast(loss, "float32"))
    target, prediction = np.eye(5, dtype="float32")[:2], np.full((2, 5), 0.2, "float32")
    np.testing.assert_allclose(K.function([y_true, y_pred], [total])([target, prediction])[0], -np.log(0.2),
                               rtol=1e-6)
