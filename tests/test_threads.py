"""Threads: one thread's graph building never changes what another thread's eager calls do.

Graph mode is per thread: a thread builds graphs once it creates a placeholder (or passes a symbolic
tensor to an op), and only there do ops on variables record instead of running.
"""

import threading

import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS
from kbackend.graph import is_symbolic


@pytest.fixture(autouse=True)
def _fresh_session():
    K.clear_session()
    yield
    K.clear_session()


def _in_thread(fn):
    """Run ``fn`` in a new thread; return its result (re-raising its exception)."""
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001  (re-raised in the caller)
            box["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_updates_in_an_eager_thread_all_apply_while_another_builds(backend):
    with K.backend_scope(backend):
        counter = K.variable(0.0)
    built, finished = threading.Event(), threading.Event()
    seen = {}

    def builder():
        with K.backend_scope(backend):
            x = K.placeholder((None, 2))
            seen["builder"] = is_symbolic(K.relu(x * counter))
            built.set()
            finished.wait(60)

    def eager_worker():
        built.wait(60)
        with K.backend_scope(backend):
            for _ in range(100):
                K.update_add(counter, 1.0)
            seen["relu"] = K.relu(counter)
        finished.set()

    threads = [threading.Thread(target=builder), threading.Thread(target=eager_worker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert seen["builder"] is True
    assert not is_symbolic(seen["relu"])
    with K.backend_scope(backend):
        assert float(K.get_value(counter)) == 100.0
        assert float(K.eval(seen["relu"])) == 100.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_main_thread_stays_eager_while_a_worker_builds(backend):
    with K.backend_scope(backend):
        v = K.variable([1.0, -2.0])
        _in_thread(lambda: K.placeholder((2,)))
        assert not is_symbolic(K.relu(v))
        K.update_add(v, [1.0, 1.0])
        np.testing.assert_allclose(K.get_value(v), [2.0, -1.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_symbolic_tensor_from_another_thread_records(backend):
    with K.backend_scope(backend):
        x = K.placeholder((2,))
        v = K.variable([1.0, 2.0])

        def worker():
            with K.backend_scope(backend):
                y = K.relu(x) + v  # a symbolic argument records, and the thread now builds graphs
                step = K.update_add(v, y)
                return y, step

        y, step = _in_thread(worker)
        assert is_symbolic(y) and is_symbolic(step)
        f = K.function([x], [y], updates=[step])
        np.testing.assert_allclose(f([np.array([3.0, -4.0], dtype="float32")])[0], [4.0, 2.0])
        np.testing.assert_allclose(K.get_value(v), [5.0, 4.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_main_thread_graph_mode_and_clear_session(backend):
    with K.backend_scope(backend):
        v = K.variable(0.0)
        K.placeholder((1,))
        step = K.update_add(v, 1.0)  # the Keras 2 way: an update op, applied by a function
        assert is_symbolic(step)
        f = K.function([], [], updates=[step])
        for _ in range(3):
            f([])
        assert float(K.get_value(v)) == 3.0
        def eager_update():
            with K.backend_scope(backend):
                return is_symbolic(K.update_add(v, 1.0))

        worker_building = _in_thread(eager_update)
        assert worker_building is False and float(K.get_value(v)) == 4.0
        K.clear_session()
        K.update_add(v, 1.0)
        assert float(K.get_value(v)) == 5.0


def test_clear_session_ends_every_thread_graph_mode():
    v = K.variable(0.0)
    ready, go = threading.Event(), threading.Event()
    result = {}

    def worker():
        K.placeholder((1,))
        result["before"] = is_symbolic(K.update_add(v, 1.0))
        ready.set()
        go.wait(60)
        result["after"] = is_symbolic(K.update_add(v, 1.0))

    thread = threading.Thread(target=worker)
    thread.start()
    ready.wait(60)
    K.clear_session()
    go.set()
    thread.join(60)
    assert result == {"before": True, "after": False}
    assert float(K.get_value(v)) == 1.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_eager_threads_count_every_update(backend):
    with K.backend_scope(backend):
        counters = [K.variable(0.0) for _ in range(4)]
    K.placeholder((None,))  # graphs exist in the main thread

    def worker(counter):
        with K.backend_scope(backend):
            for _ in range(50):
                K.update_add(counter, 1.0)

    threads = [threading.Thread(target=worker, args=(c,)) for c in counters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with K.backend_scope(backend):
        assert [float(K.get_value(c)) for c in counters] == [50.0] * 4


@pytest.mark.parametrize("backend", BACKENDS)
def test_optimizer_built_in_another_thread_records_its_updates(backend):
    """Keras 2 builds a model's train function lazily, maybe in another thread than the model: there
    ``K.gradients`` starts graph building, so the optimizer's ``K.update_add(iterations, 1)`` that
    follows is an update op, applied once per call."""
    with K.backend_scope(backend):
        x = K.placeholder((None, 2))
        w = K.variable([[1.0], [1.0]])
        iterations = K.variable(0.0)
        loss = K.mean(K.dot(x, w))

        def get_updates():
            with K.backend_scope(backend):
                grad, = K.gradients(loss, [w])
                return [K.update_add(iterations, 1.0), K.update_sub(w, 0.5 * grad)]

        updates = _in_thread(get_updates)
        assert all(is_symbolic(u) for u in updates) and float(K.get_value(iterations)) == 0.0
        train = K.function([x], [loss], updates=updates)
        for _ in range(3):
            train([np.ones((4, 2), dtype="float32")])
        assert float(K.get_value(iterations)) == 3.0
        np.testing.assert_allclose(K.get_value(w), [[-0.5], [-0.5]])


def test_a_numpy_loop_gradient_leaves_an_eager_thread_eager():
    """The NumPy gradient of a loop over an unknown length records a graph while the function runs; a
    thread that only runs the function stays eager afterwards (its updates still apply)."""
    with K.backend_scope("numpy"):
        x = K.placeholder((None, None, 2))
        w = K.variable(np.eye(2, dtype=np.float32))

        def step(x_t, states):
            out = K.dot(x_t, w) + states[0]
            return out, [out]

        last = K.rnn(step, x, [K.zeros_like(x[:, 0])])[0]
        f = K.function([x], K.gradients(K.sum(last), [w]))
        counter = K.variable(0.0)
        seen = []

        def worker():
            with K.backend_scope("numpy"):
                seen.append(f([np.ones((1, 3, 2), np.float32)])[0])
                for _ in range(10):
                    K.update_add(counter, 1.0)

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        np.testing.assert_allclose(seen[0], np.full((2, 2), 3.0))
        assert K.get_value(counter) == 10.0
