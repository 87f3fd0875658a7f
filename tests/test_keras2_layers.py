"""Keras 2.3.1's layers, losses, metrics, optimizers and engine features on every engine.

``keras2_layers.py`` runs every case once per engine, in a process of its own (Keras binds its backend
at import); each case becomes ``test_keras_layer[<case>-<engine>]``, which asserts that it ran and, where
it measured something, that the numbers hold: losses go down, and predictions from fixed weights (and
loss and metric values) agree with the NumPy engine.
"""

import importlib.util
import math

import numpy as np
import pytest

from conftest import BACKENDS, HERE
from test_keras2 import KERAS_2, engine_results

pytestmark = pytest.mark.skipif(not KERAS_2, reason="needs keras==2.3.1 (bash .ci/run installs it)")


def _case_names():
    spec = importlib.util.spec_from_file_location("keras2_layers", HERE / "keras2_layers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # reads the case table; Keras is imported only when it runs
    return list(module.CASES)


CASES = _case_names()


def results(engine):
    return engine_results(HERE / "keras2_layers.py", "layers", engine)


#: Cases whose training must lower the loss: (key, last / first at most).
DECREASING = {"optimizer_": 0.9, "loss_": 1.0, "merge_": 1.0, "model_fit_sample_weight": 1.0,
              "model_multiple_losses": 0.9, "model_nested_shared": 0.95}
#: Measured values compared with NumPy's (on fixed weights and data).
COMPARED = ("fixed_predictions", "value", "evaluate")


def _check_numbers(name, found, engine):
    for prefix, factor in DECREASING.items():
        if name.startswith(prefix) and "loss" in found and len(found["loss"]) > 1:
            losses = found["loss"]
            assert all(math.isfinite(v) for v in losses), losses
            assert losses[-1] < factor * losses[0] or (factor == 1.0 and losses[-1] <= losses[0]), losses
    if "weights_moved" in found:
        assert found["weights_moved"], "one SGD step must move the weights"
        assert math.isfinite(found["train_loss"])
    if engine != "numpy":
        expected = results("numpy").get(name, {})
        for key in COMPARED:
            if key in found and expected.get("ok") and key in expected:
                np.testing.assert_allclose(np.asarray(found[key], dtype=float),
                                           np.asarray(expected[key], dtype=float), rtol=2e-4, atol=2e-5,
                                           err_msg=f"{key} differs from the NumPy engine")


#: What a few cases must reach on every engine.
EXPECTED = {
    "layer_Embedding_mask_zero_LSTM": lambda f: f["padding_ignored"] < 1e-6,
    "stateful_lstm_reset_states": lambda f: f["carried_differs"] and f["reset_equal"],
    "metric_Mean_and_Sum": lambda f: f["value"] == [[1.5, 3.0], [4.0, 16.0]] and f["after_reset"] == 0.0,
    "model_json_roundtrip": lambda f: f["diff"] == 0.0 and f["hidden_units"] == 3,
    "model_save_load_custom_layer": lambda f: f["diff"] == 0.0 and f["factor"] == 3.0
    and f["optimizer_iterations"] > 0,
    "model_nested_shared_get_layer": lambda f: f["restored_diff"] < 1e-6 and f["shared_nodes"] == 2
    and f["inner_layers"] == 2,
    "model_multiple_losses_loss_weights_add_loss": lambda f: f["metrics_names"] == [
        "loss", "reg_loss", "cls_loss", "reg_mae", "cls_accuracy"] and f["losses"] == 1,
    "model_callbacks": lambda f: f["lambda_seen"] == f["loss"] and f["csv_rows"] == 4
    and len(f["files"]) == 4 and np.allclose(f["lr_history"], [0.02, 0.02, 0.01]) and abs(f["lr"] - 0.005) < 1e-7,
    "model_learning_rate_scheduler": lambda f: abs(f["lr"] - 0.1 / 3) < 1e-7,
    "model_terminate_on_nan": lambda f: f["epochs"] == 1 and not math.isfinite(f["last"]),
    "model_layer_trainable_freeze": lambda f: not f["frozen_moved"] and f["trainable_weights"] == 2
    and f["non_trainable_weights"] == 2,
    "model_fit_sample_weight_class_weight": lambda f: f["zero_weight"][0] == 0.0,
}
for _source in ("generator", "sequence"):
    for _workers in (0, 2):
        EXPECTED[f"model_fit_{_source}_workers{_workers}"] = lambda f: f["predict_diff"] < 1e-6


@pytest.mark.parametrize("engine", BACKENDS)
@pytest.mark.parametrize("case", CASES)
def test_keras_layer(case, engine):
    found = results(engine)[case]
    assert found["ok"], found["error"]
    _check_numbers(case, found, engine)
    if case in EXPECTED:
        assert EXPECTED[case](found), found
