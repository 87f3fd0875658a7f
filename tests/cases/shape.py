"""Cases for shape and indexing ops, image resizing and zero padding."""

import numpy as np

from . import ALL_FLOATS, Arr, Case, Ints, Rand

INTS = ("int32",)
TILE_PADS = "tf_keras.tile no longer left-pads a short `n` with 1s (Keras 2.3.1 did)"
BILINEAR_RAMP = np.array([0.0, 0.25, 0.75, 1.0])  # a 2-pixel ramp [0, 1] upsampled 2x at half-pixel centres


def _pad(widths):
    return lambda x, *args, **kwargs: np.pad(x, widths)


def _nearest(factors, axes):
    def expected(x, *args, **kwargs):
        for factor, axis in zip(factors, axes):
            x = np.repeat(x, factor, axis=axis)
        return x

    return expected


GATHER = [
    Case("gather", (Arr([[1, 2], [3, 4], [5, 6]]), Arr([2, 0], floating=False, dtype="int32")),
         dtypes=ALL_FLOATS, name="rows", expected=lambda r, i: np.stack([r[2], r[0]])),
    Case("gather", (Rand((5, 3, 2)), Ints((2, 3), 0, 5)), dtypes=ALL_FLOATS, name="nd_indices",
         expected=lambda r, i: np.array([[r[k] for k in row] for row in i])),
    Case("gather", (Ints((4, 2), -5, 5), [3, 0, 3]), dtypes=INTS, name="int_list_indices",
         expected=lambda r, i: np.stack([r[3], r[0], r[3]])),
    Case("gather", (Rand((4,), variable=True), Arr(1, floating=False, dtype="int32")), name="scalar_index",
         expected=lambda r, i: r[1]),
]

CONCATENATE = [
    Case("concatenate", ([Rand((2, 3)), Rand((2, 4))],), dtypes=ALL_FLOATS,
         expected=lambda ts: np.hstack(ts)),
    Case("concatenate", ([Rand((2, 3)), Rand((1, 3)), Rand((3, 3))],), {"axis": 0}, dtypes=ALL_FLOATS,
         name="axis0", expected=lambda ts, axis: np.vstack(ts)),
    Case("concatenate", ([Rand((2, 1, 4)), Rand((2, 3, 4))],), {"axis": -2}, name="axis_neg2",
         expected=lambda ts, axis: np.concatenate(ts, axis=1)),
    Case("concatenate", ([Ints((2, 2)), Ints((2, 1))], -1), dtypes=INTS, name="int",
         expected=lambda ts, axis: np.hstack(ts)),
]

RESHAPE = [
    Case("reshape", (Rand((2, 3, 4)), (4, -1)), dtypes=ALL_FLOATS,
         expected=lambda x, s: x.ravel().reshape(4, 6)),
    Case("reshape", (Rand((2, 3, 4)), [Arr(2, floating=False, dtype="int32"), -1]), name="tensor_entry",
         symbolic="the output shape depends on the values of a fed tensor",
         expected=lambda x, s: x.ravel().reshape(2, 12)),
    Case("reshape", (Rand((2, 3, 4)), Arr([6, 4], floating=False, dtype="int32")), name="tensor_shape",
         symbolic="the output shape depends on the values of a fed tensor",
         expected=lambda x, s: x.ravel().reshape(6, 4)),
    Case("reshape", (Ints((6,)), (3, 1, 2)), dtypes=INTS, name="int",
         expected=lambda x, s: x.reshape(3, 1, 2)),
]

PERMUTE = [
    Case("permute_dimensions", (Rand((2, 3, 4)), (2, 0, 1)), dtypes=ALL_FLOATS,
         expected=lambda x, p: np.moveaxis(x, 2, 0)),
    Case("permute_dimensions", (Ints((2, 3)),), {"pattern": [1, 0]}, dtypes=INTS, name="list_int",
         expected=lambda x, pattern: x.T),
]

REPEATS = [
    Case("repeat_elements", (Arr([[1, 2], [3, 4]]), 2, 1), dtypes=ALL_FLOATS, name="fact",
         expected=lambda x, r, a: np.array([[1, 1, 2, 2], [3, 3, 4, 4]], x.dtype)),
    Case("repeat_elements", (Rand((2, 3, 4)),), {"rep": 3, "axis": -1}, dtypes=ALL_FLOATS, name="axis_neg",
         expected=lambda x, rep, axis: x[..., np.arange(12) // 3]),
    Case("repeat_elements", (Ints((3, 2)), 2, 0), dtypes=INTS, name="int",
         expected=lambda x, r, a: x[[0, 0, 1, 1, 2, 2]]),
    Case("repeat", (Rand((2, 3)), 4), dtypes=ALL_FLOATS,
         expected=lambda x, n: np.stack([x] * 4, axis=1)),
    Case("repeat", (Ints((3, 2)),), {"n": 2}, dtypes=INTS, name="int",
         expected=lambda x, n: np.stack([x, x], axis=1)),
]

ARANGE = [
    Case("arange", (5,), expected=np.array([0, 1, 2, 3, 4], np.int32)),
    Case("arange", (-3,), name="negative_stop", expected=np.zeros((0,), np.int32)),
    Case("arange", (2, 11, 3), name="step", expected=np.array([2, 5, 8], np.int32)),
    Case("arange", (5, 0, -2), name="negative_step", expected=np.array([5, 3, 1], np.int32)),
    Case("arange", (0, 10, 1.5), name="float_step",
         expected=np.array([0, 1.5, 3, 4.5, 6, 7.5, 9], np.float32)),
    Case("arange", (2.0,), name="float_stop", expected=np.array([0, 1], np.float32)),
    Case("arange", (1, 4), {"dtype": "float64"}, name="dtype", expected=np.array([1, 2, 3], np.float64)),
    Case("arange", (3,), {"dtype": "int64"}, name="int64", expected=np.array([0, 1, 2], np.int64)),
    Case("arange", (Arr(4, floating=False, dtype="int32"),), name="tensor",
         expected=np.array([0, 1, 2, 3], np.int32)),
    Case("arange", (Arr(-2, floating=False, dtype="int32"),), name="negative_tensor",
         expected=np.zeros((0,), np.int32)),
]

TILE = [
    Case("tile", (Rand((2, 3)), (2, 3)), dtypes=ALL_FLOATS, expected=lambda x, n: np.block([[x] * 3] * 2)),
    Case("tile", (Rand((3,)), 2), name="int_1d", expected=lambda x, n: np.concatenate([x, x])),
    Case("tile", (Rand((2, 3)), 2), dtypes=ALL_FLOATS, name="int_pads", oracle=TILE_PADS,
         expected=lambda x, n: np.hstack([x, x])),
    Case("tile", (Ints((2, 3, 4)), [2, 1]), dtypes=INTS, name="short_pads", oracle=TILE_PADS,
         expected=lambda x, n: np.concatenate([x, x], axis=1)),
    Case("tile", (Ints((2, 3)), (1, 2)), dtypes=INTS, name="int", expected=lambda x, n: np.hstack([x, x])),
]

FLATTEN = [
    Case("flatten", (Rand((2, 3, 4)),), dtypes=ALL_FLOATS, expected=lambda x: x.reshape(24)),
    Case("flatten", (Ints((3, 2)),), dtypes=INTS, name="int", expected=lambda x: x.reshape(6)),
    Case("batch_flatten", (Rand((2, 3, 4, 5)),), dtypes=ALL_FLOATS, expected=lambda x: x.reshape(2, 60)),
    Case("batch_flatten", (Rand((3,)),), name="1d", expected=lambda x: x.reshape(3, 1)),
    Case("batch_flatten", (Ints((2, 3)),), dtypes=INTS, name="int", expected=lambda x: x),
]

AXES = [
    Case("expand_dims", (Rand((2, 3)),), dtypes=ALL_FLOATS, expected=lambda x: x[:, :, None]),
    Case("expand_dims", (Rand((2, 3)), 0), dtypes=ALL_FLOATS, name="axis0", expected=lambda x, a: x[None]),
    Case("expand_dims", (Ints((2, 3)),), {"axis": -2}, dtypes=INTS, name="axis_neg2",
         expected=lambda x, axis: x[:, None, :]),
    Case("squeeze", (Rand((2, 1, 3)), 1), dtypes=ALL_FLOATS, expected=lambda x, a: x[:, 0, :]),
    Case("squeeze", (Ints((2, 3, 1)),), {"axis": -1}, dtypes=INTS, name="axis_neg",
         expected=lambda x, axis: x[..., 0]),
    Case("stack", ([Rand((2, 3)), Rand((2, 3))],), dtypes=ALL_FLOATS, expected=lambda ts: np.array(ts)),
    Case("stack", ([Rand((2, 3)), Rand((2, 3)), Rand((2, 3))],), {"axis": -1}, dtypes=ALL_FLOATS,
         name="axis_neg", expected=lambda ts, axis: np.array(ts).transpose(1, 2, 0)),
    Case("stack", ([Ints((2,)), Ints((2,))], 1), dtypes=INTS, name="int",
         expected=lambda ts, axis: np.array(ts).T),
    Case("reverse", (Rand((2, 3, 4)), 1), dtypes=ALL_FLOATS, expected=lambda x, a: x[:, ::-1]),
    Case("reverse", (Rand((2, 3, 4)),), {"axes": [0, -1]}, dtypes=ALL_FLOATS, name="list",
         expected=lambda x, axes: x[::-1, :, ::-1]),
    Case("reverse", (Ints((3, 2)), (0,)), dtypes=INTS, name="int", expected=lambda x, a: x[::-1]),
]

ONE_HOT = [
    Case("one_hot", (Ints((2, 3), 0, 4), 4), dtypes=INTS,
         expected=lambda i, n: np.eye(4, dtype=np.float32)[i]),
    Case("one_hot", (Arr([0, 3, -1, 2], floating=False, dtype="int32"),), {"num_classes": 3}, dtypes=INTS,
         name="out_of_range",
         expected=np.array([[1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1]], np.float32)),
    Case("one_hot", (Ints((5,), 0, 3, "int64"), 3), dtypes=INTS, name="int64",
         expected=lambda i, n: np.eye(3, dtype=np.float32)[i]),
]

SLICE = [
    Case("slice", (Rand((3, 4, 5)), (1, 0, 2), (2, 3, 2)), dtypes=ALL_FLOATS,
         expected=lambda x, b, s: x[1:3, 0:3, 2:4]),
    Case("slice", (Rand((3, 4)),), {"start": [1, 1], "size": [-1, 2]}, name="to_end",
         expected=lambda x, start, size: x[1:, 1:3]),
    Case("slice", (Ints((4, 4)), Arr([2, 0], floating=False, dtype="int32"),
                   Arr([1, 4], floating=False, dtype="int32")), dtypes=INTS, name="tensor_indices",
         expected=lambda x, b, s: x[2:3, 0:4]),
]

RESIZE = [
    Case("resize_images", (Rand((2, 3, 4, 2)), 2, 3, "channels_last"), dtypes=ALL_FLOATS,
         expected=_nearest((2, 3), (1, 2))),
    Case("resize_images", (Rand((2, 2, 3, 4)), 3, 2, "channels_first"), dtypes=ALL_FLOATS, name="first",
         expected=_nearest((3, 2), (2, 3))),
    Case("resize_images", (Ints((1, 2, 2, 3)),),
         {"height_factor": 2, "width_factor": 2, "data_format": "channels_last", "interpolation": "nearest"},
         dtypes=INTS, name="int_kwargs", expected=_nearest((2, 2), (1, 2))),
    Case("resize_images", (Arr([[[[0.0], [1.0]], [[2.0], [3.0]]]]), 2, 2, "channels_last", "bilinear"),
         dtypes=ALL_FLOATS, name="bilinear_fact",
         expected=lambda x, *a: (2 * BILINEAR_RAMP[:, None] + BILINEAR_RAMP).reshape(1, 4, 4, 1).astype(x.dtype)),
    Case("resize_images", (Rand((2, 3, 4, 2)), 2, 3, "channels_last", "bilinear"), dtypes=ALL_FLOATS,
         name="bilinear_last"),
    Case("resize_images", (Rand((2, 2, 3, 4)), 3, 2), {"data_format": "channels_first",
                                                        "interpolation": "bilinear"},
         dtypes=ALL_FLOATS, name="bilinear_first"),
    Case("resize_images", (Ints((1, 3, 2, 1)), 2, 2, "channels_last", "bilinear"), dtypes=INTS,
         name="bilinear_int", check=lambda out, *a: np.testing.assert_equal(out.dtype, np.float32)),
    Case("resize_images", (Rand((1, 2, 3, 2)), 2, 1, None), name="global_format",
         oracle="tf_keras requires an explicit data_format", expected=_nearest((2,), (1,))),
    Case("resize_volumes", (Rand((1, 2, 3, 2, 2)), 2, 1, 3, "channels_last"), dtypes=ALL_FLOATS,
         expected=_nearest((2, 1, 3), (1, 2, 3))),
    Case("resize_volumes", (Rand((2, 2, 1, 2, 3)),),
         {"depth_factor": 3, "height_factor": 2, "width_factor": 1, "data_format": "channels_first"},
         dtypes=ALL_FLOATS, name="first", expected=_nearest((3, 2, 1), (2, 3, 4))),
    Case("resize_volumes", (Ints((1, 2, 2, 2, 1)), 2, 2, 2, "channels_last"), dtypes=INTS, name="int",
         expected=_nearest((2, 2, 2), (1, 2, 3))),
]

PADDING = [
    Case("temporal_padding", (Rand((2, 3, 4)),), dtypes=ALL_FLOATS,
         expected=_pad(((0, 0), (1, 1), (0, 0)))),
    Case("temporal_padding", (Rand((2, 3, 4)), (2, 0)), dtypes=ALL_FLOATS, name="asymmetric",
         expected=_pad(((0, 0), (2, 0), (0, 0)))),
    Case("temporal_padding", (Ints((1, 2, 2)),), {"padding": [0, 3]}, dtypes=INTS, name="int",
         expected=_pad(((0, 0), (0, 3), (0, 0)))),
    Case("spatial_2d_padding", (Rand((2, 3, 4, 2)),), dtypes=ALL_FLOATS,
         expected=_pad(((0, 0), (1, 1), (1, 1), (0, 0)))),
    Case("spatial_2d_padding", (Rand((2, 3, 4, 2)), ((1, 2), (0, 3)), "channels_last"), dtypes=ALL_FLOATS,
         name="last", expected=_pad(((0, 0), (1, 2), (0, 3), (0, 0)))),
    Case("spatial_2d_padding", (Rand((2, 2, 3, 4)),), {"padding": ((2, 0), (1, 1)),
                                                       "data_format": "channels_first"},
         dtypes=ALL_FLOATS, name="first", expected=_pad(((0, 0), (0, 0), (2, 0), (1, 1)))),
    Case("spatial_2d_padding", (Ints((1, 2, 2, 1)), [[0, 1], [1, 0]]), dtypes=INTS, name="int",
         expected=_pad(((0, 0), (0, 1), (1, 0), (0, 0)))),
    Case("spatial_3d_padding", (Rand((1, 2, 3, 2, 2)),), dtypes=ALL_FLOATS,
         expected=_pad(((0, 0), (1, 1), (1, 1), (1, 1), (0, 0)))),
    Case("spatial_3d_padding", (Rand((1, 2, 3, 2, 2)), ((0, 2), (1, 0), (2, 1)), "channels_last"),
         dtypes=ALL_FLOATS, name="last", expected=_pad(((0, 0), (0, 2), (1, 0), (2, 1), (0, 0)))),
    Case("spatial_3d_padding", (Rand((2, 2, 2, 3, 1)),), {"padding": ((1, 0), (0, 0), (0, 2)),
                                                          "data_format": "channels_first"},
         dtypes=ALL_FLOATS, name="first", expected=_pad(((0, 0), (0, 0), (1, 0), (0, 0), (0, 2)))),
    Case("spatial_3d_padding", (Ints((1, 1, 2, 2, 1)), ((1, 0), (0, 1), (1, 1))), dtypes=INTS, name="int",
         expected=_pad(((0, 0), (1, 0), (0, 1), (1, 1), (0, 0)))),
]

CASES = GATHER + CONCATENATE + RESHAPE + PERMUTE + REPEATS + ARANGE + TILE + FLATTEN + AXES + ONE_HOT + SLICE \
    + RESIZE + PADDING
