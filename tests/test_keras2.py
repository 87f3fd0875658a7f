"""Keras 2.3.1 itself on kbackend: unchanged Keras 2 models train on every engine.

Each engine runs ``keras2_scenarios.py`` in a process of its own (Keras binds its backend at import);
the tests below assert on what the models reached and compare every engine with NumPy on the same
fixed weights.
"""

import fcntl
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from conftest import BACKENDS, HERE

SCRIPT = HERE / "keras2_scenarios.py"


def _keras_version():
    spec = importlib.util.find_spec("keras")
    if spec is None or spec.origin is None:
        return None
    init = open(spec.origin).read()
    for line in init.splitlines():
        if line.startswith("__version__"):
            return line.split("=")[1].strip().strip("'\"")
    return None


KERAS_2 = _keras_version() == "2.3.1"
pytestmark = pytest.mark.skipif(not KERAS_2, reason="needs keras==2.3.1 (bash .ci/run installs it)")

_results = {}


def _shared_folder():
    """A folder shared by the workers of one pytest-xdist run (or private to a plain run)."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    folder = os.path.join(tempfile.gettempdir(), f"kbackend-keras2-{run_id}")
    os.makedirs(folder, exist_ok=True)
    return folder


def engine_results(script, tag, engine):
    """Run ``script`` on ``engine`` once per test run (in a fresh Keras home) and read the JSON it
    writes; the workers of a parallel run share the one result, the first to ask computes it while the
    others wait.  A run that fails is not repeated: every test that asks reports its error."""
    key = (str(script), engine)
    if key not in _results:
        folder = _shared_folder()
        out = os.path.join(folder, f"{tag}-{engine}.json")
        failed = out + ".failed"
        with open(os.path.join(folder, f"{tag}-{engine}.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(out) and not os.path.exists(failed):
                with tempfile.TemporaryDirectory() as home:
                    env = dict(os.environ, KERAS_HOME=home, TF_CPP_MIN_LOG_LEVEL="3",
                               KERAS_BACKEND=f"kbackend.{engine}")  # as the README says
                    private = os.path.join(home, "results.json")  # the shared folder may be cleaned meanwhile
                    try:
                        run = subprocess.run([sys.executable, str(script), private], env=env,
                                             capture_output=True, text=True, timeout=900)
                        error = None if run.returncode == 0 else run.stderr[-3000:]
                    except subprocess.TimeoutExpired as timeout:
                        error = f"{script.name} on {engine}: {timeout}"
                    os.makedirs(folder, exist_ok=True)
                    if error is None:
                        with open(private) as f:
                            _results[key] = json.load(f)
                        shutil.move(private, out + ".part")
                        os.replace(out + ".part", out)
                    else:
                        with open(failed, "w") as f:
                            f.write(error)
        if os.path.exists(failed):
            with open(failed) as f:
                pytest.fail(f.read(), pytrace=False)
        if key not in _results:
            with open(out) as f:
                _results[key] = json.load(f)
    return _results[key]


def results(engine):
    """Every scenario's results on ``engine``."""
    return engine_results(SCRIPT, "scenarios", engine)


def scenario(engine, name):
    found = results(engine)[name]
    assert found["ok"], found["error"]
    return found


@pytest.fixture(params=BACKENDS)
def engine(request):
    return request.param


def _decreasing(losses, factor):
    assert losses[-1] < factor * losses[0], losses


def test_sequential_mlp(engine):
    found = scenario(engine, "sequential_mlp")
    _decreasing(found["loss"], 0.5)
    assert found["accuracy"] >= 0.9
    # a stateful metric read after its update: evaluate(batch_size=10) is a real number
    assert np.isfinite(found["eval_loss"])


def test_functional_two_inputs_two_outputs(engine):
    found = scenario(engine, "functional_two_in_two_out")
    _decreasing(found["loss"], 0.9)
    assert found["shapes"] == [[3, 1], [3, 1]]
    assert found["accuracy"] >= 0.7


def test_cnn_batchnorm_dropout_pool_transpose(engine):
    found = scenario(engine, "cnn_batchnorm_dropout_pool_transpose")
    _decreasing(found["loss"], 0.6)
    assert found["accuracy"] >= 0.85
    assert found["output_shape"] == [None, 16, 16, 4]


def test_embedding_conv1d_global_max_pooling(engine):
    found = scenario(engine, "embedding_conv1d_globalmaxpool")
    _decreasing(found["loss"], 0.8)
    assert found["accuracy"] >= 0.8


def test_lstm_gru_recurrent_dropout_bidirectional(engine):
    found = scenario(engine, "recurrent_dropout_bidirectional")
    _decreasing(found["loss"], 0.9)
    assert found["deterministic"], "inference must not apply dropout"


def test_variable_length_lstm_with_dropout(engine):
    """Embedding without input_length: the LSTM loops over an unknown number of steps, its step reading
    the dropout masks and the learning phase from outside."""
    found = scenario(engine, "variable_length_lstm_predict")
    assert found["input_shape"] == [None, None] and found["shorter_shape"] == [4, 1]
    assert found["uses_learning_phase"], "fit must feed the phase, or the LSTM's dropout never acts"
    trained = scenario(engine, "variable_length_lstm_dropout_fit")
    _decreasing(trained["loss"], 0.5)
    assert trained["accuracy"] >= 0.9


def test_custom_layer_loss_and_metric(engine):
    found = scenario(engine, "custom_layer_loss_metric")
    _decreasing(found["loss"], 0.9)
    assert len(found["metric"]) == len(found["loss"]) and all(np.isfinite(found["metric"]))


def test_fit_validation_early_stopping_save_load(engine):
    found = scenario(engine, "fit_validate_early_stop_save")
    # min_delta=10 never counts as an improvement: patience 1 stops after the second epoch
    assert found["epochs_run"] == 2 and len(found["val_loss"]) == 2
    assert len(found["train_on_batch"]) == 2 and len(found["evaluate"]) == 2
    assert 0.0 <= found["evaluate"][1] <= 1.0
    assert found["reload_max_diff"] == 0.0
    assert found["load_model_max_diff"] == 0.0


def test_dropout_acts_in_training_only(engine):
    found = scenario(engine, "dropout_in_training_only")
    assert found["uses_learning_phase"]
    # Dense(ones) over 50 inputs of 1: 50 without dropout; with it, 2 × the kept count (≈ 50, never all)
    assert found["test_loss"] == pytest.approx(50.0)
    assert all(loss != 50.0 for loss in found["train_losses"])
    assert len(set(found["train_losses"])) > 1, "each step draws a new mask"
    assert 0.35 < found["dropped_zero_fraction"] < 0.65
    assert found["dropped_kept_values"] == [2.0]
    assert found["inference_equals_input"]


def test_time_distributed_over_unknown_sizes(engine):
    """Keras 2.3.1's wrappers_test: TimeDistributed reshapes by K.shape entries when the time size is
    unknown; the output sizes stay unknown and a short last batch trains."""
    found = scenario(engine, "time_distributed_unknown_sizes")
    assert found["shapes"] == [[None, None, 2], [None, None, 2]]
    assert len(found["loss"]) == 1 and np.isfinite(found["loss"][0])


FIXED = ["sequential_mlp", "functional_two_in_two_out", "cnn_batchnorm_dropout_pool_transpose",
         "embedding_conv1d_globalmaxpool", "recurrent_dropout_bidirectional", "custom_layer_loss_metric",
         "variable_length_lstm_predict", "time_distributed_unknown_sizes"]


@pytest.mark.parametrize("other", [b for b in BACKENDS if b != "numpy"])
@pytest.mark.parametrize("name", FIXED)
def test_same_predictions_as_numpy(other, name):
    """The same model with the same (fixed) weights predicts the same on every engine."""
    engine = other
    expected = scenario("numpy", name)["fixed_predictions"]
    got = scenario(engine, name)["fixed_predictions"]
    np.testing.assert_allclose(got, expected, rtol=2e-4, atol=2e-5)


# ---------------------------------------------------------------------------------------------------
# loading: what a user sees when Keras 2.3.1 starts on kbackend


def _python(code, home, **env):
    environment = dict(os.environ, KERAS_HOME=str(home), TF_CPP_MIN_LOG_LEVEL="3", **env)
    environment.pop("KERAS_BACKEND", None) if "KERAS_BACKEND" not in env else None
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True,
                          timeout=300)


def test_keras_on_torch_leaves_no_keras_json_and_no_tensorflow(tmp_path):
    """Keras 2.3.1 writes keras.json ("backend": "tensorflow") on its first import; on kbackend the file
    is gone again, TensorFlow is never imported, and Keras reports the module it loaded."""
    code = ("import sys, numpy as np, keras; from keras.preprocessing.image import ImageDataGenerator; "
            "batches = ImageDataGenerator(rotation_range=10).flow(np.ones((4, 8, 8, 1)), np.arange(4), "
            "batch_size=2); next(batches); print(keras.backend.backend(), keras.backend.kbackend_engine, "
            "'tensorflow' in sys.modules)")
    run = _python(code, tmp_path, KERAS_BACKEND="kbackend.torch")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["kbackend.torch", "torch", "False"]
    assert list(tmp_path.iterdir()) == []


def test_keras_json_backend_selects_the_engine_for_both(tmp_path):
    (tmp_path / "keras.json").write_text('{"backend": "kbackend.jax"}')
    run = _python("import keras, kbackend; print(keras.backend.backend(), kbackend.backend())", tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["kbackend.jax", "jax"]
    assert (tmp_path / "keras.json").read_text() == '{"backend": "kbackend.jax"}'


def test_kbackend_as_its_own_engine_is_a_clear_error(tmp_path):
    run = _python("import keras", tmp_path, KERAS_BACKEND="kbackend")
    assert run.returncode != 0
    assert "kbackend cannot be its own engine" in run.stderr and "KERAS_BACKEND=kbackend.torch" in run.stderr
    assert "RecursionError" not in run.stderr


def test_engine_module_that_disagrees_with_the_configuration_is_refused(tmp_path):
    (tmp_path / "keras.json").write_text('{"backend": "kbackend.jax"}')
    run = _python("import kbackend.torch", tmp_path)
    assert run.returncode != 0
    assert "kbackend.torch: this module runs Keras on the 'torch' engine, but kbackend is configured for " \
           "'jax'" in run.stderr


def test_keras_settings_reach_kbackend(tmp_path):
    code = ("import keras, kbackend; from keras import backend as K; K.set_floatx('float64'); "
            "K.set_epsilon(1e-4); print(kbackend.floatx(), kbackend.epsilon(), K.dtype(K.variable(1.0)))")
    run = _python(code, tmp_path, KERAS_BACKEND="kbackend.numpy")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["float64", "0.0001", "float64"]
