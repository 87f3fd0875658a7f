"""``model.fit`` of one Keras model, ms per step: Keras 2.3.1 on kbackend against the other ways to train it.

    python benchmarks/keras_fit.py [--engines numpy torch jax tensorflow] [--keras3 PATH] [--markdown F]
                                   [--json F]

The model: Dense 256-256-10 (relu, softmax) on 784 inputs, Adam, categorical crossentropy, batch 128,
64 steps an epoch.  Each contender runs in a subprocess of its own:

* ``kbackend-<engine>``: Keras 2.3.1 with ``KERAS_BACKEND=kbackend.<engine>``.  On torch the same
  process also runs the hand-written torch loop (``nn.Sequential``, ``torch.optim.Adam``), the two
  alternating epoch by epoch, so their ratio is measured under one machine load;
* ``keras3-<engine>``: Keras 3 on the same engine, when ``--keras3`` names a folder holding it (Keras
  2.3.1 and Keras 3 are both the module ``keras``: ``pip install --target PATH keras``);
* ``tf-keras``: tf_keras 2.21 (Keras 2 on TensorFlow), when installed.

Each contender trains one warm-up epoch, then the best of ``--epochs`` epochs is kept.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _report import report  # noqa: E402

SAMPLES, BATCH = 64 * 128, 128

CHILD = r"""
import json, os, sys, time
import numpy as np
kind, engine, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(0)
x = rng.standard_normal((%(samples)d, 784)).astype("float32")
y = np.eye(10, dtype="float32")[rng.integers(0, 10, %(samples)d)]
steps = %(samples)d // %(batch)d

if kind == "tf-keras":
    import tf_keras as keras
else:
    import keras
layers = keras.layers
model = keras.models.Sequential([layers.Dense(256, activation="relu", input_shape=(784,)),
                                 layers.Dense(256, activation="relu"), layers.Dense(10, activation="softmax")])
model.compile(keras.optimizers.Adam(), "categorical_crossentropy")


def keras_epoch():
    started = time.perf_counter()
    model.fit(x, y, batch_size=%(batch)d, epochs=1, verbose=0, shuffle=False)
    return (time.perf_counter() - started) / steps * 1e3


contenders = {"keras": keras_epoch}
if kind == "kbackend" and engine == "torch":
    import torch
    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                              torch.nn.ReLU(), torch.nn.Linear(256, 10))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)

    def raw_epoch():
        started = time.perf_counter()
        for i in range(steps):
            xb = torch.from_numpy(x[i * %(batch)d:(i + 1) * %(batch)d])
            yb = torch.from_numpy(y[i * %(batch)d:(i + 1) * %(batch)d])
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(xb), yb)
            loss.backward()
            optimizer.step()
            float(loss)  # the value a training loop reports, as fit does
        return (time.perf_counter() - started) / steps * 1e3

    contenders["raw torch"] = raw_epoch
best = {name: float("inf") for name in contenders}
for name, run in contenders.items():
    run()  # warm-up: compilation, first allocations
for _ in range(epochs):
    for name, run in contenders.items():
        best[name] = min(best[name], run())
print(json.dumps(best))
""" % {"samples": SAMPLES, "batch": BATCH}


def run(kind, engine, epochs, keras3=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if kind == "kbackend":
        env["KERAS_BACKEND"] = f"kbackend.{engine}"
    elif kind == "keras3":
        env["KERAS_BACKEND"] = engine
        env["PYTHONPATH"] = keras3 + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as home:
        env["KERAS_HOME"] = home
        done = subprocess.run([sys.executable, "-c", CHILD, kind, engine, str(epochs)], env=env,
                              capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["numpy", "torch", "jax", "tensorflow"])
    parser.add_argument("--keras3", help="a folder holding Keras 3 (pip install --target PATH keras)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--markdown")
    parser.add_argument("--json")
    args = parser.parse_args()
    rows = []
    for engine in args.engines:
        found = run("kbackend", engine, args.epochs)
        row = {"engine": engine, "kbackend_ms": found.get("keras"), "raw_torch_ms": found.get("raw torch"),
               "error": found.get("error")}
        if args.keras3 and engine != "numpy":
            row["keras3_ms"] = run("keras3", engine, args.epochs, args.keras3).get("keras")
        rows.append(row)
    tf_keras = run("tf-keras", "tensorflow", args.epochs).get("keras")
    lines = ["| engine | Keras 2.3.1 on kbackend (ms/step) | raw torch loop, same process | Keras 3 | "
             "kbackend / raw | kbackend / Keras 3 |", "|---|---|---|---|---|---|"]

    def cell(value):
        return "—" if value is None else f"{value:.2f}"

    for row in rows:
        if row.get("error"):
            lines.append(f"| {row['engine']} | error: {row['error']} | | | | |")
            continue
        raw, k3, ours = row.get("raw_torch_ms"), row.get("keras3_ms"), row["kbackend_ms"]
        lines.append(f"| {row['engine']} | {cell(ours)} | {cell(raw)} | {cell(k3)} | "
                     f"{cell(ours / raw) if raw else '—'} | {cell(ours / k3) if k3 else '—'} |")
    lines.append(f"| tf-keras 2.21 (TensorFlow) | {cell(tf_keras)} | | | | |")
    report("\n".join(lines), {"rows": rows, "tf_keras_ms": tf_keras}, args.markdown, args.json)


if __name__ == "__main__":
    main()
