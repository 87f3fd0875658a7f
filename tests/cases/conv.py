"""Cases for convolutions, transposed convolutions, pooling and local (unshared-weight) convolutions.

``expected`` comes from direct loops over output positions in float64 (TensorFlow's 'same' padding:
output ``ceil(length / stride)``, the odd padding element after), cast to the input dtype.
"""

import math

import numpy as np

from . import ALL_FLOATS, Arr, Case, Rand

CL, CF = "channels_last", "channels_first"


def _tuple(value, n):
    return (value,) * n if isinstance(value, int) else tuple(value)


def _shape(data_format, batch, spatial, channels):
    return (batch, channels) + spatial if data_format == CF else (batch,) + spatial + (channels,)


def _last(x, data_format):
    x = np.asarray(x).astype(np.float64)
    return np.moveaxis(x, 1, -1) if data_format == CF else x


def _back(y, data_format, like):
    y = np.moveaxis(y, -1, 1) if data_format == CF else y
    return y.astype(np.asarray(like).dtype)


def _pads(spatial, window, strides, dilation, padding):
    pads = []
    for length, w, s, d in zip(spatial, window, strides, dilation):
        extent = (w - 1) * d + 1
        total = max((-(-length // s) - 1) * s + extent - length, 0) if padding == "same" else 0
        pads.append((total // 2, total - total // 2))
    return pads


def _conv(x, kernel, strides, padding, dilation):
    """Channels-last float64 cross-correlation, one output position and one tap at a time."""
    n = kernel.ndim - 2
    window = kernel.shape[:n]
    pads = _pads(x.shape[1:-1], window, strides, dilation, padding)
    padded = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out = [(length - (w - 1) * d - 1) // s + 1
           for length, w, s, d in zip(padded.shape[1:-1], window, strides, dilation)]
    y = np.zeros((x.shape[0],) + tuple(out) + (kernel.shape[-1],))
    for position in np.ndindex(*out):
        for tap in np.ndindex(*window):
            source = tuple(p * s + t * d for p, t, s, d in zip(position, tap, strides, dilation))
            y[(slice(None),) + position] += padded[(slice(None),) + source] @ kernel[tap]
    return y


def _depthwise_as_full(depthwise_kernel):
    """(window..., in, multiplier) → the equivalent dense kernel (window..., in, in * multiplier)."""
    *window, channels, multiplier = depthwise_kernel.shape
    full = np.zeros(tuple(window) + (channels, channels * multiplier))
    for c in range(channels):
        full[..., c, c * multiplier:(c + 1) * multiplier] = depthwise_kernel[..., c, :]
    return full


def _conv_fact(n):
    def fact(x, kernel, strides=1, padding="valid", data_format=CL, dilation_rate=1):
        v, kernel = _last(x, data_format), np.asarray(kernel).astype(np.float64)
        strides, dilation = _tuple(strides, n), _tuple(dilation_rate, n)
        if padding == "causal":
            v = np.pad(v, [(0, 0), (dilation[0] * (kernel.shape[0] - 1), 0), (0, 0)])
            padding = "valid"
        return _back(_conv(v, kernel, strides, padding, dilation), data_format, x)

    return fact


def _depthwise_fact(x, depthwise_kernel, strides=(1, 1), padding="valid", data_format=CL,
                    dilation_rate=(1, 1)):
    full = _depthwise_as_full(np.asarray(depthwise_kernel).astype(np.float64))
    y = _conv(_last(x, data_format), full, _tuple(strides, 2), padding, _tuple(dilation_rate, 2))
    return _back(y, data_format, x)


def _separable_fact(n):
    def fact(x, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=CL,
             dilation_rate=1):
        full = _depthwise_as_full(np.asarray(depthwise_kernel).astype(np.float64))
        y = _conv(_last(x, data_format), full, _tuple(strides, n), padding, _tuple(dilation_rate, n))
        y = _conv(y, np.asarray(pointwise_kernel).astype(np.float64), (1,) * n, "valid", (1,) * n)
        return _back(y, data_format, x)

    return fact


def _transpose_fact(n):
    """The adjoint of :func:`_conv`: every input element scatters ``x[i] @ kernel[tap].T``."""

    def fact(x, kernel, output_shape, strides=1, padding="valid", data_format=CL, dilation_rate=1):
        strides, dilation = _tuple(strides, n), _tuple(dilation_rate, n)
        v, kernel = _last(x, data_format), np.asarray(kernel).astype(np.float64)
        out = tuple(output_shape[2:] if data_format == CF else output_shape[1:-1])
        window = kernel.shape[:n]
        before = [p[0] for p in _pads(out, window, strides, dilation, padding)]
        room = [(length - 1) * s + (w - 1) * d + 1 + o
                for length, s, w, d, o in zip(v.shape[1:-1], strides, window, dilation, out)]
        y = np.zeros((v.shape[0],) + tuple(room) + (kernel.shape[n],))
        for position in np.ndindex(*v.shape[1:-1]):
            for tap in np.ndindex(*window):
                target = tuple(p * s + t * d for p, t, s, d in zip(position, tap, strides, dilation))
                y[(slice(None),) + target] += v[(slice(None),) + position] @ kernel[tap].T
        y = y[(slice(None),) + tuple(slice(b, b + o) for b, o in zip(before, out))]
        return _back(y, data_format, x)

    return fact


def _pool_fact(n):
    def fact(x, pool_size, strides=1, padding="valid", data_format=CL, pool_mode="max"):
        pool_size, strides = _tuple(pool_size, n), _tuple(strides, n)
        v = _last(x, data_format)
        spatial = v.shape[1:-1]
        before = [p[0] for p in _pads(spatial, pool_size, strides, (1,) * n, padding)]
        out = [-(-length // s) if padding == "same" else (length - k) // s + 1
               for length, k, s in zip(spatial, pool_size, strides)]
        y = np.zeros((v.shape[0],) + tuple(out) + (v.shape[-1],))
        for position in np.ndindex(*out):
            window = tuple(slice(max(p * s - b, 0), min(p * s - b + k, length))
                           for p, s, b, k, length in zip(position, strides, before, pool_size, spatial))
            values = v[(slice(None),) + window + (slice(None),)]
            reduce = np.max if pool_mode == "max" else np.mean
            y[(slice(None),) + position] = reduce(values, axis=tuple(range(1, n + 1)))
        return _back(y, data_format, x)

    return fact


def _local_fact(inputs, kernel, kernel_size, strides, output_shape=None, data_format=CL):
    """tf_keras ``local_conv``: each window is flattened in the input's own layout."""
    x, kernel = np.asarray(inputs).astype(np.float64), np.asarray(kernel).astype(np.float64)
    if output_shape is None:
        output_shape = (kernel.shape[0],)
    y = np.zeros((x.shape[0],) + tuple(output_shape) + (kernel.shape[-1],))
    for index, position in enumerate(np.ndindex(*output_shape)):
        window = tuple(slice(p * s, p * s + k) for p, s, k in zip(position, strides, kernel_size))
        patch = x[(slice(None),) * (2 if data_format == CF else 1) + window]
        y[(slice(None),) + position] = patch.reshape(x.shape[0], -1) @ kernel[index]
    return _back(y, data_format, inputs)


def _conv_cases(op, n, spatial, window, configs):
    """``configs``: (name, data_format, padding, strides, dilation_rate)."""
    fact = _conv_fact(n)
    cases = []
    for name, data_format, padding, strides, dilation in configs:
        x = Rand(_shape(data_format, 2, spatial, 3))
        kernel = Rand(window + (3, 4))
        kwargs = {"strides": strides, "padding": padding, "data_format": data_format, "dilation_rate": dilation}
        cases.append(Case(op, (x, kernel), kwargs, dtypes=ALL_FLOATS, name=name, expected=fact))
    return cases


def _depthwise_cases(op, n, spatial, window, configs, pointwise=False):
    fact = _separable_fact(n) if pointwise else _depthwise_fact
    cases = []
    for name, data_format, padding, strides, dilation in configs:
        args = (Rand(_shape(data_format, 2, spatial, 3)), Rand(window + (3, 2)))
        if pointwise:
            args += (Rand((1,) * n + (6, 4)),)
        kwargs = {"strides": strides, "padding": padding, "data_format": data_format, "dilation_rate": dilation}
        oracle = True
        if op == "separable_conv1d":
            oracle = "tf_keras separable_conv1d hands data_format 'NWC' to a 2-D TensorFlow op, which refuses it"
        cases.append(Case(op, args, kwargs, dtypes=ALL_FLOATS, name=name, expected=fact, oracle=oracle))
    return cases


def _transpose_cases(op, n, spatial, window, configs):
    """``configs``: (name, data_format, padding, strides, dilation_rate or None, out spatial, batch)."""
    fact = _transpose_fact(n)
    cases = []
    for name, data_format, padding, strides, dilation, out, batch in configs:
        x = Rand(_shape(data_format, 2, spatial, 3))
        kernel = Rand(window + (4, 3))
        kwargs = {"strides": strides, "padding": padding, "data_format": data_format}
        if dilation is not None:
            kwargs["dilation_rate"] = dilation
        output_shape = _shape(data_format, batch, out, 4)
        oracle = True
        if op == "conv3d_transpose" and batch is None:
            oracle = "tf_keras conv3d_transpose stacks output_shape into a tensor before replacing a None batch"
        cases.append(Case(op, (x, kernel, output_shape), kwargs, dtypes=ALL_FLOATS, name=name, expected=fact,
                          oracle=oracle))
    return cases


def _pool_cases(op, n, spatial, configs):
    """``configs``: (data_format, padding, pool_mode, pool_size, strides or None)."""
    fact = _pool_fact(n)
    cases = []
    for data_format, padding, mode, pool_size, strides in configs:
        kwargs = {"padding": padding, "data_format": data_format, "pool_mode": mode}
        name = f"{mode}-{padding}-{'cf' if data_format == CF else 'cl'}-p{''.join(map(str, pool_size))}"
        if strides is not None:
            kwargs["strides"] = strides
            name += f"-s{''.join(map(str, strides))}"
        x = Rand(_shape(data_format, 2, spatial, 3), -3, 3)
        cases.append(Case(op, (x, pool_size), kwargs, dtypes=ALL_FLOATS, name=name, expected=fact))
    return cases


def _local_cases():
    cases = []
    for data_format, strides, kernel_size in ((CL, 1, 3), (CF, 2, 3), (CL, 3, 2), (CF, 1, 2)):
        out = (9 - kernel_size) // strides + 1
        args = (Rand(_shape(data_format, 2, (9,), 3)), Rand((out, kernel_size * 3, 4)), (kernel_size,),
                (strides,))
        name = f"{'cf' if data_format == CF else 'cl'}-k{kernel_size}-s{strides}"
        cases.append(Case("local_conv1d", args, {"data_format": data_format}, dtypes=ALL_FLOATS, name=name,
                          expected=_local_fact))
    for data_format, strides, kernel_size in ((CL, (1, 1), (3, 2)), (CF, (2, 2), (2, 3)), (CL, (2, 1), (2, 2)),
                                              (CF, (1, 2), (3, 3))):
        out = tuple((length - k) // s + 1 for length, k, s in zip((7, 6), kernel_size, strides))
        args = (Rand(_shape(data_format, 2, (7, 6), 3)), Rand((math.prod(out), math.prod(kernel_size) * 3, 4)),
                kernel_size, strides, out)
        name = f"{'cf' if data_format == CF else 'cl'}-k{''.join(map(str, kernel_size))}-s{''.join(map(str, strides))}"
        cases.append(Case("local_conv2d", args, {"data_format": data_format}, dtypes=ALL_FLOATS, name=name,
                          expected=_local_fact))
    return cases


CASES = (
    _conv_cases("conv1d", 1, (9,), (3,), [
        ("valid-cl", CL, "valid", 1, 1),
        ("same-cf-s2", CF, "same", 2, 1),
        ("same-cl-s3", CL, "same", 3, 1),
        ("same-cl-d2", CL, "same", 1, 2),
        ("valid-cf-d2", CF, "valid", 1, 2),
        ("causal-cl", CL, "causal", 1, 1),
        ("causal-cl-d2", CL, "causal", 1, 2),
        ("causal-cl-s2", CL, "causal", 2, 1),
    ])
    + [
        Case("conv1d", (Arr(np.arange(5.0).reshape(1, 5, 1)), Arr(np.ones((2, 1, 1)))),
             {"padding": "causal", "data_format": CL}, dtypes=ALL_FLOATS, name="causal-fact",
             expected=lambda x, k, **kw: np.array([0, 1, 3, 5, 7]).reshape(1, 5, 1).astype(x.dtype)),
        Case("conv1d", (Rand((2, 7, 3), variable=True), Rand((2, 3, 2), variable=True)),
             {"padding": "same", "data_format": CL}, dtypes=ALL_FLOATS, name="variables",
             expected=_conv_fact(1)),
    ]
    + _depthwise_cases("separable_conv1d", 1, (9,), (3,), [
        ("valid-cl", CL, "valid", 1, 1),
        ("same-cf-s2", CF, "same", 2, 1),
        ("same-cl-d2", CL, "same", 1, 2),
        ("valid-cf-d2", CF, "valid", 1, 2),
    ], pointwise=True)
    + _conv_cases("conv2d", 2, (7, 8), (3, 2), [
        ("valid-cl", CL, "valid", (1, 1), (1, 1)),
        ("valid-cf", CF, "valid", (1, 1), (1, 1)),
        ("same-cl-s2", CL, "same", (2, 2), (1, 1)),
        ("same-cf-s2", CF, "same", (2, 2), (1, 1)),
        ("same-cl-s21", CL, "same", (2, 1), (1, 1)),
        ("valid-cf-s3", CF, "valid", 3, 1),
        ("same-cl-d2", CL, "same", (1, 1), (2, 2)),
        ("valid-cf-d12", CF, "valid", (1, 1), (1, 2)),
    ])
    + _depthwise_cases("separable_conv2d", 2, (7, 8), (3, 2), [
        ("valid-cl", CL, "valid", (1, 1), (1, 1)),
        ("same-cf-s2", CF, "same", (2, 2), (1, 1)),
        ("same-cl-d2", CL, "same", (1, 1), (2, 2)),
        ("valid-cf-d2", CF, "valid", (1, 1), (2, 2)),
    ], pointwise=True)
    + _depthwise_cases("depthwise_conv2d", 2, (7, 8), (3, 2), [
        ("valid-cl", CL, "valid", (1, 1), (1, 1)),
        ("valid-cf", CF, "valid", (1, 1), (1, 1)),
        ("same-cl-s2", CL, "same", (2, 2), (1, 1)),
        ("same-cf-s2", CF, "same", (2, 2), (1, 1)),
        ("same-cl-d2", CL, "same", (1, 1), (2, 2)),
        ("valid-cf-d2", CF, "valid", (1, 1), (2, 2)),
    ])
    + _conv_cases("conv3d", 3, (5, 4, 4), (2, 3, 2), [
        ("valid-cl", CL, "valid", (1, 1, 1), (1, 1, 1)),
        ("valid-cf", CF, "valid", (1, 1, 1), (1, 1, 1)),
        ("same-cl-s2", CL, "same", (2, 2, 2), (1, 1, 1)),
        ("same-cf-s2", CF, "same", (2, 1, 2), (1, 1, 1)),
        ("same-cl-d2", CL, "same", (1, 1, 1), (2, 1, 2)),
        ("valid-cf-d2", CF, "valid", (1, 1, 1), (2, 1, 1)),
    ])
    + _transpose_cases("conv2d_transpose", 2, (4, 3), (3, 2), [
        ("valid-cl", CL, "valid", (1, 1), (1, 1), (6, 4), None),
        ("valid-cf", CF, "valid", (1, 1), (1, 1), (6, 4), 2),
        ("same-cl-s2", CL, "same", (2, 2), (1, 1), (8, 6), None),
        ("same-cf-s2-odd", CF, "same", (2, 2), (1, 1), (7, 5), None),
        ("valid-cl-s2", CL, "valid", (2, 2), (1, 1), (10, 7), 2),
        ("valid-cf-s3", CF, "valid", (3, 2), (1, 1), (12, 6), None),
        ("same-cl-d2", CL, "same", (1, 1), (2, 2), (4, 3), None),
        ("valid-cl-d2", CL, "valid", (1, 1), (2, 2), (8, 5), None),
        ("valid-cf-d2", CF, "valid", (1, 1), (2, 2), (8, 5), None),
    ])
    + _transpose_cases("conv3d_transpose", 3, (3, 2, 2), (2, 3, 2), [
        ("valid-cl", CL, "valid", (1, 1, 1), None, (4, 4, 3), None),
        ("valid-cf", CF, "valid", (1, 1, 1), None, (4, 4, 3), 2),
        ("same-cl-s2", CL, "same", (2, 2, 2), None, (6, 4, 3), 2),
        ("same-cf-s2", CF, "same", (2, 1, 2), None, (5, 2, 4), 2),
        ("valid-cl-s2", CL, "valid", (2, 2, 1), None, (7, 5, 3), 2),
    ])
    + _pool_cases("pool2d", 2, (7, 6), [
        (CL, "valid", "max", (2, 2), None),
        (CF, "valid", "max", (3, 2), (2, 2)),
        (CL, "same", "max", (3, 3), (2, 2)),
        (CF, "same", "max", (2, 2), None),
        (CL, "valid", "avg", (2, 2), (2, 2)),
        (CF, "valid", "avg", (3, 2), None),
        (CL, "same", "avg", (3, 3), (2, 2)),
        (CF, "same", "avg", (2, 3), (3, 1)),
        (CL, "same", "avg", (2, 2), None),
    ])
    + [
        Case("pool2d", (Arr(np.arange(9.0).reshape(1, 3, 3, 1)), (2, 2)),
             {"strides": (2, 2), "padding": "same", "data_format": CL, "pool_mode": "avg"}, dtypes=ALL_FLOATS,
             name="avg-same-fact",
             expected=lambda x, *a, **k: np.array([[2, 3.5], [6.5, 8]]).reshape(1, 2, 2, 1).astype(x.dtype)),
    ]
    + _pool_cases("pool3d", 3, (5, 4, 4), [
        (CL, "valid", "max", (2, 2, 2), None),
        (CF, "valid", "max", (3, 2, 2), (2, 2, 1)),
        (CL, "same", "max", (3, 3, 2), (2, 2, 2)),
        (CF, "same", "max", (2, 2, 2), None),
        (CL, "valid", "avg", (2, 2, 2), (2, 2, 2)),
        (CF, "valid", "avg", (2, 3, 2), None),
        (CL, "same", "avg", (3, 2, 3), (2, 2, 2)),
        (CF, "same", "avg", (2, 2, 2), (2, 1, 2)),
    ])
    + _local_cases()
)
