"""A sweep of Keras 2.3.1's layers, losses, metrics, optimizers and engine features on one kbackend engine:
``KERAS_BACKEND=kbackend.torch python keras2_layers.py OUT [CASE ...]``.

Layers go through ``keras.utils.test_utils.layer_test`` (Keras's own checker: builds, predicts, checks
shapes, serializes, trains when the layer takes ``training``), then one SGD step and one prediction from
fixed NumPy weights, which ``tests/test_keras2_layers.py`` compares with the NumPy engine.  Every other
case is a few lines of plain Keras 2 code.  Each case records what it measured or the traceback it raised.

Keras binds its backend at import, so it is imported in ``main`` only: ``CASES`` (the case names) can be
read without it, which is how the tests name one test per case.
"""

import json
import os
import sys
import tempfile
import threading
import time
import traceback

import numpy as np

keras = K = None  # bound by main(): Keras 2.3.1 on the engine KERAS_BACKEND names

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def _floats(values):
    return [float(v) for v in np.ravel(values)]


def _fixed_weights(model, seed=0):
    """Deterministic weights from NumPy (the same on every engine); variances stay positive."""
    rng = np.random.RandomState(seed)
    for layer in model.layers:
        layer.set_weights([np.ones(w.shape, w.dtype) if "variance" in v.name else
                           rng.uniform(-0.3, 0.3, w.shape).astype(w.dtype)
                           for w, v in zip(layer.get_weights(), layer.weights)])


# ---------------------------------------------------------------------------------------------------
# layers: (case name, class name in keras.layers, kwargs, input shape, extra layer_test arguments)

def _layer(name, cls, kwargs, shape, **extra):
    return name, cls, kwargs, shape, extra


LAYERS = [
    # core
    _layer("Dense", "Dense", dict(units=3), (2, 4)),
    _layer("Dense_3d_input", "Dense", dict(units=3), (2, 5, 4)),
    _layer("Dense_regularized_constrained", "Dense",
           dict(units=3, kernel_regularizer="l1_l2", bias_regularizer="l2", activity_regularizer="l2",
                kernel_constraint="max_norm", bias_constraint="unit_norm", activation="relu"), (2, 4)),
    _layer("Activation_tanh", "Activation", dict(activation="tanh"), (2, 4)),
    _layer("Activation_softmax", "Activation", dict(activation="softmax"), (2, 4)),
    _layer("Dropout", "Dropout", dict(rate=0.5), (3, 2)),
    _layer("Dropout_noise_shape", "Dropout", dict(rate=0.5, noise_shape=(None, 1, 4)), (2, 3, 4)),
    _layer("SpatialDropout1D", "SpatialDropout1D", dict(rate=0.5), (2, 3, 4)),
    _layer("SpatialDropout2D", "SpatialDropout2D", dict(rate=0.5), (2, 3, 4, 5)),
    _layer("SpatialDropout2D_channels_first", "SpatialDropout2D",
           dict(rate=0.5, data_format="channels_first"), (2, 3, 4, 5)),
    _layer("SpatialDropout3D", "SpatialDropout3D", dict(rate=0.5), (2, 3, 4, 4, 5)),
    _layer("Reshape", "Reshape", dict(target_shape=(8, 1)), (3, 2, 4)),
    _layer("Reshape_minus_one", "Reshape", dict(target_shape=(-1, 2)), (3, 2, 4)),
    _layer("Permute", "Permute", dict(dims=(2, 1)), (3, 2, 4)),
    _layer("Flatten", "Flatten", {}, (3, 2, 4)),
    _layer("Flatten_channels_first", "Flatten", dict(data_format="channels_first"), (3, 2, 4, 5)),
    _layer("RepeatVector", "RepeatVector", dict(n=3), (3, 2)),
    _layer("Lambda", "Lambda", dict(function=lambda x: x * 2.0 + 1.0), (3, 2)),
    _layer("Masking", "Masking", dict(mask_value=0.0), (3, 2, 3)),
    _layer("ActivityRegularization", "ActivityRegularization", dict(l1=0.01, l2=0.01), (3, 2)),
    # convolutional
    _layer("Conv1D", "Conv1D", dict(filters=2, kernel_size=3), (2, 7, 3)),
    _layer("Conv1D_causal_dilated", "Conv1D", dict(filters=2, kernel_size=3, padding="causal",
                                                    dilation_rate=2), (2, 7, 3)),
    _layer("Conv1D_strided_same", "Conv1D", dict(filters=2, kernel_size=3, strides=2, padding="same"),
           (2, 7, 3)),
    _layer("Conv2D", "Conv2D", dict(filters=2, kernel_size=3, padding="same"), (2, 6, 5, 3)),
    _layer("Conv2D_channels_first", "Conv2D",
           dict(filters=2, kernel_size=(3, 2), strides=(2, 1), data_format="channels_first"), (2, 3, 6, 5)),
    _layer("Conv2D_dilated", "Conv2D", dict(filters=2, kernel_size=2, dilation_rate=2), (2, 6, 5, 3)),
    _layer("SeparableConv1D", "SeparableConv1D", dict(filters=2, kernel_size=3, depth_multiplier=2),
           (2, 7, 3)),
    _layer("SeparableConv2D", "SeparableConv2D", dict(filters=2, kernel_size=3, depth_multiplier=2,
                                                      padding="same"), (2, 6, 5, 3)),
    _layer("SeparableConv2D_channels_first", "SeparableConv2D",
           dict(filters=2, kernel_size=3, data_format="channels_first"), (2, 3, 6, 5)),
    _layer("DepthwiseConv2D", "DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2), (2, 6, 5, 3)),
    _layer("DepthwiseConv2D_channels_first", "DepthwiseConv2D",
           dict(kernel_size=3, data_format="channels_first"), (2, 3, 6, 5)),
    _layer("Conv2DTranspose", "Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, padding="same"),
           (2, 4, 5, 3)),
    _layer("Conv2DTranspose_output_padding", "Conv2DTranspose",
           dict(filters=2, kernel_size=3, strides=2, output_padding=1), (2, 4, 5, 3)),
    _layer("Conv2DTranspose_channels_first", "Conv2DTranspose",
           dict(filters=2, kernel_size=3, strides=2, data_format="channels_first"), (2, 3, 4, 5)),
    _layer("Conv3D", "Conv3D", dict(filters=2, kernel_size=2), (2, 4, 4, 3, 2)),
    _layer("Conv3D_channels_first", "Conv3D", dict(filters=2, kernel_size=2, data_format="channels_first"),
           (2, 2, 4, 4, 3)),
    _layer("Conv3DTranspose", "Conv3DTranspose", dict(filters=2, kernel_size=2, strides=2), (2, 3, 3, 2, 2)),
    _layer("Cropping1D", "Cropping1D", dict(cropping=(1, 2)), (2, 6, 3)),
    _layer("Cropping2D", "Cropping2D", dict(cropping=((1, 0), (1, 2))), (2, 5, 6, 3)),
    _layer("Cropping2D_channels_first", "Cropping2D",
           dict(cropping=((1, 0), (1, 2)), data_format="channels_first"), (2, 3, 5, 6)),
    _layer("Cropping3D", "Cropping3D", dict(cropping=1), (2, 4, 4, 4, 2)),
    _layer("UpSampling1D", "UpSampling1D", dict(size=2), (2, 3, 2)),
    _layer("UpSampling2D", "UpSampling2D", dict(size=(2, 3)), (2, 3, 2, 2)),
    _layer("UpSampling2D_bilinear", "UpSampling2D", dict(size=2, interpolation="bilinear"), (2, 3, 2, 2)),
    _layer("UpSampling2D_channels_first", "UpSampling2D", dict(size=2, data_format="channels_first"),
           (2, 2, 3, 2)),
    _layer("UpSampling3D", "UpSampling3D", dict(size=2), (2, 2, 2, 2, 2)),
    _layer("ZeroPadding1D", "ZeroPadding1D", dict(padding=(1, 2)), (2, 3, 2)),
    _layer("ZeroPadding2D", "ZeroPadding2D", dict(padding=((1, 0), (2, 1))), (2, 3, 2, 2)),
    _layer("ZeroPadding2D_channels_first", "ZeroPadding2D",
           dict(padding=1, data_format="channels_first"), (2, 2, 3, 2)),
    _layer("ZeroPadding3D", "ZeroPadding3D", dict(padding=1), (2, 2, 2, 2, 2)),
    # pooling
    _layer("MaxPooling1D", "MaxPooling1D", dict(pool_size=2), (2, 6, 3)),
    _layer("AveragePooling1D_same", "AveragePooling1D", dict(pool_size=3, strides=2, padding="same"),
           (2, 7, 3)),
    _layer("MaxPooling2D", "MaxPooling2D", dict(pool_size=2, strides=1), (2, 5, 4, 3)),
    _layer("MaxPooling2D_channels_first", "MaxPooling2D", dict(pool_size=2, data_format="channels_first"),
           (2, 3, 5, 4)),
    _layer("AveragePooling2D_same", "AveragePooling2D", dict(pool_size=3, strides=2, padding="same"),
           (2, 5, 4, 3)),
    _layer("MaxPooling3D", "MaxPooling3D", dict(pool_size=2), (2, 4, 4, 2, 2)),
    _layer("AveragePooling3D", "AveragePooling3D", dict(pool_size=2), (2, 4, 4, 2, 2)),
    _layer("GlobalMaxPooling1D", "GlobalMaxPooling1D", {}, (2, 5, 3)),
    _layer("GlobalAveragePooling1D_channels_first", "GlobalAveragePooling1D",
           dict(data_format="channels_first"), (2, 5, 3)),
    _layer("GlobalMaxPooling2D", "GlobalMaxPooling2D", {}, (2, 5, 4, 3)),
    _layer("GlobalAveragePooling2D_channels_first", "GlobalAveragePooling2D",
           dict(data_format="channels_first"), (2, 3, 5, 4)),
    _layer("GlobalMaxPooling3D_channels_first", "GlobalMaxPooling3D", dict(data_format="channels_first"),
           (2, 2, 3, 3, 3)),
    _layer("GlobalAveragePooling3D", "GlobalAveragePooling3D", {}, (2, 3, 3, 3, 2)),
    # locally connected
    _layer("LocallyConnected1D", "LocallyConnected1D", dict(filters=2, kernel_size=3), (2, 6, 3)),
    _layer("LocallyConnected2D", "LocallyConnected2D", dict(filters=2, kernel_size=2), (2, 4, 3, 2)),
    _layer("LocallyConnected2D_channels_first", "LocallyConnected2D",
           dict(filters=2, kernel_size=2, data_format="channels_first"), (2, 2, 4, 3)),
    # recurrent
    _layer("SimpleRNN", "SimpleRNN", dict(units=3), (2, 4, 2)),
    _layer("SimpleRNN_sequences_backwards", "SimpleRNN", dict(units=3, return_sequences=True,
                                                               go_backwards=True), (2, 4, 2)),
    _layer("SimpleRNN_unroll", "SimpleRNN", dict(units=3, unroll=True, return_sequences=True), (2, 4, 2)),
    _layer("GRU", "GRU", dict(units=3), (2, 4, 2)),
    _layer("GRU_reset_after", "GRU", dict(units=3, reset_after=True, return_sequences=True), (2, 4, 2)),
    _layer("GRU_unroll_dropout", "GRU", dict(units=3, unroll=True, dropout=0.2, recurrent_dropout=0.2),
           (2, 4, 2)),
    _layer("LSTM", "LSTM", dict(units=3, return_sequences=True), (2, 4, 2)),
    _layer("LSTM_backwards_impl2", "LSTM", dict(units=3, go_backwards=True, implementation=2), (2, 4, 2)),
    _layer("LSTM_stateful", "LSTM", dict(units=3, stateful=True), (2, 4, 2), fixed_batch_size=True),
    _layer("LSTM_unknown_length", "LSTM", dict(units=3), (2, None, 2)),
    _layer("ConvLSTM2D", "ConvLSTM2D", dict(filters=2, kernel_size=2, return_sequences=True),
           (2, 3, 4, 4, 2)),
    _layer("ConvLSTM2D_channels_first", "ConvLSTM2D",
           dict(filters=2, kernel_size=2, padding="same", data_format="channels_first"), (2, 3, 2, 4, 4)),
    # normalization, embeddings
    _layer("BatchNormalization", "BatchNormalization", {}, (4, 3)),
    _layer("BatchNormalization_axis1", "BatchNormalization", dict(axis=1, momentum=0.9), (4, 3, 2, 2)),
    _layer("BatchNormalization_no_scale_center", "BatchNormalization", dict(scale=False, center=False),
           (4, 2, 3)),
    _layer("Embedding", "Embedding", dict(input_dim=10, output_dim=3, input_length=4), (2, 4),
           input_data=np.array([[1, 2, 0, 9], [3, 0, 0, 4]], "int32"), expected_output_dtype="float32"),
    _layer("Embedding_mask_zero", "Embedding", dict(input_dim=10, output_dim=3, mask_zero=True), (2, 4),
           input_data=np.array([[1, 2, 0, 9], [3, 0, 0, 4]], "int32"), expected_output_dtype="float32"),
    # advanced activations
    _layer("LeakyReLU", "LeakyReLU", dict(alpha=0.2), (2, 4)),
    _layer("PReLU", "PReLU", dict(alpha_initializer="constant"), (2, 3, 4)),
    _layer("PReLU_shared_axes", "PReLU", dict(shared_axes=(1, 2)), (2, 3, 3, 4)),
    _layer("ELU", "ELU", dict(alpha=0.5), (2, 4)),
    _layer("ThresholdedReLU", "ThresholdedReLU", dict(theta=0.5), (2, 4)),
    _layer("Softmax", "Softmax", dict(axis=1), (2, 3, 4)),
    _layer("ReLU", "ReLU", dict(max_value=5.0, negative_slope=0.1, threshold=1.0), (2, 4)),
    # noise
    _layer("GaussianNoise", "GaussianNoise", dict(stddev=0.5), (2, 4)),
    _layer("GaussianDropout", "GaussianDropout", dict(rate=0.4), (2, 4)),
    _layer("AlphaDropout", "AlphaDropout", dict(rate=0.3), (2, 4)),
]

# wrappers take a layer instance: (case name, class name, wrapped class name, its kwargs, wrapper kwargs, shape)
WRAPPERS = [
    ("TimeDistributed_Dense", "TimeDistributed", "Dense", dict(units=2), {}, (2, 3, 4)),
    ("TimeDistributed_Conv2D", "TimeDistributed", "Conv2D", dict(filters=2, kernel_size=2), {},
     (2, 3, 4, 4, 2)),
    ("Bidirectional_LSTM_concat", "Bidirectional", "LSTM", dict(units=2), dict(merge_mode="concat"),
     (2, 4, 3)),
    ("Bidirectional_GRU_sum_sequences", "Bidirectional", "GRU", dict(units=2, return_sequences=True),
     dict(merge_mode="sum"), (2, 4, 3)),
    ("Bidirectional_SimpleRNN_mul", "Bidirectional", "SimpleRNN", dict(units=2), dict(merge_mode="mul"),
     (2, 4, 3)),
    ("Bidirectional_LSTM_ave", "Bidirectional", "LSTM", dict(units=2), dict(merge_mode="ave"), (2, 4, 3)),
    ("RNN_GRUCell_backwards", "RNN", "GRUCell", dict(units=2), dict(go_backwards=True), (2, 4, 3)),
]


def _layer_case(make, shape, extra):
    """Keras's layer_test, then one SGD step, then a prediction from fixed weights on fixed data."""
    from keras.utils.test_utils import layer_test
    np.random.seed(0)
    output = layer_test(make, kwargs={}, input_shape=shape, **extra)
    data = extra.get("input_data")
    if data is None:
        rng = np.random.RandomState(1)
        data = rng.uniform(-1, 2, [2 if d is None else d for d in shape]).astype("float32")
    fixed_batch = extra.get("fixed_batch_size", False)
    inputs = keras.layers.Input(batch_shape=data.shape if fixed_batch else (None,) + tuple(
        None if d is None else d for d in shape[1:]), dtype=str(data.dtype))
    layer = make()
    model = keras.models.Model(inputs, layer(inputs))
    _fixed_weights(model)
    fixed = model.predict(data)
    found = {"shape": list(np.shape(output)), "fixed_predictions": _floats(fixed)}
    if layer.trainable_weights:
        model.compile(keras.optimizers.SGD(0.01), "mse")
        before = model.get_weights()
        loss = model.train_on_batch(data, np.zeros_like(fixed))
        moved = [not np.array_equal(a, b) for a, b in zip(before, model.get_weights())]
        found.update(train_loss=float(loss), weights_moved=bool(any(moved)))
    return found


def _register_layers():
    for name, cls, kwargs, shape, extra in LAYERS:
        def run(cls=cls, kwargs=kwargs, shape=shape, extra=extra):
            return _layer_case(lambda: getattr(keras.layers, cls)(**kwargs), shape, extra)
        CASES["layer_" + name] = run
    for name, cls, inner, inner_kwargs, kwargs, shape in WRAPPERS:
        def run(cls=cls, inner=inner, inner_kwargs=inner_kwargs, kwargs=kwargs, shape=shape):
            make = lambda: getattr(keras.layers, cls)(getattr(keras.layers, inner)(**inner_kwargs), **kwargs)
            return _layer_case(make, shape, {})
        CASES["layer_" + name] = run


_register_layers()


# ---------------------------------------------------------------------------------------------------
# layers with several inputs or outputs

def _train_and_predict(model, inputs, targets, loss="mse"):
    _fixed_weights(model)
    fixed = model.predict(inputs)
    model.compile(keras.optimizers.SGD(0.05), loss)
    history = model.fit(inputs, targets, epochs=3, batch_size=4, verbose=0)
    fixed = fixed if isinstance(fixed, list) else [fixed]
    return {"fixed_predictions": _floats(np.concatenate([np.ravel(f) for f in fixed])),
            "loss": _floats(history.history["loss"])}


MERGES = [("Add", {}), ("Subtract", {}), ("Multiply", {}), ("Average", {}), ("Maximum", {}),
          ("Minimum", {}), ("Concatenate", dict(axis=-1)), ("Concatenate_axis1", dict(axis=1)),
          ("Dot", dict(axes=-1)), ("Dot_normalize", dict(axes=1, normalize=True))]


def _register_merges():
    for name, kwargs in MERGES:
        def run(cls=name.split("_")[0], kwargs=kwargs):
            rng = np.random.RandomState(2)
            a, b = rng.randn(8, 3, 4).astype("float32"), rng.randn(8, 3, 4).astype("float32")
            in_a, in_b = keras.layers.Input((3, 4)), keras.layers.Input((3, 4))
            merged = getattr(keras.layers, cls)(**kwargs)([keras.layers.Dense(4)(in_a), in_b])
            out = keras.layers.Dense(1)(keras.layers.Flatten()(merged))
            model = keras.models.Model([in_a, in_b], out)
            restored = keras.models.model_from_json(model.to_json())
            assert restored.layers[3].get_config() == model.layers[3].get_config()
            return _train_and_predict(model, [a, b], a.sum(axis=(1, 2))[:, None])
        CASES["merge_" + name] = run


_register_merges()


@case
def layer_LSTM_return_state():
    rng = np.random.RandomState(3)
    x = rng.randn(8, 4, 2).astype("float32")
    inputs = keras.layers.Input((4, 2))
    sequences, h, c = keras.layers.LSTM(3, return_sequences=True, return_state=True)(inputs)
    decoded = keras.layers.GRU(3)(sequences, initial_state=[h])
    model = keras.models.Model(inputs, [decoded, c])
    return _train_and_predict(model, x, [np.zeros((8, 3), "float32")] * 2)


@case
def layer_GRU_return_state_backwards():
    rng = np.random.RandomState(3)
    x = rng.randn(8, 4, 2).astype("float32")
    inputs = keras.layers.Input((4, 2))
    output, state = keras.layers.GRU(3, return_state=True, go_backwards=True, reset_after=True)(inputs)
    model = keras.models.Model(inputs, keras.layers.add([output, state]))
    return _train_and_predict(model, x, np.zeros((8, 3), "float32"))


@case
def layer_Embedding_mask_zero_LSTM():
    """A zero token is masked: the LSTM carries its state over it, so padding does not change the result."""
    x = np.array([[3, 5, 0, 0], [3, 5, 2, 0], [0, 0, 3, 5]], "int32")
    model = keras.models.Sequential([keras.layers.Embedding(8, 3, mask_zero=True, input_length=4),
                                     keras.layers.LSTM(2)])
    _fixed_weights(model)
    out = model.predict(x)
    unpadded = model.predict(np.array([[3, 5, 0, 0]], "int32"))
    model.compile("sgd", "mse")
    model.train_on_batch(x, np.zeros((3, 2), "float32"))
    return {"fixed_predictions": _floats(out), "padding_ignored": float(np.abs(out[2] - unpadded[0]).max())}


@case
def layer_Masking_GRU_sequences():
    x = np.random.RandomState(4).randn(3, 5, 2).astype("float32")
    x[0, 3:] = 0.0
    model = keras.models.Sequential([keras.layers.Masking(0.0, input_shape=(5, 2)),
                                     keras.layers.GRU(2, return_sequences=True),
                                     keras.layers.TimeDistributed(keras.layers.Dense(1))])
    return _train_and_predict(model, x, np.zeros((3, 5, 1), "float32"))


@case
def layer_Bidirectional_masked_return_state():
    x = np.array([[1, 2, 3, 0], [4, 0, 0, 0]], "int32")
    inputs = keras.layers.Input((4,), dtype="int32")
    embedded = keras.layers.Embedding(6, 3, mask_zero=True)(inputs)
    outputs = keras.layers.Bidirectional(keras.layers.LSTM(2, return_state=True))(embedded)
    model = keras.models.Model(inputs, keras.layers.concatenate(outputs))
    return _train_and_predict(model, x, np.zeros((2, 12), "float32"))


@case
def layer_RNN_stacked_cells():
    """keras.layers.RNN over a list of cells (StackedRNNCells: nested states), with its states returned."""
    x = np.random.RandomState(6).randn(4, 3, 2).astype("float32")
    inputs = keras.layers.Input((3, 2))
    cells = [keras.layers.SimpleRNNCell(3), keras.layers.LSTMCell(2)]
    output, *states = keras.layers.RNN(cells, return_state=True)(inputs)
    model = keras.models.Model(inputs, keras.layers.concatenate([output] + states))
    restored = keras.models.model_from_json(model.to_json())
    assert len(restored.layers[1].cell.cells) == 2
    return _train_and_predict(model, x, np.zeros((4, 9), "float32"))


@case
def stateful_lstm_reset_states():
    x = np.random.RandomState(5).randn(2, 3, 2).astype("float32")
    model = keras.models.Sequential([keras.layers.LSTM(3, stateful=True, batch_input_shape=(2, 3, 2))])
    _fixed_weights(model)
    first = model.predict(x)
    carried = model.predict(x)  # the state from the first call is the start of the second
    model.reset_states()
    again = model.predict(x)
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((2, 3), "float32"), batch_size=2, epochs=2, shuffle=False, verbose=0)
    return {"fixed_predictions": _floats(np.concatenate([first, carried])),
            "carried_differs": bool(not np.allclose(first, carried)), "reset_equal": bool(np.allclose(first, again))}


# ---------------------------------------------------------------------------------------------------
# losses and metrics

LOSSES = ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
          "mean_squared_logarithmic_error", "squared_hinge", "hinge", "categorical_hinge", "logcosh",
          "huber_loss", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
          "kullback_leibler_divergence", "poisson", "cosine_proximity"]


def _probabilities(seed):
    rng = np.random.RandomState(seed)
    p = rng.uniform(0.05, 1.0, (6, 4)).astype("float32")
    return p / p.sum(axis=1, keepdims=True)


def _register_losses():
    for name in LOSSES:
        def run(name=name):
            fn = getattr(keras.losses, name)
            y_pred = _probabilities(0)
            sparse = name.startswith("sparse")
            labels = np.array([0, 3, 1, 2, 2, 1])
            y_true = labels[:, None].astype("float32") if sparse else np.eye(4, dtype="float32")[labels]
            value = K.eval(fn(K.constant(y_true), K.constant(y_pred)))
            # the same loss trains a softmax model and goes down
            model = keras.models.Sequential([keras.layers.Dense(4, activation="softmax", input_shape=(3,))])
            _fixed_weights(model)
            model.compile(keras.optimizers.SGD(0.5), name)
            x = np.random.RandomState(1).randn(6, 3).astype("float32")
            history = model.fit(x, y_true, epochs=6, batch_size=6, verbose=0)
            return {"value": _floats(value), "loss": _floats(history.history["loss"])}
        CASES["loss_" + name] = run
    for cls in ["MeanSquaredError", "BinaryCrossentropy", "CategoricalCrossentropy", "Huber", "LogCosh",
                "KLDivergence"]:
        def run(cls=cls):
            kwargs = {"label_smoothing": 0.1} if "Crossentropy" in cls else {}
            loss = getattr(keras.losses, cls)(**kwargs)
            y_true, y_pred = np.eye(4, dtype="float32")[[0, 3, 1, 2, 2, 1]], _probabilities(0)
            weights = np.linspace(0.0, 1.0, 6).astype("float32")
            value = K.eval(loss(K.constant(y_true), K.constant(y_pred), sample_weight=K.constant(weights)))
            restored = keras.losses.deserialize(keras.losses.serialize(loss))
            return {"value": _floats(value), "restored": type(restored).__name__}
        CASES["loss_class_" + cls] = run


_register_losses()

METRICS = [
    ("accuracy", "accuracy", "binary"), ("binary_accuracy", "binary_accuracy", "binary"),
    ("categorical_accuracy", "categorical_accuracy", "categorical"),
    ("sparse_categorical_accuracy", "sparse_categorical_accuracy", "sparse"),
    ("top_k_categorical_accuracy", "top_k_categorical_accuracy", "categorical"),
    ("sparse_top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "sparse"),
    ("cosine_proximity", "cosine_proximity", "categorical"),
    ("AUC", ("AUC", {}), "binary"), ("AUC_PR", ("AUC", dict(curve="PR", num_thresholds=50)), "binary"),
    ("Precision", ("Precision", {}), "binary"), ("Recall", ("Recall", {}), "binary"),
    ("TruePositives", ("TruePositives", {}), "binary"), ("TrueNegatives", ("TrueNegatives", {}), "binary"),
    ("FalsePositives", ("FalsePositives", dict(thresholds=0.3)), "binary"),
    ("FalseNegatives", ("FalseNegatives", {}), "binary"),
    ("SensitivityAtSpecificity", ("SensitivityAtSpecificity", dict(specificity=0.5)), "binary"),
    ("SpecificityAtSensitivity", ("SpecificityAtSensitivity", dict(sensitivity=0.5)), "binary"),
    ("RootMeanSquaredError", ("RootMeanSquaredError", {}), "binary"),
    ("TopKCategoricalAccuracy", ("TopKCategoricalAccuracy", dict(k=2)), "categorical"),
    ("SparseTopKCategoricalAccuracy", ("SparseTopKCategoricalAccuracy", dict(k=2)), "sparse"),
    ("CosineSimilarity", ("CosineSimilarity", {}), "categorical"),
    ("Mean_and_Sum", None, None),
]


def _metric_data(kind):
    rng = np.random.RandomState(6)
    x = rng.randn(20, 3).astype("float32")
    labels = (x[:, 0] > 0).astype("int64") if kind == "binary" else rng.randint(0, 4, 20)
    if kind == "binary":
        return x, labels[:, None].astype("float32"), 1
    if kind == "sparse":
        return x, labels[:, None].astype("float32"), 4
    return x, np.eye(4, dtype="float32")[labels], 4


def _register_metrics():
    for name, spec, kind in METRICS:
        if spec is None:
            continue

        def run(spec=spec, kind=kind):
            metric = spec if isinstance(spec, str) else getattr(keras.metrics, spec[0])(**spec[1])
            x, y, units = _metric_data(kind)
            activation = "sigmoid" if units == 1 else "softmax"
            loss = {"binary": "binary_crossentropy", "sparse": "sparse_categorical_crossentropy"}.get(
                kind, "categorical_crossentropy")
            model = keras.models.Sequential([keras.layers.Dense(units, activation=activation, input_shape=(3,))])
            model.compile(keras.optimizers.SGD(0.1), loss, metrics=[metric])
            _fixed_weights(model)
            evaluated = model.evaluate(x, y, batch_size=7, verbose=0)  # three batches accumulate
            history = model.fit(x, y, epochs=2, batch_size=10, verbose=0)
            return {"value": _floats(evaluated), "names": model.metrics_names,
                    "history": _floats(history.history[model.metrics_names[1]])}
        CASES["metric_" + name] = run


_register_metrics()


@case
def metric_Mean_and_Sum():
    """Stateful metrics called on a placeholder: each run of the function adds a batch to the state."""
    mean, total = keras.metrics.Mean(), keras.metrics.Sum()
    batch = K.placeholder((None,))
    run = K.function([batch], [mean(batch), total(batch)])
    values = [_floats(run([np.array(b, "float32")])) for b in ([1.0, 2.0], [3.0, 10.0])]
    mean.reset_states()
    return {"value": values, "after_reset": float(K.get_value(mean.count))}


# ---------------------------------------------------------------------------------------------------
# optimizers: each trains a small regression and its loss goes down

OPTIMIZERS = [
    ("SGD", dict(lr=0.05)), ("SGD_momentum_nesterov", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD_decay_clipnorm", dict(lr=0.05, decay=0.01, clipnorm=1.0)), ("RMSprop", dict(lr=0.01)),
    ("RMSprop_clipvalue", dict(lr=0.01, clipvalue=0.5)), ("Adagrad", dict(lr=0.1)),
    ("Adadelta", dict(lr=1.0)), ("Adam", dict(lr=0.02)), ("Adam_amsgrad", dict(lr=0.02, amsgrad=True)),
    ("Adamax", dict(lr=0.02, clipnorm=0.5)), ("Nadam", dict(lr=0.02, clipvalue=1.0)),
]


def _register_optimizers():
    for name, kwargs in OPTIMIZERS:
        def run(cls=name.split("_")[0], kwargs=kwargs):
            rng = np.random.RandomState(7)
            x = rng.randn(64, 5).astype("float32")
            y = (x @ rng.randn(5, 1) + 0.5).astype("float32")
            model = keras.models.Sequential([keras.layers.Dense(8, activation="tanh", input_shape=(5,)),
                                             keras.layers.Dense(1)])
            _fixed_weights(model)
            optimizer = getattr(keras.optimizers, cls)(**kwargs)
            model.compile(optimizer, "mse")
            history = model.fit(x, y, epochs=8, batch_size=16, shuffle=False, verbose=0)
            config = keras.optimizers.serialize(model.optimizer)
            restored = keras.optimizers.deserialize(config)
            return {"loss": _floats(history.history["loss"]), "restored": type(restored).__name__,
                    "iterations": int(K.get_value(model.optimizer.iterations)),
                    "weights": len(model.optimizer.get_weights())}
        CASES["optimizer_" + name] = run


_register_optimizers()


# ---------------------------------------------------------------------------------------------------
# model features

def _small_model(inputs=4, outputs=1, activation="sigmoid", loss="binary_crossentropy", metrics=("accuracy",)):
    model = keras.models.Sequential([keras.layers.Dense(8, activation="relu", input_shape=(inputs,)),
                                     keras.layers.Dense(outputs, activation=activation)])
    model.compile(keras.optimizers.Adam(0.02), loss, metrics=list(metrics))
    _fixed_weights(model)
    return model


def _blobs(n=64, features=4, seed=0):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, n)
    x = rng.randn(n, features).astype("float32") + (2.0 * y - 1.0)[:, None]
    return x, y.astype("float32")[:, None]


@case
def model_fit_sample_weight_class_weight():
    x, y = _blobs()
    model = _small_model()
    weights = np.where(y[:, 0] > 0, 2.0, 0.5).astype("float32")
    weighted = model.fit(x, y, sample_weight=weights, epochs=4, batch_size=16, verbose=0)
    by_class = model.fit(x, y, class_weight={0: 1.0, 1: 3.0}, epochs=4, batch_size=16, verbose=0)
    zero = model.evaluate(x, y, sample_weight=np.zeros(len(x), "float32"), verbose=0)
    return {"loss": _floats(weighted.history["loss"] + by_class.history["loss"]), "zero_weight": _floats(zero)}


@case
def model_temporal_sample_weight():
    x = np.random.RandomState(1).randn(8, 3, 2).astype("float32")
    model = keras.models.Sequential([keras.layers.TimeDistributed(keras.layers.Dense(1), input_shape=(3, 2))])
    model.compile("sgd", "mse", sample_weight_mode="temporal")
    weights = np.ones((8, 3), "float32")
    weights[:, 2] = 0.0
    history = model.fit(x, np.ones((8, 3, 1), "float32"), sample_weight=weights, epochs=3, verbose=0)
    return {"loss": _floats(history.history["loss"])}


class _Locked:
    """An iterator several threads may draw from (as Keras asks of a generator with workers > 1)."""

    def __init__(self, iterator):
        self.iterator, self.lock = iterator, threading.Lock()

    def __iter__(self):
        return self

    def __next__(self):
        with self.lock:
            return next(self.iterator)


def _batches(x, y, batch):
    while True:
        for start in range(0, len(x), batch):
            yield x[start:start + batch], y[start:start + batch]


def _generator(x, y, batch):
    return _Locked(_batches(x, y, batch))


class _Batches:
    """A keras.utils.Sequence over arrays (its base class is set once Keras is imported)."""

    def __init__(self, x, y, batch):
        self.x, self.y, self.batch = x, y, batch

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch))

    def __getitem__(self, index):
        part = slice(index * self.batch, (index + 1) * self.batch)
        return self.x[part], self.y[part]


def _generator_case(source, workers):
    x, y = _blobs(seed=2)
    model = _small_model()
    data = (lambda: _generator(x, y, 16)) if source == "generator" else (
        lambda: type("Batches", (_Batches, keras.utils.Sequence), {})(x, y, 16))
    steps = {"steps_per_epoch": 4} if source == "generator" else {}
    history = model.fit_generator(data(), epochs=4, workers=workers, use_multiprocessing=False, verbose=0,
                                  shuffle=False, validation_data=data(), validation_steps=2, **steps)
    evaluated = model.evaluate_generator(data(), steps=4, workers=workers, use_multiprocessing=False)
    predicted = model.predict_generator(_Locked(xb for xb, _ in _batches(x, y, 16)) if source == "generator"
                                        else data(), steps=4, workers=workers, use_multiprocessing=False)
    direct = model.predict(x)
    # threads pulling from one Python generator may hand out its batches in any order: what training
    # reached is compared with NumPy only where the order is fixed (no threads, or a Sequence)
    ordered = workers == 0 or source == "sequence"
    return {"loss": _floats(history.history["loss"]), "val_loss": _floats(history.history["val_loss"]),
            "evaluate" if ordered else "evaluate_unordered": _floats(evaluated),
            "predict_diff": float(np.abs(predicted - direct).max() if ordered else
                                  np.abs(np.sort(predicted, axis=0) - np.sort(direct, axis=0)).max())}


for _source in ("generator", "sequence"):
    for _workers in (0, 2):
        CASES[f"model_fit_{_source}_workers{_workers}"] = (
            lambda source=_source, workers=_workers: _generator_case(source, workers))


@case
def model_callbacks():
    x, y = _blobs(seed=3)
    model = _small_model()
    seen = []
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = os.path.join(folder, "weights.{epoch:02d}.h5")
        log = os.path.join(folder, "log.csv")
        callbacks = [
            keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_loss", save_best_only=False),
            keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10.0),
            keras.callbacks.CSVLogger(log),
            keras.callbacks.TerminateOnNaN(),
            keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs["loss"])),
        ]
        history = model.fit(x, y, validation_split=0.25, epochs=3, batch_size=16, verbose=0,
                            callbacks=callbacks)
        saved = sorted(os.listdir(folder))
        rows = open(log).read().strip().splitlines()
        model.load_weights(os.path.join(folder, "weights.03.h5"))
    return {"loss": _floats(history.history["loss"]), "lambda_seen": _floats(seen), "files": saved,
            "csv_rows": len(rows), "lr": float(K.get_value(model.optimizer.lr)),
            "lr_history": _floats(history.history["lr"])}


@case
def model_learning_rate_scheduler():
    x, y = _blobs(seed=3)
    model = _small_model()
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))
    model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[schedule])
    return {"lr": float(K.get_value(model.optimizer.lr))}


@case
def model_terminate_on_nan():
    x, y = _blobs(seed=3)
    model = _small_model(activation=None, loss="mse", metrics=())
    model.compile(keras.optimizers.SGD(1e6), "mse")
    history = model.fit(x, y * 1e6, epochs=5, batch_size=8, verbose=0,
                        callbacks=[keras.callbacks.TerminateOnNaN()])
    return {"epochs": len(history.history["loss"]), "last": float(history.history["loss"][-1])}


class _Scale:
    """A custom layer (its base class is Keras's Layer, set once Keras is imported)."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.scale = self.add_weight("scale", (input_shape[-1],), initializer="ones")
        super().build(input_shape)

    def call(self, inputs):
        return inputs * self.scale * self.factor

    def get_config(self):
        return dict(super().get_config(), factor=self.factor)


def _scale_layer():
    return type("ScaleLayer", (_Scale, keras.layers.Layer), {})


@case
def model_json_roundtrip():
    inputs = keras.layers.Input((4,))
    hidden = keras.layers.Dense(3, activation="relu", name="hidden")(inputs)
    model = keras.models.Model(inputs, keras.layers.Dense(2, activation="softmax")(hidden))
    _fixed_weights(model)
    restored = keras.models.model_from_json(model.to_json())
    restored.set_weights(model.get_weights())
    x = np.random.RandomState(0).randn(3, 4).astype("float32")
    yaml_free = keras.models.Sequential.from_config(
        keras.models.Sequential([keras.layers.Dense(2, input_shape=(4,))]).get_config())
    return {"diff": float(np.abs(restored.predict(x) - model.predict(x)).max()),
            "hidden_units": restored.get_layer("hidden").units, "sequential_layers": len(yaml_free.layers),
            "fixed_predictions": _floats(model.predict(x))}


@case
def model_save_load_custom_layer():
    scale = _scale_layer()
    x, y = _blobs(seed=4)
    model = keras.models.Sequential([scale(3.0, input_shape=(4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.RMSprop(0.01), "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.h5")
        model.save(path)
        restored = keras.models.load_model(path, custom_objects={"ScaleLayer": scale})
    diff = float(np.abs(restored.predict(x) - model.predict(x)).max())
    more = restored.fit(x, y, epochs=1, verbose=0)  # the optimizer state came back too
    return {"diff": diff, "factor": restored.layers[0].factor, "loss": _floats(more.history["loss"]),
            "optimizer_iterations": int(K.get_value(restored.optimizer.iterations))}


@case
def model_nested_shared_get_layer():
    inner = keras.models.Sequential([keras.layers.Dense(3, activation="tanh", input_shape=(4,)),
                                     keras.layers.Dense(2)], name="inner")
    shared = keras.layers.Dense(4, name="shared")
    a, b = keras.layers.Input((4,)), keras.layers.Input((4,))
    out = keras.layers.add([inner(shared(a)), inner(shared(b))])
    model = keras.models.Model([a, b], out)
    _fixed_weights(model)
    rng = np.random.RandomState(5)
    xa, xb = rng.randn(16, 4).astype("float32"), rng.randn(16, 4).astype("float32")
    fixed = model.predict([xa, xb])
    model.compile("adam", "mse")
    history = model.fit([xa, xb], np.ones((16, 2), "float32"), epochs=5, batch_size=8, verbose=0)
    restored = keras.models.model_from_json(model.to_json())
    restored.set_weights(model.get_weights())
    return {"fixed_predictions": _floats(fixed), "loss": _floats(history.history["loss"]),
            "shared_nodes": len(model.get_layer("shared")._inbound_nodes),
            "inner_layers": len(model.get_layer("inner").layers), "weights": len(model.weights),
            "restored_diff": float(np.abs(restored.predict([xa, xb]) - model.predict([xa, xb])).max())}


@case
def model_multiple_losses_loss_weights_add_loss():
    rng = np.random.RandomState(6)
    x = rng.randn(32, 4).astype("float32")
    inputs = keras.layers.Input((4,))
    hidden = keras.layers.Dense(6, activation="relu")(inputs)
    regression = keras.layers.Dense(1, name="reg")(hidden)
    classes = keras.layers.Dense(3, activation="softmax", name="cls")(hidden)
    model = keras.models.Model(inputs, [regression, classes])
    model.add_loss(0.01 * K.mean(K.square(hidden)))
    model.compile(keras.optimizers.Adam(0.02), loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  loss_weights={"reg": 1.0, "cls": 0.5}, metrics={"cls": ["accuracy"], "reg": ["mae"]})
    _fixed_weights(model)
    targets = [x.sum(axis=1, keepdims=True), rng.randint(0, 3, (32, 1))]
    history = model.fit(x, targets, epochs=6, batch_size=8, verbose=0)
    evaluated = model.evaluate(x, targets, verbose=0)
    return {"loss": _floats(history.history["loss"]), "metrics_names": model.metrics_names,
            "evaluate": _floats(evaluated), "losses": len(model.losses)}


@case
def model_train_test_predict_on_batch():
    x, y = _blobs(seed=7)
    model = _small_model(metrics=("accuracy", "mse"))
    trained = [model.train_on_batch(x, y) for _ in range(3)]
    tested = model.test_on_batch(x, y)
    return {"train": _floats(trained), "test": _floats(tested), "metrics_names": model.metrics_names,
            "predict_shape": list(model.predict_on_batch(x).shape)}


@case
def model_layer_trainable_freeze():
    x, y = _blobs(seed=8)
    model = _small_model()
    model.layers[0].trainable = False
    model.compile("adam", "binary_crossentropy")
    frozen = model.layers[0].get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    return {"frozen_moved": bool(any(not np.array_equal(a, b)
                                     for a, b in zip(frozen, model.layers[0].get_weights()))),
            "trainable_weights": len(model.trainable_weights),
            "non_trainable_weights": len(model.non_trainable_weights)}


# ---------------------------------------------------------------------------------------------------

def main():
    global keras, K
    import keras as keras_module
    from keras import backend
    import keras.utils.test_utils  # noqa: F401 - layer_test
    keras, K = keras_module, backend
    names = sys.argv[2:] or list(CASES)
    results = {}
    for name in names:
        np.random.seed(0)
        start = time.perf_counter()
        try:
            results[name] = {"ok": True, **(CASES[name]() or {})}
        except Exception:  # noqa: BLE001 - recorded for the test to report
            results[name] = {"ok": False, "error": traceback.format_exc()}
        results[name]["seconds"] = time.perf_counter() - start
        K.clear_session()
    with open(sys.argv[1], "w") as out:
        json.dump(results, out)


if __name__ == "__main__":
    main()
