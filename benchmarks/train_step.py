"""One SGD step of an MLP 784-256-10 (batch 128): K.function + K.gradients vs the fastest hand-written step.

    python benchmarks/train_step.py [--engines numpy torch jax tensorflow pytensor] [--markdown F] [--json F]

Both steps take the batch and return the loss.  Two settings are measured:

* ``numpy batch`` — the batch arrives as NumPy arrays each step, as in a training loop over a data
  set (and as ``K.function`` is usually called); the hand-written step converts it the fastest way
  its engine offers (``torch.from_numpy``, jit / tf.function arguments);
* ``resident batch`` — the batch is already an engine tensor (on the engine's device), fed as is
  to both.

Each engine runs in its own subprocess; inside it the two steps alternate in short rounds and the
best round of each is kept, so the ratio K / hand-written is measured under the same machine load.
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

ENGINES = ("numpy", "torch", "jax", "tensorflow", "pytensor")
BATCH, FEATURES, HIDDEN, CLASSES, LR = 128, 784, 256, 10, 0.01


def data(rng):
    import numpy as np

    x = rng.standard_normal((BATCH, FEATURES)).astype(np.float32)
    y = np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, BATCH)]
    w1 = (rng.standard_normal((FEATURES, HIDDEN)) * 0.05).astype(np.float32)
    w2 = (rng.standard_normal((HIDDEN, CLASSES)) * 0.05).astype(np.float32)
    return x, y, w1, np.zeros(HIDDEN, np.float32), w2, np.zeros(CLASSES, np.float32)


def k_step(w1, b1, w2, b2):
    import kbackend as K

    params = [K.variable(v) for v in (w1, b1, w2, b2)]
    inputs, labels = K.placeholder((None, FEATURES)), K.placeholder((None, CLASSES))
    hidden = K.relu(K.bias_add(K.dot(inputs, params[0]), params[1]))
    logits = K.bias_add(K.dot(hidden, params[2]), params[3])
    loss = K.mean(K.categorical_crossentropy(labels, logits, from_logits=True))
    grads = K.gradients(loss, params)
    step = K.function([inputs, labels], [loss], updates=[(p, p - LR * g) for p, g in zip(params, grads)])
    return lambda x, y: step([x, y])[0]


def resident(engine, array):
    """``array`` as a tensor of ``engine`` on its default device."""
    if engine == "torch":
        import torch

        return torch.as_tensor(array, device=torch.get_default_device())
    if engine == "jax":
        import jax.numpy as jnp

        return jnp.asarray(array)
    if engine == "tensorflow":
        import tensorflow as tf

        return tf.constant(array)
    return array


def hand_step(engine, w1, b1, w2, b2):
    import numpy as np

    if engine == "numpy":
        params = [w1.copy(), b1.copy(), w2.copy(), b2.copy()]

        def step(x, y):
            a, ba, c, bc = params
            pre = x @ a + ba
            hidden = np.maximum(pre, 0)
            logits = hidden @ c + bc
            shifted = logits - logits.max(axis=1, keepdims=True)
            probs = np.exp(shifted)
            probs /= probs.sum(axis=1, keepdims=True)
            loss = -np.mean(np.sum(y * (shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))), axis=1))
            d_logits = (probs - y) / BATCH
            d_hidden = (d_logits @ c.T) * (pre > 0)
            for p, g in zip(params, (x.T @ d_hidden, d_hidden.sum(0), hidden.T @ d_logits, d_logits.sum(0))):
                p -= LR * g
            return loss

        return step
    if engine == "torch":
        import torch
        import torch.nn.functional as F

        params = [torch.tensor(v, requires_grad=True) for v in (w1, b1, w2, b2)]

        def step(x, y):
            tx = x if isinstance(x, torch.Tensor) else torch.from_numpy(x)
            ty = y if isinstance(y, torch.Tensor) else torch.from_numpy(y)
            a, ba, c, bc = params
            loss = F.cross_entropy(F.relu(tx @ a + ba) @ c + bc, ty)
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for p, g in zip(params, grads):
                    p -= LR * g
            return loss.item()

        return step
    if engine == "jax":
        import jax
        import jax.numpy as jnp

        def loss_fn(params, xs, ys):
            a, ba, c, bc = params
            logits = jax.nn.relu(xs @ a + ba) @ c + bc
            return -jnp.mean(jnp.sum(ys * jax.nn.log_softmax(logits), axis=1))

        @jax.jit
        def update(params, xs, ys):
            loss, grads = jax.value_and_grad(loss_fn)(params, xs, ys)
            return loss, [p - LR * g for p, g in zip(params, grads)]

        state = {"params": [jnp.asarray(v) for v in (w1, b1, w2, b2)]}

        def step(x, y):
            loss, state["params"] = update(state["params"], x, y)
            return float(loss)

        return step
    if engine == "tensorflow":
        import tensorflow as tf

        params = [tf.Variable(v) for v in (w1, b1, w2, b2)]

        @tf.function(reduce_retracing=True)
        def tf_update(tx, ty):
            with tf.GradientTape() as tape:
                a, ba, c, bc = params
                logits = tf.nn.relu(tx @ a + ba) @ c + bc
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(ty, logits))
            for p, g in zip(params, tape.gradient(loss, params)):
                p.assign_sub(LR * g)
            return loss

        return lambda x, y: float(tf_update(x, y))
    if engine == "pytensor":
        import pytensor
        import pytensor.tensor as pt
        from pytensor.compile.mode import Mode
        from pytensor.tensor.special import log_softmax

        params = [pytensor.shared(v) for v in (w1, b1, w2, b2)]
        tx, ty = pt.matrix(dtype="float32"), pt.matrix(dtype="float32")
        a, ba, c, bc = params
        logits = pt.dot(pt.maximum(pt.dot(tx, a) + ba, 0), c) + bc
        loss = -pt.mean(pt.sum(ty * log_softmax(logits, axis=1), axis=1))
        grads = pytensor.grad(loss, params)
        # the mode K.function compiles with: the C virtual machine and the fast_run rewrites
        update = pytensor.function([tx, ty], loss, updates=[(p, p - np.float32(LR) * g) for p, g in zip(params, grads)],
                                   mode=Mode(linker="cvm", optimizer="fast_run"))
        return lambda x, y: float(update(x, y))
    raise ValueError(engine)


def best_ratio(mine, hand, args, rounds=100, number=5):
    """Best per-call times of the two steps, alternating short rounds so both see the same load."""
    for fn in (mine, hand):
        fn(*args)
        fn(*args)
    t_k = t_hand = float("inf")
    for _ in range(rounds):
        t_hand = min(t_hand, timeit.timeit(lambda: hand(*args), number=number) / number)
        t_k = min(t_k, timeit.timeit(lambda: mine(*args), number=number) / number)
    return t_k, t_hand


def measure(engine):
    import numpy as np

    os.environ["KERAS_BACKEND"] = engine
    import kbackend as K

    x, y, *weights = data(np.random.default_rng(0))
    row = {"engine": engine}
    with K.backend_scope(engine):
        for setting, batch in (("numpy", (x, y)), ("resident", (resident(engine, x), resident(engine, y)))):
            t_k, t_hand = best_ratio(k_step(*weights), hand_step(engine, *weights), batch)
            row[setting] = {"hand_ms": t_hand * 1e3, "k_ms": t_k * 1e3, "ratio": t_k / t_hand}
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="*", default=None)
    parser.add_argument("--markdown")
    parser.add_argument("--json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    import importlib.util

    engines = args.engines or [e for e in ENGINES if e == "numpy" or importlib.util.find_spec(e)]
    rows = []
    for engine in engines:
        result = subprocess.run([sys.executable, __file__, "--child", engine], capture_output=True, text=True)
        if result.returncode != 0:
            print(f"{engine}: failed\n{result.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
    lines = ["| engine | batch | hand-written step (ms) | K step (ms) | K / hand |", "|---|---|---|---|---|"]
    lines += [f"| {r['engine']} | {setting} | {r[setting]['hand_ms']:.2f} | {r[setting]['k_ms']:.2f} | "
              f"{r[setting]['ratio']:.2f}x |" for r in rows for setting in ("numpy", "resident")
              if r["engine"] not in ("numpy", "pytensor") or setting == "numpy"]
    text = "\n".join(lines)
    report(text, rows, args.markdown, args.json)


if __name__ == "__main__":
    main()
