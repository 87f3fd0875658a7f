"""Invalid arguments of the convolution and pooling ops: ValueError naming the function and the argument."""

import re

import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS

F = "float32"


def _inputs(op):
    """Valid channels_last positional arguments of ``op`` (as NumPy arrays and Python values)."""
    return {
        "conv1d": (np.ones((1, 6, 2), F), np.ones((3, 2, 2), F)),
        "separable_conv1d": (np.ones((1, 6, 2), F), np.ones((3, 2, 1), F), np.ones((1, 2, 2), F)),
        "conv2d": (np.ones((1, 5, 5, 2), F), np.ones((3, 3, 2, 2), F)),
        "separable_conv2d": (np.ones((1, 5, 5, 2), F), np.ones((3, 3, 2, 1), F), np.ones((1, 1, 2, 2), F)),
        "conv2d_transpose": (np.ones((1, 3, 3, 2), F), np.ones((3, 3, 2, 2), F), (1, 5, 5, 2)),
        "depthwise_conv2d": (np.ones((1, 5, 5, 2), F), np.ones((3, 3, 2, 1), F)),
        "conv3d": (np.ones((1, 4, 4, 4, 2), F), np.ones((2, 2, 2, 2, 2), F)),
        "conv3d_transpose": (np.ones((1, 3, 3, 3, 2), F), np.ones((2, 2, 2, 2, 2), F), (1, 4, 4, 4, 2)),
        "pool2d": (np.ones((1, 4, 4, 2), F), (2, 2)),
        "pool3d": (np.ones((1, 4, 4, 4, 2), F), (2, 2, 2)),
        "local_conv1d": (np.ones((1, 6, 2), F), np.ones((4, 6, 3), F), (3,), (1,)),
        "local_conv2d": (np.ones((1, 4, 4, 2), F), np.ones((4, 18, 3), F), (3, 3), (1, 1), (2, 2)),
    }[op]


def _call(backend, op, args, **kwargs):
    with K.backend_scope(backend):
        tensors = [K.constant(a) if isinstance(a, np.ndarray) else a for a in args]
        return getattr(K, op)(*tensors, **kwargs)


def _message(op, argument):
    return rf"^{op}: .*`{argument}`"


PADDED = ["conv1d", "separable_conv1d", "conv2d", "separable_conv2d", "conv2d_transpose", "depthwise_conv2d",
          "conv3d", "conv3d_transpose", "pool2d", "pool3d"]
FORMATTED = PADDED + ["local_conv1d", "local_conv2d"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op", PADDED)
def test_invalid_padding(op, backend):
    with pytest.raises(ValueError, match=_message(op, "padding")):
        _call(backend, op, _inputs(op), padding="twice")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op", FORMATTED)
def test_invalid_data_format(op, backend):
    with pytest.raises(ValueError, match=_message(op, "data_format")):
        _call(backend, op, _inputs(op), data_format="channels_middle")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op", ["pool2d", "pool3d"])
def test_invalid_pool_mode(op, backend):
    with pytest.raises(ValueError, match=_message(op, "pool_mode")):
        _call(backend, op, _inputs(op), pool_mode="median")


@pytest.mark.parametrize("backend", BACKENDS)
def test_causal_padding_needs_channels_last(backend):
    with pytest.raises(ValueError, match=_message("conv1d", "padding")):
        _call(backend, "conv1d", (np.ones((1, 2, 6), F), np.ones((3, 2, 2), F)), padding="causal",
              data_format="channels_first")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op", ["conv1d", "separable_conv1d", "conv2d", "separable_conv2d", "conv2d_transpose",
                                "depthwise_conv2d", "conv3d"])
def test_strides_with_dilation(op, backend):
    args = _inputs(op)
    if op == "conv2d_transpose":
        args = args[:2] + ((1, 6, 6, 2),)
    with pytest.raises(ValueError, match=_message(op, "dilation_rate")):
        _call(backend, op, args, strides=2, dilation_rate=2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_conv2d_transpose_unequal_dilation(backend):
    args = (np.ones((1, 3, 3, 2), F), np.ones((3, 3, 2, 2), F), (1, 7, 5, 2))
    with pytest.raises(ValueError, match=_message("conv2d_transpose", "dilation_rate")):
        _call(backend, "conv2d_transpose", args, dilation_rate=(2, 1))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op,output_shape", [("conv2d_transpose", (1, 6, 5, 2)),
                                             ("conv3d_transpose", (1, 4, 4, 5, 2))])
def test_transpose_output_shape_mismatch(op, output_shape, backend):
    args = _inputs(op)[:2] + (output_shape,)
    with pytest.raises(ValueError, match=_message(op, "output_shape")):
        _call(backend, op, args)


@pytest.mark.parametrize("output_shape", [(1, 5, 5), "5x5", (1, 5, None, 2)])
def test_transpose_output_shape_malformed(output_shape):
    x, kernel, _ = _inputs("conv2d_transpose")
    with pytest.raises(TypeError, match=_message("conv2d_transpose", "output_shape")):
        K.conv2d_transpose(x, kernel, output_shape)


def test_message_names_got_and_expected():
    x, kernel = _inputs("conv2d")
    with pytest.raises(ValueError) as info:
        K.conv2d(x, kernel, padding="twice")
    assert re.search(r"got 'twice'; expected .*'valid'.*'same'", str(info.value))


# ---------------------------------------------------------------------------------------------------
# A check remembers the patterns it passed (ops/conv_rules.Remembered); what it remembers must never let
# a call through that the check would refuse, nor keep a default the configuration has since changed.


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("strides", [(1.0, 1.0), (True, True)])
def test_remembered_call_refuses_equal_strides_of_another_type(strides, backend):
    x, kernel = _inputs("conv2d")
    _call(backend, "conv2d", (x, kernel), strides=(1, 1))
    _call(backend, "conv2d", (x, kernel), strides=(1, 1))  # now remembered
    with pytest.raises(TypeError, match=_message("conv2d", "strides")):
        _call(backend, "conv2d", (x, kernel), strides=strides)


@pytest.mark.parametrize("backend", BACKENDS)
def test_remembered_call_follows_the_image_data_format(backend):
    x = np.arange(2 * 4 * 4 * 3, dtype=F).reshape(2, 4, 4, 3)
    kernel = np.ones((3, 3, 3, 5), F)
    first = _call(backend, "conv2d", (x, kernel))
    again = _call(backend, "conv2d", (x, kernel))
    np.testing.assert_array_equal(K.eval(first), K.eval(again))
    assert K.int_shape(first) == (2, 2, 2, 5)
    K.set_image_data_format("channels_first")
    try:
        # (2, 4, 4, 3) read channels_first has 4 channels: the remembered channels_last call must not
        # let it through to the kernel.
        with pytest.raises(ValueError, match="^conv2d: "):
            _call(backend, "conv2d", (x, kernel))
        x_first = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        np.testing.assert_allclose(K.eval(_call(backend, "conv2d", (x_first, kernel))),
                                   K.eval(first).transpose(0, 3, 1, 2), rtol=1e-6)
    finally:
        K.set_image_data_format("channels_last")


@pytest.mark.parametrize("backend", BACKENDS)
def test_remembered_call_still_refuses_other_shapes(backend):
    x, kernel = _inputs("conv2d")
    for _ in range(2):
        _call(backend, "conv2d", (x, kernel), strides=(1, 1))
    for _ in range(2):  # a refused call remembers nothing
        with pytest.raises(ValueError, match="^conv2d: "):
            _call(backend, "conv2d", (x, np.ones((3, 3, 4, 2), F)), strides=(1, 1))


def test_remembered_calls_are_bounded():
    from kbackend.ops import conv_rules

    memory = K.pool2d.__globals__["_calls"]
    for size in range(4, 4 + conv_rules._REMEMBERED + 10):
        K.pool2d(np.ones((1, size, 1, 1), F), (1, 1))
    assert 0 < len(memory) <= conv_rules._REMEMBERED


@pytest.mark.parametrize("strides", [[1, 1], 1, np.int64(1)])
def test_remembered_call_takes_other_spellings(strides):
    x, kernel = _inputs("conv2d")
    expected = K.eval(K.conv2d(x, kernel))
    for _ in range(2):
        np.testing.assert_array_equal(K.eval(K.conv2d(x, kernel, strides=strides)), expected)
