"""Building Keras 2.3.1 models on kbackend: seconds and peak memory of the whole process.

    python benchmarks/graph_build.py [--engines torch numpy] [--models ResNet50 DenseNet201]
                                     [--markdown F] [--json F]

Each (engine, model) is built in a fresh subprocess (``keras.applications.<model>(weights=None)``),
so the peak resident memory is that of one Python process holding Keras, the engine and the graph.
The time is the model call alone, the import of Keras is reported apart.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _report import report  # noqa: E402

CHILD = """
import json, os, resource, sys, time
os.environ["KERAS_BACKEND"] = "kbackend." + sys.argv[1]
started = time.perf_counter()
import keras
imported = time.perf_counter() - started
started = time.perf_counter()
model = getattr(keras.applications, sys.argv[2])(weights=None)
built = time.perf_counter() - started
print(json.dumps({"engine": sys.argv[1], "model": sys.argv[2], "import_s": round(imported, 2),
                  "build_s": round(built, 2), "layers": len(model.layers), "params": model.count_params(),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def measure(engine, model):
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, KERAS_HOME=home, TF_CPP_MIN_LOG_LEVEL="3")
        run = subprocess.run([sys.executable, "-c", CHILD, engine, model], env=env, capture_output=True,
                             text=True, timeout=1800)
    if run.returncode != 0:
        return {"engine": engine, "model": model, "error": run.stderr.strip().splitlines()[-1]}
    return json.loads(run.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["torch"])
    parser.add_argument("--models", nargs="+", default=["ResNet50", "DenseNet201"])
    parser.add_argument("--markdown")
    parser.add_argument("--json")
    args = parser.parse_args()
    rows = [measure(engine, model) for model in args.models for engine in args.engines]
    lines = ["| model | engine | layers | build (s) | import (s) | peak RSS (MB) |", "|---|---|---|---|---|---|"]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['model']} | {row['engine']} | error: {row['error']} | | | |")
        else:
            lines.append(f"| {row['model']} | {row['engine']} | {row['layers']} | {row['build_s']} | "
                         f"{row['import_s']} | {row['peak_rss_mb']} |")
    report("\n".join(lines), rows, args.markdown, args.json)


if __name__ == "__main__":
    main()
