"""Run Keras 2.3.1's own test suite on kbackend engines.

    python tests/keras_suite.py --engines numpy torch [--files keras/layers/core_test.py ...] [-n 2]

The suite ships in Keras 2.3.1's source archive (not in its wheel): it is fetched once with
``pip download --no-binary`` into ``~/.cache/kbackend/`` and unpacked there.  Each engine runs in its own
pytest process with ``KERAS_BACKEND=kbackend.<engine>`` and a private ``KERAS_HOME``.  Failures listed in
``tests/keras_suite_known.txt`` are the environment's, not kbackend's (each line gives its reason); the
script exits 1 when any other test fails.  It takes minutes on NumPy and torch, longer on JAX and much
longer on PyTensor (it compiles), so it is a maintainer's tool, not part of ``.ci/run``.  Besides what
``.ci/run`` installs, the suite imports ``pandas`` and ``flaky``.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = Path(os.environ.get("KBACKEND_CACHE", Path.home() / ".cache" / "kbackend"))
KNOWN = HERE / "keras_suite_known.txt"
#: The files run by default.  ``keras/backend`` is left out: its tests compare Keras's own TensorFlow,
#: Theano and CNTK modules with each other.
DEFAULT_FILES = ("keras", "integration_tests", "test_dynamic_trainability.py", "test_loss_masking.py",
                 "test_loss_weighting.py", "test_model_pickling.py", "test_model_saving.py")


def suite():
    """The unpacked ``tests`` directory of Keras 2.3.1's source archive."""
    tests = CACHE / "Keras-2.3.1" / "tests"
    if tests.is_dir():
        return tests
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                    "keras==2.3.1", "-d", str(CACHE)], check=True)
    with tarfile.open(CACHE / "Keras-2.3.1.tar.gz") as archive:
        archive.extractall(CACHE, filter="data")
    return tests


def known_failures():
    """Test id → reason, from ``keras_suite_known.txt`` (``id  # reason`` lines)."""
    known = {}
    for line in KNOWN.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            test, _, reason = line.partition("#")
            known[test.strip()] = reason.strip()
    return known


def run(engine, files, workers):
    """Run ``files`` on ``engine``; return (counts, failed test ids)."""
    home = Path(tempfile.mkdtemp(prefix=f"kbackend-keras-{engine}-"))
    (home / "keras.json").write_text(json.dumps({"backend": f"kbackend.{engine}", "floatx": "float32",
                                                 "epsilon": 1e-07, "image_data_format": "channels_last"}))
    env = dict(os.environ, KERAS_BACKEND=f"kbackend.{engine}", KERAS_HOME=str(home),
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider", "-rfE",
               "--tb=no", "-W", "ignore::DeprecationWarning", "--ignore=keras/backend", "--continue-on-collection-errors",
               *files]
    if workers > 1:
        command += ["-n", str(workers)]
    done = subprocess.run(command, cwd=suite(), env=env, capture_output=True, text=True)
    failed = sorted(set(re.findall(r"^(?:FAILED|ERROR) (\S+)", done.stdout, re.M)))
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (passed|failed|skipped|errors?)", done.stdout)}
    return counts, failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["numpy", "torch"])
    parser.add_argument("--files", nargs="+", default=list(DEFAULT_FILES))
    parser.add_argument("-n", type=int, default=1, help="pytest-xdist workers")
    args = parser.parse_args(argv)
    known, unexpected = known_failures(), 0
    print("| engine | passed | failed | known (environment) | unexpected |")
    print("|---|---|---|---|---|")
    details = []
    for engine in args.engines:
        counts, failed = run(engine, args.files, args.n)
        new = [t for t in failed if t not in known]
        unexpected += len(new)
        print(f"| {engine} | {counts.get('passed', 0)} | {len(failed)} | {len(failed) - len(new)} | {len(new)} |")
        details += [f"{engine}: {t}" for t in new]
    for line in details:
        print(line)
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
