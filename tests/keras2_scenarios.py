"""Keras 2.3.1 models trained on one kbackend engine, chosen as the README says:
``KERAS_BACKEND=kbackend.torch python keras2_scenarios.py OUT [SCENARIO ...]``.

Keras 2.3.1 binds its backend when it is imported, so each engine runs in a process of its own
(``tests/test_keras2.py`` starts them).  Every scenario is plain Keras 2 code; what it measures (losses,
accuracies, predictions from fixed weights) is written to ``OUT`` as JSON, and the tests assert on the
numbers and compare the engines with NumPy.  A scenario that raises records its traceback instead.
"""

import json
import os
import sys
import tempfile
import traceback

import numpy as np  # noqa: E402

import keras  # noqa: E402
from keras import backend as K  # noqa: E402
from keras import layers  # noqa: E402
from keras.models import Model, Sequential, load_model  # noqa: E402

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


def _floats(values):
    return [float(v) for v in values]


def _fixed_weights(model, seed=0):
    """Deterministic weights from NumPy (the same on every engine); variances stay positive."""
    rng = np.random.RandomState(seed)
    for layer in model.layers:
        layer.set_weights([np.ones(w.shape, w.dtype) if "variance" in name else
                           rng.uniform(-0.3, 0.3, w.shape).astype(w.dtype)
                           for w, name in zip(layer.get_weights(), [v.name for v in layer.weights])])


def _blobs(n=240, features=8, seed=0):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, n)
    x = rng.randn(n, features).astype("float32") + (2.0 * y - 1.0)[:, None]
    return x, y.astype("float32")


@scenario
def sequential_mlp():
    x, y = _blobs()
    model = Sequential([layers.Dense(16, activation="relu", input_shape=(8,)),
                        layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    _fixed_weights(model)
    fixed = model.predict(x[:5]).ravel().tolist()
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    loss, accuracy = model.evaluate(x, y, batch_size=10, verbose=0)
    return {"loss": _floats(history.history["loss"]), "accuracy": float(accuracy),
            "eval_loss": float(loss), "fixed_predictions": fixed}


@scenario
def functional_two_in_two_out():
    rng = np.random.RandomState(1)
    a, b = rng.randn(200, 6).astype("float32"), rng.randn(200, 4).astype("float32")
    target_sum = (a.sum(1, keepdims=True) + b.sum(1, keepdims=True)).astype("float32")
    target_class = (a[:, :1] > 0).astype("float32")
    in_a, in_b = layers.Input((6,), name="a"), layers.Input((4,), name="b")
    merged = layers.concatenate([layers.Dense(8, activation="tanh")(in_a), in_b])
    out_sum = layers.Dense(1, name="sum")(merged)
    out_class = layers.Dense(1, activation="sigmoid", name="cls")(layers.Dense(8, activation="relu")(in_a))
    model = Model([in_a, in_b], [out_sum, out_class])
    model.compile(keras.optimizers.Adam(lr=0.01), {"sum": "mse", "cls": "binary_crossentropy"},
                  loss_weights=[1.0, 0.5], metrics={"cls": "accuracy"})
    _fixed_weights(model)
    fixed = model.predict([a[:4], b[:4]])
    history = model.fit([a, b], [target_sum, target_class], epochs=20, batch_size=20, verbose=0)
    predictions = model.predict([a[:3], b[:3]])
    return {"loss": _floats(history.history["loss"]), "accuracy": float(history.history["cls_accuracy"][-1]),
            "shapes": [list(p.shape) for p in predictions],
            "fixed_predictions": np.concatenate([p.ravel() for p in fixed]).tolist()}


@scenario
def cnn_batchnorm_dropout_pool_transpose():
    rng = np.random.RandomState(2)
    y = rng.randint(0, 2, 96)
    x = rng.rand(96, 8, 8, 1).astype("float32") * 0.5
    x[y == 1, 2:6, 2:6, 0] += 1.0  # a bright square in class 1
    model = Sequential([
        layers.Conv2D(4, 3, padding="same", input_shape=(8, 8, 1)),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.Conv2DTranspose(4, 3, strides=2, padding="same"),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(2, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(lr=0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    _fixed_weights(model)
    fixed = model.predict(x[:3]).ravel().tolist()
    history = model.fit(x, y, epochs=12, batch_size=16, verbose=0)
    _, accuracy = model.evaluate(x, y, verbose=0)
    return {"loss": _floats(history.history["loss"]), "accuracy": float(accuracy),
            "output_shape": list(model.layers[3].output_shape), "fixed_predictions": fixed}


@scenario
def embedding_conv1d_globalmaxpool():
    rng = np.random.RandomState(3)
    y = rng.randint(0, 2, 200)
    x = rng.randint(2, 20, (200, 12))
    x[y == 1, rng.randint(0, 12, (y == 1).sum())] = 1  # class 1 holds token 1 somewhere
    model = Sequential([layers.Embedding(20, 8, input_length=12), layers.Conv1D(8, 3, activation="relu"),
                        layers.GlobalMaxPooling1D(), layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(lr=0.01), "binary_crossentropy", metrics=["accuracy"])
    _fixed_weights(model)
    fixed = model.predict(x[:4]).ravel().tolist()
    history = model.fit(x, y, epochs=20, batch_size=20, verbose=0)
    return {"loss": _floats(history.history["loss"]), "accuracy": float(history.history["accuracy"][-1]),
            "fixed_predictions": fixed}


@scenario
def recurrent_dropout_bidirectional():
    rng = np.random.RandomState(4)
    x = rng.randn(64, 5, 3).astype("float32")
    y = x.sum(axis=(1, 2))[:, None].astype("float32") / 4
    inputs = layers.Input((5, 3))
    lstm = layers.LSTM(6, dropout=0.2, recurrent_dropout=0.2, return_sequences=True)(inputs)
    gru = layers.Bidirectional(layers.GRU(4, dropout=0.1, recurrent_dropout=0.1))(lstm)
    model = Model(inputs, layers.Dense(1)(gru))
    model.compile(keras.optimizers.Adam(lr=0.01), "mse")
    _fixed_weights(model)
    first = model.predict(x[:4])
    again = model.predict(x[:4])  # inference: no dropout, so the same numbers
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    return {"loss": _floats(history.history["loss"]), "deterministic": bool(np.array_equal(first, again)),
            "fixed_predictions": first.ravel().tolist()}


def _variable_length_lstm():
    rng = np.random.RandomState(8)
    y = rng.randint(0, 2, 96)
    x = rng.randint(2, 12, (96, 7))
    x[y == 1, 0] = 1  # class 1 starts with token 1
    model = Sequential([layers.Embedding(12, 6), layers.LSTM(8, dropout=0.1, recurrent_dropout=0.1),
                        layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(lr=0.02), "binary_crossentropy", metrics=["accuracy"])
    _fixed_weights(model)
    return model, x, y


@scenario
def variable_length_lstm_predict():
    model, x, _ = _variable_length_lstm()
    shorter = model.predict(x[:4, :3])  # any length: the time dimension is None
    return {"input_shape": list(model.input_shape), "shorter_shape": list(shorter.shape),
            "uses_learning_phase": bool(model.uses_learning_phase),
            "fixed_predictions": model.predict(x[:4]).ravel().tolist() + shorter.ravel().tolist()}


@scenario
def variable_length_lstm_dropout_fit():
    model, x, y = _variable_length_lstm()
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    return {"loss": _floats(history.history["loss"]), "accuracy": float(history.history["accuracy"][-1])}


class Scale(layers.Layer):
    """A custom layer written in K.*: a learned per-feature scale, then a softsign."""

    def build(self, input_shape):
        self.scale = self.add_weight("scale", (input_shape[-1],), initializer="ones")
        super().build(input_shape)

    def call(self, inputs):
        return K.softsign(inputs * self.scale)


def smooth_l1(y_true, y_pred):
    diff = K.abs(y_true - y_pred)
    return K.mean(K.switch(K.less(diff, 1.0), 0.5 * K.square(diff), diff - 0.5), axis=-1)


def mean_error(y_true, y_pred):
    return K.mean(y_pred - y_true)


@scenario
def custom_layer_loss_metric():
    rng = np.random.RandomState(5)
    x = rng.randn(128, 4).astype("float32")
    y = (0.5 * x).astype("float32")
    model = Sequential([Scale(input_shape=(4,)), layers.Dense(4)])
    model.compile("adam", smooth_l1, metrics=[mean_error])
    _fixed_weights(model)
    fixed = model.predict(x[:4])
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    reference = smooth_l1(K.constant(y[:4]), K.constant(fixed))
    return {"loss": _floats(history.history["loss"]), "metric": _floats(history.history["mean_error"]),
            "custom_loss_eager": np.asarray(K.eval(reference)).ravel().tolist(),
            "fixed_predictions": fixed.ravel().tolist()}


@scenario
def fit_validate_early_stop_save():
    x, y = _blobs(seed=6)
    def build():
        model = Sequential([layers.Dense(8, activation="relu", input_shape=(8,)),
                            layers.Dense(1, activation="sigmoid")])
        model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
        return model
    model = build()
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0)
    history = model.fit(x[:200], y[:200], validation_data=(x[200:], y[200:]), epochs=30, batch_size=20,
                        verbose=0, callbacks=[stop])
    batch_loss = model.train_on_batch(x[:20], y[:20])
    evaluated = model.evaluate(x, y, verbose=0)
    predictions = model.predict(x[:6])
    with tempfile.TemporaryDirectory() as folder:
        weights = os.path.join(folder, "w.h5")
        model.save_weights(weights)
        other = build()
        other.load_weights(weights)
        reloaded = other.predict(x[:6])
        whole = os.path.join(folder, "m.h5")
        model.save(whole)
        restored = load_model(whole).predict(x[:6])
    return {"epochs_run": len(history.history["loss"]), "val_loss": _floats(history.history["val_loss"]),
            "train_on_batch": _floats(np.ravel(batch_loss)), "evaluate": _floats(evaluated),
            "reload_max_diff": float(np.abs(reloaded - predictions).max()),
            "load_model_max_diff": float(np.abs(restored - predictions).max())}


@scenario
def dropout_in_training_only():
    x = np.ones((64, 50), dtype="float32")
    model = Sequential([layers.Dropout(0.5, input_shape=(50,)),
                        layers.Dense(1, kernel_initializer="ones", use_bias=False, trainable=False)])
    model.compile(keras.optimizers.SGD(lr=0.0), "mae")
    target = np.zeros((64, 1), dtype="float32")
    trained = [float(model.train_on_batch(x, target)) for _ in range(3)]
    tested = float(model.test_on_batch(x, target))
    phase = K.function([model.input, K.learning_phase()], [model.layers[0].output])
    dropped = phase([x, 1])[0]
    kept = phase([x, 0])[0]
    return {"uses_learning_phase": bool(model.uses_learning_phase), "train_losses": trained,
            "test_loss": tested, "dropped_zero_fraction": float((dropped == 0).mean()),
            "dropped_kept_values": sorted(set(np.round(dropped[dropped != 0], 4).tolist())),
            "inference_equals_input": bool(np.array_equal(kept, x))}


@scenario
def time_distributed_unknown_sizes():
    """TimeDistributed over inputs whose time (and inner) sizes are unknown reshapes by ``K.shape``
    entries: the shapes stay unknown, and a last batch of another size (10 rows, batches of 6) fits."""
    tokens = np.random.RandomState(7).randint(1, 5, (10, 3, 4)).astype("int32")
    tokens[:4, 2:, 1:] = 0
    nested = Sequential([layers.TimeDistributed(layers.Embedding(5, 3, mask_zero=True), input_shape=(None, None)),
                         layers.TimeDistributed(layers.SimpleRNN(2))])
    masked = Sequential([layers.TimeDistributed(layers.Masking(0.0), input_shape=(None, 4)),
                         layers.TimeDistributed(layers.Dense(2))])
    _fixed_weights(nested)
    _fixed_weights(masked)
    fixed = [nested.predict(tokens), masked.predict(tokens.astype("float32"))]
    masked.compile(keras.optimizers.SGD(0.01), "mse")
    history = masked.fit(tokens, np.zeros((10, 3, 2)), epochs=1, batch_size=6, verbose=0)
    return {"shapes": [list(nested.output_shape), list(masked.output_shape)],
            "loss": _floats(history.history["loss"]),
            "fixed_predictions": np.concatenate([f.ravel() for f in fixed]).tolist()}


def main():
    names = sys.argv[2:] or list(SCENARIOS)
    results = {}
    for name in names:
        np.random.seed(0)
        try:
            results[name] = {"ok": True, **SCENARIOS[name]()}
        except Exception:  # noqa: BLE001 - recorded for the test to report
            results[name] = {"ok": False, "error": traceback.format_exc()}
        K.clear_session()
    with open(sys.argv[1], "w") as out:
        json.dump(results, out)


if __name__ == "__main__":
    main()
