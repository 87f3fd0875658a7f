"""Invalid arguments to shape, resizing and padding ops: the error type, and a message naming the
function, the argument, what it got and what it expected, on every backend."""


import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS, check_invalid_argument, invalid_argument_params


def tensor(*shape):
    return K.constant(np.zeros(shape, np.float32))


#: (id, op, args builder, kwargs, error type, argument named in the message)
ERRORS = [
    ("concatenate-axis-type", "concatenate", lambda: ([tensor(2), tensor(2)],), {"axis": "x"}, TypeError, "axis"),
    ("permute-pattern-int", "permute_dimensions", lambda: (tensor(2, 3),), {"pattern": 1}, TypeError, "pattern"),
    ("repeat_elements-rep-str", "repeat_elements", lambda: (tensor(2), "a", 0), {}, TypeError, "rep"),
    ("repeat_elements-rep-negative", "repeat_elements", lambda: (tensor(2), -1, 0), {}, ValueError, "rep"),
    ("repeat_elements-axis-float", "repeat_elements", lambda: (tensor(2), 2, 1.0), {}, TypeError, "axis"),
    ("repeat-rank3", "repeat", lambda: (tensor(2, 3, 4), 2), {}, ValueError, "x"),
    ("repeat-rank1", "repeat", lambda: (tensor(3), 2), {}, ValueError, "x"),
    ("repeat-n-float", "repeat", lambda: (tensor(2, 3), 1.5), {}, TypeError, "n"),
    ("repeat-n-negative", "repeat", lambda: (tensor(2, 3), -1), {}, ValueError, "n"),
    ("arange-dtype", "arange", lambda: (3,), {"dtype": "floaty"}, TypeError, "dtype"),
    ("tile-n-too-long", "tile", lambda: (tensor(2, 3), (1, 2, 3)), {}, ValueError, "n"),
    ("tile-n-str", "tile", lambda: (tensor(2, 3), "ab"), {}, TypeError, "n"),
    ("tile-n-float-entry", "tile", lambda: (tensor(2, 3), (1, 2.0)), {}, TypeError, "n"),
    ("expand_dims-axis-list", "expand_dims", lambda: (tensor(2),), {"axis": [0]}, TypeError, "axis"),
    ("squeeze-axis-none", "squeeze", lambda: (tensor(2, 1), None), {}, TypeError, "axis"),
    ("stack-axis-str", "stack", lambda: ([tensor(2), tensor(2)],), {"axis": "0"}, TypeError, "axis"),
    ("one_hot-classes-negative", "one_hot", lambda: (K.constant([0, 1], "int32"), -1), {}, ValueError,
     "num_classes"),
    ("one_hot-classes-float", "one_hot", lambda: (K.constant([0, 1], "int32"), 2.5), {}, TypeError,
     "num_classes"),
    ("reverse-axes-none", "reverse", lambda: (tensor(2), None), {}, TypeError, "axes"),
    ("resize_images-interpolation", "resize_images", lambda: (tensor(1, 2, 2, 1), 2, 2, "channels_last"),
     {"interpolation": "bicubic"}, ValueError, "interpolation"),
    ("resize_images-data_format", "resize_images", lambda: (tensor(1, 2, 2, 1), 2, 2, "channels_middle"), {},
     ValueError, "data_format"),
    ("resize_images-factor-zero", "resize_images", lambda: (tensor(1, 2, 2, 1), 0, 2, "channels_last"), {},
     ValueError, "height_factor"),
    ("resize_images-factor-float", "resize_images", lambda: (tensor(1, 2, 2, 1), 2, 1.5, "channels_last"), {},
     TypeError, "width_factor"),
    ("resize_images-rank3", "resize_images", lambda: (tensor(2, 2, 1), 2, 2, "channels_last"), {}, ValueError,
     "x"),
    ("resize_volumes-data_format", "resize_volumes", lambda: (tensor(1, 2, 2, 2, 1), 2, 2, 2, "nchw"), {},
     ValueError, "data_format"),
    ("resize_volumes-factor-zero", "resize_volumes", lambda: (tensor(1, 2, 2, 2, 1), 0, 2, 2, "channels_last"),
     {}, ValueError, "depth_factor"),
    ("resize_volumes-rank4", "resize_volumes", lambda: (tensor(1, 2, 2, 1), 2, 2, 2, "channels_last"), {},
     ValueError, "x"),
    ("temporal_padding-short", "temporal_padding", lambda: (tensor(1, 2, 1), (1,)), {}, ValueError, "padding"),
    ("temporal_padding-negative", "temporal_padding", lambda: (tensor(1, 2, 1), (1, -1)), {}, ValueError,
     "padding"),
    ("temporal_padding-int", "temporal_padding", lambda: (tensor(1, 2, 1), 1), {}, TypeError, "padding"),
    ("temporal_padding-float", "temporal_padding", lambda: (tensor(1, 2, 1), (1.0, 2)), {}, TypeError,
     "padding"),
    ("temporal_padding-rank2", "temporal_padding", lambda: (tensor(2, 3),), {}, ValueError, "x"),
    ("spatial_2d_padding-flat", "spatial_2d_padding", lambda: (tensor(1, 2, 2, 1), (1, 1)), {}, TypeError,
     "padding"),
    ("spatial_2d_padding-one-pair", "spatial_2d_padding", lambda: (tensor(1, 2, 2, 1), ((1, 1),)), {},
     ValueError, "padding"),
    ("spatial_2d_padding-negative", "spatial_2d_padding", lambda: (tensor(1, 2, 2, 1), ((1, 1), (1, -1))), {},
     ValueError, "padding"),
    ("spatial_2d_padding-string", "spatial_2d_padding", lambda: (tensor(1, 2, 2, 1),), {"padding": "same"},
     TypeError, "padding"),
    ("spatial_2d_padding-data_format", "spatial_2d_padding", lambda: (tensor(1, 2, 2, 1),),
     {"data_format": "nhwc"}, ValueError, "data_format"),
    ("spatial_2d_padding-rank3", "spatial_2d_padding", lambda: (tensor(2, 2, 1),), {}, ValueError, "x"),
    ("spatial_3d_padding-two-pairs", "spatial_3d_padding", lambda: (tensor(1, 2, 2, 2, 1), ((1, 1), (1, 1))), {},
     ValueError, "padding"),
    ("spatial_3d_padding-data_format", "spatial_3d_padding", lambda: (tensor(1, 2, 2, 2, 1),),
     {"data_format": "channels_middle"}, ValueError, "data_format"),
    ("spatial_3d_padding-rank4", "spatial_3d_padding", lambda: (tensor(1, 2, 2, 1),), {}, ValueError, "x"),
]


@pytest.mark.parametrize("op,args,kwargs,kind,argument,backend", list(invalid_argument_params(ERRORS)))
def test_invalid_argument(op, args, kwargs, kind, argument, backend):
    check_invalid_argument(op, args, kwargs, kind, argument, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_slice_rank_mismatch(backend):
    with K.backend_scope(backend):
        with pytest.raises(ValueError, match=r"slice: arguments `start` and `size` got .*expected.*should match"):
            K.slice(tensor(2, 3, 4), (0, 0), (1, 1))
