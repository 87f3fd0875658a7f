"""Cases for random tensors: shapes against the reference, statistics on 200x200 samples (``check``).

A random op takes its dtype as an argument, so each dtype is its own case (named after it).
"""

import numpy as np

from kbackend.dtypes import canonical_dtype

from . import ALL_FLOATS, Case

SHAPE = (200, 200)


def _stats(dtype, mean=None, std=None, low=None, high=None, values=None, tolerance=0.015):
    """A ``check`` asserting the output's dtype and sample statistics (Keras 2's backend tests' bounds)."""

    def check(out, *args, **kwargs):
        assert canonical_dtype(out.dtype) == dtype, f"dtype {out.dtype} != {dtype}"
        assert out.shape == SHAPE
        sample = np.asarray(out).astype(np.float64)
        if mean is not None:
            assert abs(sample.mean() - mean) < tolerance * max(1.0, abs(std or 1.0)), f"mean {sample.mean()}"
        if std is not None:
            assert abs(sample.std() - std) < tolerance * std, f"std {sample.std()} vs {std}"
        if low is not None:
            assert sample.min() >= low, f"min {sample.min()} < {low}"
        if high is not None:
            assert sample.max() <= high, f"max {sample.max()} > {high}"
        if values is not None:
            assert set(np.unique(sample).tolist()) <= set(values), f"values {np.unique(sample)}"

    return check


def _cases(op, kwargs, dtypes, **stats):
    return [
        Case(op, (SHAPE,), {**kwargs, "dtype": dtype, "seed": 1234}, dtypes=(dtype,), name=dtype,
             compare="shape", check=_stats(canonical_dtype(dtype), **stats))
        for dtype in dtypes
    ]


CASES = [
    *_cases("random_normal", {"mean": 0.5, "stddev": 2.0}, ALL_FLOATS, mean=0.5, std=2.0),
    Case("random_normal", (SHAPE,), {"seed": 5}, name="defaults", compare="shape",
         check=_stats("float32", mean=0.0, std=1.0)),
    *_cases("random_uniform", {"minval": -1.5, "maxval": 2.5}, ALL_FLOATS,
            mean=0.5, std=4.0 / np.sqrt(12.0), low=-1.5, high=2.5),
    Case("random_uniform", (SHAPE,), {"seed": 5}, name="defaults", compare="shape",
         check=_stats("float32", mean=0.5, std=1.0 / np.sqrt(12.0), low=0.0, high=1.0)),
    *_cases("random_uniform", {"minval": 0, "maxval": 10}, ("int32",), mean=4.5, std=np.sqrt(99 / 12), low=0,
            high=9, tolerance=0.03),
    *_cases("random_bernoulli", {"p": 0.3}, ALL_FLOATS, mean=0.3, values=(0.0, 1.0)),
    *_cases("random_binomial", {"p": 0.7}, ALL_FLOATS, mean=0.7, values=(0.0, 1.0)),
    Case("random_binomial", (SHAPE,), {"p": 0.0, "seed": 5}, name="p0", compare="shape",
         check=_stats("float32", values=(0.0,))),
    Case("random_binomial", (SHAPE,), {"p": 1.0, "seed": 5}, name="p1", compare="shape",
         check=_stats("float32", values=(1.0,))),
    *_cases("truncated_normal", {"mean": 1.0, "stddev": 3.0}, ALL_FLOATS, mean=1.0, std=0.87962 * 3.0,
            low=1.0 - 6.0, high=1.0 + 6.0),
]
