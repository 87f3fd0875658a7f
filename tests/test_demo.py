"""The main job: a classifier written only in K.* trains to >= 0.9 test accuracy on every engine."""

import io

import pytest

from conftest import BACKENDS

pytest.importorskip("sklearn", reason="the demo's data set comes with scikit-learn (pip install 'kbackend[demo]')")


@pytest.mark.parametrize("backend", BACKENDS)
def test_demo_trains(backend):
    from kbackend.demo import train

    stream = io.StringIO()
    accuracy = train(epochs=6, backend=backend, stream=stream)
    assert accuracy >= 0.9, stream.getvalue()
    log = stream.getvalue()
    assert f"backend {backend!r}" in log and "epoch  6/6" in log and "final test accuracy" in log
