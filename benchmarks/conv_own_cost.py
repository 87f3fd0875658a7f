"""kbackend's own per-call work on torch's ``conv2d``, with the kernel taken out.

    python benchmarks/conv_own_cost.py

At the tiny size a ``conv2d`` call is mostly the kernel, whose time varies by microseconds from one
run to the next; the difference ``K.conv2d - raw`` in ``overhead.py`` is then noise around a small
figure.  Here ``torch.nn.functional.conv2d`` is replaced by a no-op in both the raw call and kbackend's
torch engine, so what is left is the argument handling, the checks, the dispatch and the engine's
layout work: the figure held to the ≤ 1 µs per-call target.  One intra-op thread, so that a loaded
machine's thread pool does not enter the figure.
"""

import os
import sys
import timeit
import types

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    import numpy as np
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import kbackend as K
    from kbackend.backends.torch import conv

    no_op = types.SimpleNamespace(conv2d=lambda x, weight, *args: x)
    real, conv.F = conv.F, no_op
    try:
        rng = np.random.default_rng(0)
        x = torch.from_numpy(rng.standard_normal((2, 8, 8, 3), dtype=np.float32))
        x = x.contiguous(memory_format=torch.channels_last)
        kernel = torch.from_numpy(rng.standard_normal((3, 3, 3, 3), dtype=np.float32))
        calls = {
            "raw": lambda: no_op.conv2d(x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1)).permute(0, 2, 3, 1),
            "engine": lambda: conv.conv2d(x, kernel, (1, 1), "valid", "channels_last", (1, 1)),
            "K.conv2d": lambda: K.conv2d(x, kernel, data_format="channels_last"),
            "K.conv2d (defaults)": lambda: K.conv2d(x, kernel),
        }
        best = dict.fromkeys(calls, float("inf"))
        with K.backend_scope("torch"):
            for _ in range(15):  # interleaved, so that machine noise hits every call alike
                for name, call in calls.items():
                    best[name] = min(best[name], timeit.timeit(call, number=20000) / 20000)
    finally:
        conv.F = real
    print("| call | µs over the raw call |\n|---|---|")
    for name in calls:
        if name != "raw":
            print(f"| {name} | {(best[name] - best['raw']) * 1e6:.2f} |")


if __name__ == "__main__":
    main()
