"""Per-call cost of K.* against the raw engine call (and Keras 3's keras.ops), in one process per engine.

    python benchmarks/overhead.py                      # every installed engine
    python benchmarks/overhead.py --engines numpy torch --markdown out.md --json out.json

For the tiny size the figure is the overhead in microseconds (K time minus raw time); for the larger
sizes it is the ratio K / raw.  Each engine runs in its own subprocess (Keras 3 binds its backend at
import), and inside it the K call, the raw call and keras.ops alternate so machine noise hits all three.
"""

import argparse
import json
import os
import subprocess
import sys
import timeit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _report import report  # noqa: E402

SIZES = {"tiny": (2, 3), "medium": (256, 256), "large": (2048, 2048)}
CONV_SIZES = {"tiny": (4, 8, 8, 3), "medium": (16, 32, 32, 16), "large": (32, 64, 64, 32)}
OPS = ("prod", "sum", "max", "cast", "dot", "batch_dot", "softmax", "conv2d")
ENGINES = ("numpy", "torch", "jax", "tensorflow", "pytensor")


# ---------------------------------------------------------------------------------------------------
# raw engine calls


def raw_calls(engine):
    """op → (make inputs from NumPy arrays, raw function, block-until-done)."""
    import numpy as np

    if engine == "numpy":
        def softmax(x):
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)

        return {
            "prod": lambda x: np.prod(x, axis=1),
            "max": lambda x: np.max(x, axis=1),
            "sum": lambda x: np.sum(x),
            "cast": lambda x: x.astype(np.float16),
            "dot": lambda x, y: np.dot(x, y),
            "batch_dot": lambda x, y: np.einsum("ij,ij->i", x, y)[:, None],
            "softmax": softmax,
        }, (lambda a: a), (lambda out: out)
    if engine == "torch":
        import torch
        import torch.nn.functional as F

        def conv(x, k):
            return F.conv2d(x.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1)).permute(0, 2, 3, 1)

        return {
            "prod": lambda x: torch.prod(x, dim=1),
            "max": lambda x: torch.amax(x, dim=1),
            "sum": lambda x: torch.sum(x),
            "cast": lambda x: x.to(torch.float16),
            "dot": lambda x, y: torch.matmul(x, y),
            "batch_dot": lambda x, y: torch.einsum("ij,ij->i", x, y)[:, None],
            "softmax": lambda x: torch.softmax(x, dim=-1),
            "conv2d": conv,
        }, (lambda a: torch.from_numpy(a).contiguous(memory_format=torch.channels_last)
            if a.ndim == 4 else torch.from_numpy(a)), (lambda out: out)
    if engine == "jax":
        import jax
        import jax.numpy as jnp

        def conv(x, k):
            return jax.lax.conv_general_dilated(x, k, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))

        return {
            "prod": lambda x: jnp.prod(x, axis=1),
            "max": lambda x: jnp.max(x, axis=1),
            "sum": lambda x: jnp.sum(x),
            "cast": lambda x: x.astype(jnp.float16),
            "dot": lambda x, y: jnp.dot(x, y),
            "batch_dot": lambda x, y: jnp.einsum("ij,ij->i", x, y)[:, None],
            "softmax": lambda x: jax.nn.softmax(x, axis=-1),
            "conv2d": conv,
        }, jnp.asarray, (lambda out: out.block_until_ready())
    if engine == "tensorflow":
        import tensorflow as tf

        return {
            "prod": lambda x: tf.reduce_prod(x, axis=1),
            "max": lambda x: tf.reduce_max(x, axis=1),
            "sum": lambda x: tf.reduce_sum(x),
            "cast": lambda x: tf.cast(x, tf.float16),
            "dot": lambda x, y: tf.matmul(x, y),
            "batch_dot": lambda x, y: tf.reduce_sum(x * y, axis=1, keepdims=True),
            "softmax": lambda x: tf.nn.softmax(x, axis=-1),
            "conv2d": lambda x, k: tf.nn.conv2d(x, k, 1, "VALID"),
        }, tf.convert_to_tensor, (lambda out: out)
    if engine == "pytensor":
        # the raw call: a pytensor.function compiled once for the op (C virtual machine, fast_run
        # rewrites); a K.* call on this engine looks up (or compiles) its own one-op graph, run by
        # PyTensor's Python linker
        import pytensor
        import pytensor.tensor as pt
        from pytensor.compile.mode import Mode
        from pytensor.tensor.special import softmax

        mode = Mode(linker="cvm", optimizer="fast_run")
        x, y = pt.matrix(dtype="float32"), pt.matrix(dtype="float32")

        def compiled(inputs, output):
            return pytensor.function(inputs, output, mode=mode)

        return {
            "prod": compiled([x], pt.prod(x, axis=1)),
            "max": compiled([x], pt.max(x, axis=1)),
            "sum": compiled([x], pt.sum(x)),
            "cast": compiled([x], pt.cast(x, "float16")),
            "dot": compiled([x, y], pt.dot(x, y)),
            "batch_dot": compiled([x, y], pt.sum(x * y, axis=1, keepdims=True)),
            "softmax": compiled([x], softmax(x, axis=-1)),
        }, (lambda a: a), (lambda out: out)
    raise ValueError(engine)


def k_calls():
    import kbackend as K

    return {
        "prod": lambda x: K.prod(x, axis=1),
        "max": lambda x: K.max(x, axis=1),
        "sum": lambda x: K.sum(x),
        "cast": lambda x: K.cast(x, "float16"),
        "dot": lambda x, y: K.dot(x, y),
        "batch_dot": lambda x, y: K.batch_dot(x, y, axes=1),
        "softmax": lambda x: K.softmax(x),
        "conv2d": lambda x, k: K.conv2d(x, k, data_format="channels_last"),
    }


def keras3_calls():
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from keras import ops
    except Exception:  # noqa: BLE001 - Keras 3 absent or unable to load this engine
        return None
    return {
        "prod": lambda x: ops.prod(x, axis=1),
        "max": lambda x: ops.max(x, axis=1),
        "sum": lambda x: ops.sum(x),
        "cast": lambda x: ops.cast(x, "float16"),
        "dot": lambda x, y: ops.dot(x, y),
        "batch_dot": lambda x, y: ops.sum(x * y, axis=1, keepdims=True),
        "softmax": lambda x: ops.softmax(x),
        "conv2d": lambda x, k: ops.conv(x, k, data_format="channels_last"),
    }


def inputs(op, size, rng):
    import numpy as np

    if op == "conv2d":
        shape = CONV_SIZES[size]
        return (rng.standard_normal(shape).astype(np.float32),
                rng.standard_normal((3, 3, shape[-1], shape[-1])).astype(np.float32))
    shape = SIZES[size]
    x = rng.standard_normal(shape).astype(np.float32)
    if op == "dot":
        return x, rng.standard_normal(shape[::-1]).astype(np.float32)
    if op == "batch_dot":
        return x, rng.standard_normal(shape).astype(np.float32)
    return (x,)


def best_time(fn, block, number, repeat=7):
    block(fn())
    return min(timeit.repeat(lambda: block(fn()), number=number, repeat=repeat)) / number


def measure(engine, quick=False):
    import numpy as np

    os.environ["KERAS_BACKEND"] = engine
    import kbackend as K

    raw, convert, block = raw_calls(engine)
    mine = k_calls()
    keras3 = keras3_calls() if engine != "numpy" else None
    rng = np.random.default_rng(0)
    rows = []
    with K.backend_scope(engine):
        for op in OPS:
            if op not in raw:
                continue
            for size in SIZES:
                if quick and size == "large":
                    continue
                args = [convert(a) for a in inputs(op, size, rng)]
                number = {"tiny": 2000, "medium": 50, "large": 3}[size]
                t_raw = best_time(lambda: raw[op](*args), block, number)
                t_k = best_time(lambda: mine[op](*args), block, number)
                t_raw = min(t_raw, best_time(lambda: raw[op](*args), block, number))
                t_k3 = None
                if keras3 is not None:
                    try:
                        t_k3 = best_time(lambda: keras3[op](*args), block, number)
                    except Exception:  # noqa: BLE001 - an op Keras 3 lacks for this engine
                        t_k3 = None
                rows.append({"engine": engine, "op": op, "size": size, "raw_us": t_raw * 1e6, "k_us": t_k * 1e6,
                             "keras3_us": None if t_k3 is None else t_k3 * 1e6})
    return rows


def describe(row):
    if row["size"] == "tiny":
        k = f"+{row['k_us'] - row['raw_us']:.2f} us"
        k3 = "" if row["keras3_us"] is None else f"+{row['keras3_us'] - row['raw_us']:.2f} us"
    else:
        k = f"{row['k_us'] / row['raw_us']:.3f}x"
        k3 = "" if row["keras3_us"] is None else f"{row['keras3_us'] / row['raw_us']:.3f}x"
    return k, k3


def table(rows):
    lines = ["| engine | op | size | raw (us) | K.* vs raw | keras.ops vs raw |", "|---|---|---|---|---|---|"]
    for row in rows:
        k, k3 = describe(row)
        lines.append(f"| {row['engine']} | {row['op']} | {row['size']} | {row['raw_us']:.2f} | {k} | {k3} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="*", default=None)
    parser.add_argument("--markdown")
    parser.add_argument("--json")
    parser.add_argument("--quick", action="store_true", help="skip the 2048x2048 size")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.quick)))
        return
    import importlib.util

    engines = args.engines or [e for e in ENGINES if e == "numpy" or importlib.util.find_spec(e)]
    rows = []
    for engine in engines:
        command = [sys.executable, __file__, "--child", engine] + (["--quick"] if args.quick else [])
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            print(f"{engine}: failed\n{result.stderr[-2000:]}", file=sys.stderr)
            continue
        rows += json.loads(result.stdout.strip().splitlines()[-1])
    text = table(rows)
    report(text, rows, args.markdown, args.json)


if __name__ == "__main__":
    main()
