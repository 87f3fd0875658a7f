"""Activations on PyTensor where the reference body does not serve (dropout runs the reference op)."""

import pytensor.tensor as pt
from pytensor.tensor.special import softmax as _softmax

from .reference_op import reference_op
from .arrays import is_graph, to_pt

_reference_dropout = reference_op("dropout")


# pytensor: the reference op; a mask entry on an axis of unknown size is read as None
def dropout(x, level, noise_shape=None, seed=None):
    # A graph op is typed by running the reference on probe sizes for x's unknown axes; a mask entry
    # on such an axis can only be that axis's size or 1 (the op's check), so it is read as None there.
    if noise_shape is not None and is_graph(x) and len(noise_shape) == x.type.ndim:
        noise_shape = tuple(d if d == 1 or size is not None else None
                            for d, size in zip(noise_shape, x.type.shape))
    return _reference_dropout(x, level, noise_shape, seed)


# pytensor: max_value bounds through maximum/minimum (pt.clip drops a NaN bound)
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    x = to_pt(x)
    if max_value is None and threshold == 0.0:
        if alpha == 0.0:
            return pt.maximum(x, 0)
        return pt.switch(pt.gt(x, 0), x, x * alpha)
    positive = x * pt.gt(x, threshold) if threshold != 0.0 else pt.maximum(x, 0)
    if max_value is not None:
        positive = pt.maximum(pt.minimum(positive, max_value), 0)  # pt.clip drops a NaN max_value
    if alpha != 0.0:
        positive = positive - alpha * pt.maximum(threshold - x, 0)
    return positive


def softmax(x, axis=-1):
    return _softmax(to_pt(x), axis=axis)


def softplus(x):
    return pt.softplus(to_pt(x))


def sigmoid(x):
    return pt.sigmoid(to_pt(x))


def tanh(x):
    return pt.tanh(to_pt(x))
