"""Output shapes of the elementwise, reduction and linear-algebra ops (:mod:`.math`, :mod:`.nn`), each
stated once, with the axis checks their bodies share.

An op declares its rule with ``shape_rule=`` in :func:`kbackend._dispatch.op`.  A rule takes the op's
canonical arguments in signature order, its tensors symbolic (a ``shape`` tuple with None for unknown
dims), and returns the output shape; a graph then records the op without running it.  A rule raises
``ValueError`` or ``TypeError`` for arguments it does not decide, a bad call among them: the graph then
runs the reference on stand-ins, which raises the op's own error.

An unknown dim stays None unless another input fixes it (broadcasting ``None`` against 5 gives 5,
against 1 gives None), as the stand-in probes find.
"""

from .checks import checked_axis
from .conv_rules import static_shape

__all__ = ["along_axis", "batch_dot", "batch_dot_axes", "bias_add", "broadcast", "broadcast_shapes", "check_axis",
           "clipped", "dot", "reduced", "shape_of", "softmax_cross_entropy", "sparse_softmax_cross_entropy",
           "transpose", "unchanged"]


def shape_of(value):
    """The static shape of a tensor argument (a Python number is a scalar); ValueError when unknown."""
    shape = static_shape(value)
    if shape is None:
        raise ValueError("a tensor of unknown rank")
    return tuple(shape)


def broadcast_shapes(*shapes):
    """NumPy's broadcast of ``shapes`` whose dims may be None: a dim is the size other than 1 that some
    shape gives it, else None when one is unknown, else 1.  ValueError for sizes that cannot meet.

    >>> broadcast_shapes((None, 1, 3), (4, 3)), broadcast_shapes((None, 3), (1, 3))
    ((None, 4, 3), (None, 3))
    """
    rank = max(len(s) for s in shapes)
    out = []
    for dims in zip(*((1,) * (rank - len(s)) + tuple(s) for s in shapes)):
        sizes = {d for d in dims if d is not None and d != 1}
        if len(sizes) > 1:
            raise ValueError(f"shapes {shapes} do not broadcast")
        out.append(sizes.pop() if sizes else None if None in dims else 1)
    return tuple(out)


# ---------------------------------------------------------------------------------------------------
# the rules the ops declare (each takes its op's parameters)


def unchanged(x, *_):
    """Elementwise ops and activations: the shape of ``x``."""
    return shape_of(x)


def broadcast(x, y, *_):
    """Binary elementwise ops: the broadcast shape of ``x`` and ``y``."""
    return broadcast_shapes(shape_of(x), shape_of(y))


def clipped(x, min_value, max_value):
    """clip: the shape of ``x`` broadcast with its bounds (None: no bound)."""
    return broadcast_shapes(shape_of(x), shape_of(min_value), shape_of(max_value))


def along_axis(func):
    """Ops that keep the shape of ``x`` and work along one ``axis`` of it (softmax, cumsum)."""

    def rule(x, axis, *_):
        shape = shape_of(x)
        checked_axis(func, axis, len(shape))
        return shape

    rule.__name__ = f"{func}_shape"
    return rule


def reduced(func):
    """Reductions over ``axis`` (None: all axes; ``keepdims`` leaves them with size 1)."""

    def rule(x, axis=None, keepdims=False, *_):
        shape = shape_of(x)
        axis = check_axis(func, axis, len(shape))
        gone = range(len(shape)) if axis is None else (axis,) if axis.__class__ is int else axis
        if keepdims:
            return tuple(1 if i in gone else d for i, d in enumerate(shape))
        return tuple(d for i, d in enumerate(shape) if i not in gone)

    rule.__name__ = f"{func}_shape"
    return rule


def dot(x, y):
    """``x.shape[:-1] + y.shape[:-2] + y.shape[-1:]`` (NumPy's dot; a 1-D ``y`` contracts its only axis)."""
    x_shape, y_shape = shape_of(x), shape_of(y)
    if not x_shape or not y_shape:
        raise ValueError("dot: a scalar operand")
    contracted = y_shape[-2] if len(y_shape) > 1 else y_shape[0]
    if None not in (x_shape[-1], contracted) and x_shape[-1] != contracted:
        raise ValueError(f"dot: shapes {x_shape} and {y_shape} do not contract")
    return x_shape[:-1] + (y_shape[:-2] + y_shape[-1:] if len(y_shape) > 1 else ())


def batch_dot(x, y, axes):
    """``(batch,)``, the axes of ``x`` left, then those of ``y`` past its batch; ``(batch, 1)`` when
    nothing else is left."""
    x_shape, y_shape = shape_of(x), shape_of(y)
    ax, ay = batch_dot_axes(x_shape, y_shape, axes)
    batch = x_shape[0] if x_shape[0] is not None else y_shape[0]
    shape = ((batch,) + tuple(d for i, d in enumerate(x_shape) if i not in (0, ax))
             + tuple(d for i, d in enumerate(y_shape) if i not in (0, ay)))
    return shape if len(shape) > 1 else (batch, 1)


def transpose(x):
    """All axes reversed."""
    return shape_of(x)[::-1]


def bias_add(x, bias, data_format):
    """The shape of ``x`` broadcast with ``bias`` laid out on its channel axis (see :func:`kbackend.bias_add`)."""
    x_shape, b_shape = shape_of(x), shape_of(bias)
    if len(b_shape) not in (1, len(x_shape) - 1):
        raise ValueError(f"bias_add: a rank-{len(b_shape)} bias for a rank-{len(x_shape)} tensor")
    if data_format == "channels_first" and len(x_shape) > 2:
        b_shape = b_shape + (1,) * (len(x_shape) - 2) if len(b_shape) == 1 else b_shape[-1:] + b_shape[:-1]
    return broadcast_shapes(x_shape, b_shape)


def softmax_cross_entropy(target, output, axis):
    """The broadcast shape of ``target`` and ``output`` without the class ``axis``."""
    shape = broadcast_shapes(shape_of(target), shape_of(output))
    if len(shape) != len(shape_of(output)):
        raise ValueError("softmax_cross_entropy: a target of higher rank than the output")
    axis = checked_axis("softmax_cross_entropy", axis, len(shape))
    return shape[:axis] + shape[axis + 1:]


def sparse_softmax_cross_entropy(target, output):
    """The broadcast shape of the class ids ``target`` and ``output`` without its last (class) axis."""
    output_shape = shape_of(output)
    if not output_shape:
        raise ValueError("sparse_softmax_cross_entropy: a scalar output")
    return broadcast_shapes(shape_of(target), output_shape[:-1])


# ---------------------------------------------------------------------------------------------------
# axis checks of the bodies


def check_axis(func, axis, ndim):
    """Validate a canonical ``axis`` (None, int or tuple of ints) of op ``func`` against a rank.

    Returns the axis with negative entries made non-negative; raises ``ValueError`` naming ``func``.

    >>> check_axis('sum', (1, -1), 3)
    (1, 2)
    """
    if axis is None:
        return None
    if axis.__class__ is int:
        if -ndim <= axis < ndim:
            return axis % ndim
        raise ValueError(
            f"{func}: argument `axis` got {axis!r}; expected an axis in [{-ndim}, {ndim}) "
            f"for a tensor of rank {ndim}"
        )
    if not all(-ndim <= a < ndim for a in axis):
        raise ValueError(
            f"{func}: argument `axis` got {axis!r}; expected axes in [{-ndim}, {ndim}) "
            f"for a tensor of rank {ndim}"
        )
    normal = tuple(a % ndim for a in axis)
    if len(set(normal)) != len(normal):
        raise ValueError(
            f"{func}: argument `axis` got {axis!r}; expected distinct axes for a tensor of rank {ndim}"
        )
    return normal



def batch_dot_axes(x_shape, y_shape, axes):
    """Check ``batch_dot``'s inputs and return the contracted axes ``(ax, ay)``, both positive.

    ``axes`` is canonical (None or a pair); shapes may hold None for unknown dimensions.  Raises
    ``ValueError`` for a rank below 2, different batch sizes, axis 0, an axis out of range or
    contracted dimensions of different sizes.

    >>> batch_dot_axes((32, 5, 4), (32, 4, 6), None), batch_dot_axes((32, 20), (32, 20), (-1, 1))
    ((2, 1), (1, 1))
    """
    x_ndim, y_ndim = len(x_shape), len(y_shape)
    for arg, shape in (("x", x_shape), ("y", y_shape)):
        if len(shape) < 2:
            raise ValueError(f"batch_dot: argument `{arg}` got a tensor of shape {tuple(shape)}; "
                             f"expected a rank of at least 2 (a batch of vectors or more)")
    if x_shape[0] is not None and y_shape[0] is not None and x_shape[0] != y_shape[0]:
        raise ValueError(f"batch_dot: argument `y` got a tensor of shape {tuple(y_shape)}; expected the "
                         f"batch size of `x`, whose shape is {tuple(x_shape)}")
    given = axes
    if axes is None:
        axes = (x_ndim - 1, y_ndim - 1 if y_ndim == 2 else y_ndim - 2)
    ax, ay = axes
    if not (-x_ndim <= ax < x_ndim and -y_ndim <= ay < y_ndim):
        raise ValueError(f"batch_dot: argument `axes` got {given!r}; expected axes within the ranks of "
                         f"`x` ({x_ndim}) and `y` ({y_ndim})")
    ax, ay = ax % x_ndim, ay % y_ndim
    if ax == 0 or ay == 0:
        raise ValueError(f"batch_dot: argument `axes` got {given!r}; expected axes other than 0, the batch "
                         f"axis (add a batch dimension with K.expand_dims(x, 0) to unbatched inputs)")
    if x_shape[ax] is not None and y_shape[ay] is not None and x_shape[ax] != y_shape[ay]:
        raise ValueError(f"batch_dot: argument `axes` got {given!r}; expected axes of equal size, but "
                         f"x.shape[{ax}] != y.shape[{ay}] ({x_shape[ax]} != {y_shape[ay]}) for shapes "
                         f"{tuple(x_shape)} and {tuple(y_shape)}")
    return ax, ay
