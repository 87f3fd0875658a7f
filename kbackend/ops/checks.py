"""Argument checks shared by the op declarations, the symbolic layer and the engines, so that a bad
argument raises the same message everywhere: ``<op>: argument `<name>` got <value>; expected <what>``.
"""


def checked_axis(func, axis, rank, arg="axis"):
    if not -rank <= axis < rank:
        raise ValueError(f"{func}: argument `{arg}` got {axis!r}; expected an axis of a rank-{rank} tensor "
                         f"(-{rank} to {rank - 1})")
    return axis % rank


def check_rank(func, x, rank):
    if x.ndim != rank:
        raise ValueError(f"{func}: argument `x` got a tensor of shape {x.shape}; expected a rank-{rank} tensor")


def spatial_axes(data_format, count):
    """The spatial axes of a (batch, ..., channels) tensor with ``count`` spatial dims."""
    first = 2 if data_format == "channels_first" else 1
    return tuple(range(first, first + count))
