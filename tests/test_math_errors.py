"""Invalid arguments to reductions and linear algebra: the error type, and a message naming the function,
the argument, what it got and what it expected, on every backend."""

import re

import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS, check_invalid_argument, invalid_argument_params


def tensor(*shape):
    return K.constant(np.ones(shape, np.float32))


#: (id, op, args builder, kwargs, error type, argument named in the message)
ERRORS = [
    ("batch_dot-axis0", "batch_dot", lambda: (tensor(3, 4, 5), tensor(3, 5, 4)), {"axes": 0}, ValueError,
     "axes"),
    ("batch_dot-axis0-pair", "batch_dot", lambda: (tensor(3, 4, 5), tensor(3, 5, 4)), {"axes": (0, 1)},
     ValueError, "axes"),
    ("batch_dot-axis0-negative", "batch_dot", lambda: (tensor(3, 4, 5), tensor(3, 5, 4)), {"axes": (-3, 1)},
     ValueError, "axes"),
    ("batch_dot-nested", "batch_dot", lambda: (tensor(3, 4, 5), tensor(3, 5, 4)), {"axes": [[2], [1]]},
     ValueError, "axes"),
    ("batch_dot-three-axes", "batch_dot", lambda: (tensor(3, 4, 5), tensor(3, 5, 4)), {"axes": (1, 2, 2)},
     ValueError, "axes"),
    ("batch_dot-axes-str", "batch_dot", lambda: (tensor(3, 4, 5), tensor(3, 5, 4)), {"axes": "1"}, TypeError,
     "axes"),
    ("batch_dot-axes-float", "batch_dot", lambda: (tensor(3, 4, 5), tensor(3, 5, 4)), {"axes": (2.0, 1)},
     TypeError, "axes"),
    ("batch_dot-axes-out-of-range", "batch_dot", lambda: (tensor(3, 4, 5), tensor(3, 5, 4)), {"axes": (3, 1)},
     ValueError, "axes"),
    ("batch_dot-x-rank1", "batch_dot", lambda: (tensor(3), tensor(3, 5)), {}, ValueError, "x"),
    ("batch_dot-y-rank1", "batch_dot", lambda: (tensor(3, 5), tensor(3)), {}, ValueError, "y"),
    ("batch_dot-batch-size", "batch_dot", lambda: (tensor(3, 5), tensor(4, 5)), {}, ValueError, "y"),
    ("batch_dot-dims", "batch_dot", lambda: (tensor(3, 5), tensor(3, 4)), {}, ValueError, "axes"),
    ("batch_dot-dims-default-3d", "batch_dot", lambda: (tensor(3, 4, 5), tensor(3, 4, 5)), {}, ValueError,
     "axes"),
    ("max-axis-out-of-range", "max", lambda: (tensor(2, 3),), {"axis": 2}, ValueError, "axis"),
    ("min-axis-negative-out-of-range", "min", lambda: (tensor(2, 3),), {"axis": -3}, ValueError, "axis"),
    ("sum-axes-out-of-range", "sum", lambda: (tensor(2, 3),), {"axis": [0, 5]}, ValueError, "axis"),
    ("sum-axes-repeated", "sum", lambda: (tensor(2, 3),), {"axis": [1, -1]}, ValueError, "axis"),
    ("prod-axis-str", "prod", lambda: (tensor(2, 3),), {"axis": "1"}, TypeError, "axis"),
    ("mean-axis-float", "mean", lambda: (tensor(2, 3),), {"axis": 1.0}, TypeError, "axis"),
    ("var-axis-out-of-range", "var", lambda: (tensor(2, 3),), {"axis": 2}, ValueError, "axis"),
    ("std-axes-repeated", "std", lambda: (tensor(2, 3),), {"axis": (0, 0)}, ValueError, "axis"),
    ("any-axis-out-of-range", "any", lambda: (tensor(2, 3),), {"axis": 3}, ValueError, "axis"),
    ("all-axis-list-of-str", "all", lambda: (tensor(2, 3),), {"axis": ["0"]}, TypeError, "axis"),
    ("logsumexp-axis-out-of-range", "logsumexp", lambda: (tensor(2, 3),), {"axis": 2}, ValueError, "axis"),
    ("argmax-axis-list", "argmax", lambda: (tensor(2, 3),), {"axis": [0, 1]}, TypeError, "axis"),
    ("argmax-axis-out-of-range", "argmax", lambda: (tensor(2, 3),), {"axis": 2}, ValueError, "axis"),
    ("argmin-axis-none", "argmin", lambda: (tensor(2, 3),), {"axis": None}, TypeError, "axis"),
    ("cumsum-axis-out-of-range", "cumsum", lambda: (tensor(2, 3),), {"axis": -3}, ValueError, "axis"),
    ("cumprod-axis-tuple", "cumprod", lambda: (tensor(2, 3),), {"axis": (0,)}, TypeError, "axis"),
]


@pytest.mark.parametrize("op,args,kwargs,kind,argument,backend", list(invalid_argument_params(ERRORS)))
def test_invalid_argument(op, args, kwargs, kind, argument, backend):
    check_invalid_argument(op, args, kwargs, kind, argument, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_dot_messages_say_why(backend):
    """The batch_dot messages keep what Keras 2 said: axis 0 is the batch axis, nested axes are refused."""
    with K.backend_scope(backend):
        with pytest.raises(ValueError, match="batch axis"):
            K.batch_dot(tensor(3, 4, 5), tensor(3, 5, 4), axes=0)
        with pytest.raises(ValueError, match="multiple target dimensions are not supported"):
            K.batch_dot(tensor(3, 4, 5), tensor(3, 5, 4), axes=[[2], [1]])
        with pytest.raises(ValueError, match=re.escape("x.shape[1] != y.shape[1] (5 != 4)")):
            K.batch_dot(tensor(3, 5), tensor(3, 4))
