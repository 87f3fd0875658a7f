"""What Keras 2.3.1's engine, layers, optimizers and metrics need from a backend, op by op, on every engine.

``tests/test_keras2.py`` trains whole Keras models; these are the pieces, each checked against NumPy
or Keras 2's documented behaviour.
"""

import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS

pytestmark = pytest.mark.parametrize("backend", BACKENDS)


@pytest.fixture(autouse=True)
def _fresh_session():
    yield
    K.clear_session()


def test_placeholders_and_variables_carry_keras_attributes(backend):
    with K.backend_scope(backend):
        x = K.placeholder((None, 3))
        v = K.variable(np.zeros((2, 4)))
        assert x._keras_shape == (None, 3) and x._uses_learning_phase is False
        assert v._keras_shape == (2, 4) and v._uses_learning_phase is False
        y = x * 2.0
        y._keras_shape, y._keras_history = (None, 3), ("layer", 0, 0)  # Keras sets these on outputs
        assert K.is_keras_tensor(y) and not K.is_keras_tensor(x)


def test_numpy_data_is_not_a_tensor(backend):
    with K.backend_scope(backend):
        assert not K.is_tensor(np.zeros(2))
        assert K.is_tensor(K.variable([1.0])) and K.is_tensor(K.placeholder((2,)))


def test_variables_are_named_inside_name_scopes(backend):
    with K.backend_scope(backend):
        with K.name_scope("dense_1"):
            v = K.variable([1.0], name="kernel")
        assert v.name.startswith("dense_1/kernel")


def test_in_train_phase_traces_callables_and_tags_the_result(backend):
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    with K.backend_scope(backend):
        x = K.placeholder((None, 3))
        y = K.in_train_phase(lambda: x * 2.0, lambda: x)
        assert y._uses_learning_phase and K.int_shape(y) == (None, 3) and K.dtype(y) == "float32"
        f = K.function([x, K.learning_phase()], [y])
        np.testing.assert_allclose(f([data, 1])[0], data * 2)
        np.testing.assert_allclose(f([data, 0])[0], data)
        picked = K.switch(K.greater(K.sum(x), 0.0), lambda: x - 1.0, lambda: x + 1.0)
        np.testing.assert_allclose(K.function([x], [picked])([data])[0], data - 1)


def test_a_metric_reads_its_state_after_this_batch_update(backend):
    """Keras 2's Mean metric: update_add on total and count inside control_dependencies, then
    total / count; a function returning that result sees this call's updates (TF1 semantics)."""
    with K.backend_scope(backend):
        total, count = K.variable(0.0), K.variable(0.0)
        x = K.placeholder((None,))
        updates = [K.update_add(total, K.sum(x)), K.update_add(count, K.cast(K.size(x), "float32"))]
        with K.control_dependencies(updates):
            result = total / count
        f = K.function([x], [result], updates=updates)
        assert f([np.array([1.0, 3.0], np.float32)])[0] == pytest.approx(2.0)
        assert f([np.array([8.0], np.float32)])[0] == pytest.approx(4.0)
        assert K.get_value(count) == pytest.approx(3.0), "each update applied exactly once per call"


def test_operators_take_numpy_operands_and_negative_steps(backend):
    """Keras 2's regularizers compute ``cast_to_floatx(l2) * K.square(w)``; layers reverse with
    ``x[..., ::-1]``."""
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    with K.backend_scope(backend):
        x = K.placeholder((None, 3, 4))
        w = K.variable(np.ones((2, 2)))
        penalty = np.asarray(0.01, dtype=np.float32) * K.sum(K.square(w))
        outputs = [x[..., ::-1], x[:, ::-2, 1], x[1, 3:0:-1], penalty]
        got = K.function([x], outputs)([data])
        for value, expected in zip(got, [data[..., ::-1], data[:, ::-2, 1], data[1, 3:0:-1]]):
            np.testing.assert_array_equal(value, expected)
        assert got[3] == pytest.approx(0.04) and got[3].dtype == np.float32


def test_cast_of_python_scalars(backend):
    with K.backend_scope(backend):
        assert K.eval(K.cast(1.0, "float32")).dtype == np.float32
        assert K.eval(K.cast(3, "float64")) == 3.0


def test_print_tensor_prints_when_the_function_runs(backend, capsys):
    with K.backend_scope(backend):
        x = K.placeholder((None, 2))
        f = K.function([x], [K.print_tensor(x * 2.0, message="value: ")])
        assert capsys.readouterr().out == ""
        f([np.ones((1, 2), np.float32)])
        assert capsys.readouterr().out.strip() == "value: [[2. 2.]]"


def test_transposed_convolution_output_shape_from_k_shape(backend):
    """Keras 2's Conv2DTranspose computes every entry of output_shape from K.shape(inputs)."""
    data = np.random.default_rng(0).standard_normal((2, 4, 4, 3)).astype(np.float32)
    kernel = np.random.default_rng(1).standard_normal((3, 3, 5, 3)).astype(np.float32)
    with K.backend_scope(backend):
        x = K.placeholder((None, 4, 4, 3))
        shape = K.shape(x)
        out = K.conv2d_transpose(x, K.constant(kernel), (shape[0], shape[1] * 2, shape[2] * 2, 5),
                                 strides=(2, 2), padding="same")
        assert K.int_shape(out) == (None, 8, 8, 5)
        got = K.function([x], [out])([data])[0]
    with K.backend_scope("numpy"):
        expected = K.eval(K.conv2d_transpose(data, kernel, (2, 8, 8, 5), strides=(2, 2), padding="same"))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_rnn_over_unknown_time_with_a_composite_holding_engine_constants(backend):
    """Keras 2's ConvLSTM2D: a step calling ``K.hard_sigmoid``, whose body multiplies by a K.constant
    of the engine.  Recording the loop over an unknown time runs the traced step on NumPy stand-ins,
    where that constant must be read as an array; the loop then computes what the known-time one does."""
    rng = np.random.default_rng(5)
    sequence = rng.standard_normal((2, 4, 3)).astype(np.float32)
    start = rng.standard_normal((3, 3)).astype(np.float32)

    def build(time):
        x = K.placeholder((None, time, 3))
        kernel = K.variable(start)

        def step(x_t, states):
            out = K.hard_sigmoid(K.dot(x_t, kernel) + states[0])
            return out, [out]

        last, outputs, _ = K.rnn(step, x, [K.zeros_like(x[:, 0])])
        return K.function([x], [last, outputs] + K.gradients(K.sum(outputs), [kernel]))

    with K.backend_scope(backend):
        for got, want in zip(build(None)([sequence]), build(4)([sequence])):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_rnn_over_unknown_time_reads_the_phase_and_differentiates_through_it(backend):
    """A step reading a phase-chosen mask (Keras 2's LSTM dropout): the output is tagged for Keras, and
    the gradients through the loop (the NumPy rules included) are those of the same loop unrolled."""
    rng = np.random.default_rng(3)
    sequence = rng.standard_normal((2, 4, 3)).astype(np.float32)
    start = rng.standard_normal((3, 3)).astype(np.float32)

    def build(time):
        x = K.placeholder((None, time, 3))
        kernel = K.variable(start)
        mask = K.in_train_phase(lambda: K.ones_like(x[:, 0]) * 0.5, lambda: K.ones_like(x[:, 0]))

        def step(x_t, states):
            out = K.tanh(K.dot(x_t * mask, kernel) + states[0])
            return out, [out]

        last, outputs, _ = K.rnn(step, x, [K.zeros_like(x[:, 0])])
        loss = K.sum(last) + K.sum(K.square(outputs))
        return last, K.function([x, K.learning_phase()], [loss] + K.gradients(loss, [kernel, x]))

    with K.backend_scope(backend):
        last, unknown = build(None)
        assert last._uses_learning_phase
        _, known = build(4)
        for phase in (0, 1):
            for got, want in zip(unknown([sequence, phase]), known([sequence, phase])):
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
