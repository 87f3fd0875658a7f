"""Run Keras 2.3.1's example scripts on kbackend engines, on small synthetic data.

    python tests/keras_examples.py --engines numpy torch [--examples mnist_cnn.py ...] [--timeout 600]

The examples ship in Keras 2.3.1's source archive (``examples/``), fetched once as for
``tests/keras_suite.py``.  Each script runs unchanged in its own process with
``KERAS_BACKEND=kbackend.<engine>``, with these stand-ins for what this machine lacks:

- the datasets (``mnist``, ``cifar10``, ``imdb``, ``reuters``) return a few hundred random samples of
  the real shapes and dtypes, and ``get_file`` serves a synthetic text corpus;
- ``fit``/``fit_generator`` run one epoch, and a script's own epoch or iteration count is set to one
  (its source is edited in memory);
- NumPy 2 gets back the aliases (``np.unicode_``, ``np.float``…) that ``keras_preprocessing`` 1.1 and
  the scripts read;
- ``matplotlib``, ``PIL`` and ``pydot`` are inert, and ``plot_model`` draws nothing stand-ins when not installed (the scripts only plot and save).

Scripts that need pretrained ImageNet weights, downloaded corpora, images given on the command line or
cairo are not run (``SKIPPED`` below says why).  The script exits 1 when any example fails.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from keras_suite import CACHE, suite  # noqa: E402

SKIPPED = {
    "babi_memnn.py": "downloads the bAbI corpus",
    "babi_rnn.py": "downloads the bAbI corpus",
    "class_activation_maps.py": "reads an image given on the command line, ImageNet weights",
    "conv_filter_visualization.py": "ImageNet weights",
    "deep_dream.py": "ImageNet weights and an image given on the command line",
    "image_ocr.py": "cairo",
    "neural_doodle.py": "images given on the command line, ImageNet weights",
    "neural_style_transfer.py": "images given on the command line, ImageNet weights",
    "pretrained_word_embeddings.py": "downloads GloVe",
    "lstm_seq2seq_restore.py": "needs the model lstm_seq2seq.py saves and its corpus",
    "mnist_sklearn_wrapper.py": "scikit-learn",
}

#: Runs before the example (``python -c``): the stand-ins described above.
SHIM = textwrap.dedent(r'''
    import re, sys, types, runpy, unittest.mock
    import numpy as np

    for name in ("matplotlib", "matplotlib.pyplot", "pylab", "PIL", "PIL.Image", "pydot"):
        try:
            __import__(name)
        except ImportError:
            sys.modules[name] = unittest.mock.MagicMock(name=name)

    for alias, meaning in (("unicode_", np.str_), ("float", float), ("int", int), ("bool", bool)):
        if alias not in np.__dict__:  # names NumPy 2 removed that keras_preprocessing 1.1 and the scripts read
            setattr(np, alias, meaning)

    rng = np.random.RandomState(0)

    def images(n, shape, classes, label_shape=()):
        x = rng.randint(0, 256, (n,) + shape).astype("uint8")
        y = (np.arange(n) % classes).astype("uint8").reshape((n,) + label_shape)
        return x, y

    def sequences(n, num_words, classes, low=20, high=120):
        top = num_words or 1000
        x = np.empty(n, dtype=object)
        for i in range(n):
            x[i] = list(rng.randint(1, top, rng.randint(low, high)))
        return x, (np.arange(n) % classes).astype("int64")

    import keras.datasets.mnist as mnist, keras.datasets.cifar10 as cifar10
    import keras.datasets.imdb as imdb, keras.datasets.reuters as reuters
    mnist.load_data = lambda *a, **k: (images(600, (28, 28), 10), images(300, (28, 28), 10))
    cifar10.load_data = lambda *a, **k: (images(300, (32, 32, 3), 10, (1,)), images(100, (32, 32, 3), 10, (1,)))
    imdb.load_data = lambda *a, num_words=None, **k: (sequences(300, num_words, 2), sequences(100, num_words, 2))
    reuters.load_data = lambda *a, num_words=None, **k: (sequences(300, num_words, 46), sequences(100, num_words, 46))

    def get_file(fname, *a, **k):
        words = ["the", "will", "to", "power", "truth", "is", "a", "woman", "and", "what", "then"]
        path = fname if "/" not in fname else fname.rsplit("/", 1)[-1]
        with open(path, "w") as f:
            f.write(" ".join(rng.choice(words, 1200)))
        return path

    import keras.utils.data_utils
    keras.utils.data_utils.get_file = get_file
    import keras.utils
    keras.utils.get_file = get_file

    import keras.utils.vis_utils
    keras.utils.plot_model = keras.utils.vis_utils.plot_model = lambda *a, **k: None  # needs graphviz

    from keras.engine import training
    for method in ("fit", "fit_generator"):
        original = getattr(training.Model, method)
        def one_epoch(self, *a, _original=original, **k):
            k["epochs"] = 1
            if "steps_per_epoch" in k and k["steps_per_epoch"]:
                k["steps_per_epoch"] = min(k["steps_per_epoch"], 3)
            if len(a) > 3:  # epochs given positionally (x, y, batch_size, epochs, ...)
                a = a[:3] + (1,) + a[4:]
            return _original(self, *a, **k)
        setattr(training.Model, method, one_epoch)

    path = sys.argv[1]
    source = open(path).read()
    source = re.sub(r"^(\s*)(epochs|EPOCHS|iterations|num_octave) = \d+", r"\1\2 = 1", source, flags=re.M)
    source = re.sub(r"^(TRAINING_SIZE|num_samples) = \d+", r"\1 = 400", source, flags=re.M)
    source = source.replace("range(1, 200)", "range(1, 2)")
    source = source.replace("reshape(60000,", "reshape(600,").replace("reshape(10000,", "reshape(300,")
    source = source.replace("generate_movies(n_samples=1200)", "generate_movies(n_samples=30)")
    source = source.replace("[:1000]", "[:20]").replace("which = 1004", "which = 24")
    sys.argv = [path]
    code = compile(source, path, "exec")
    exec(code, {"__name__": "__main__", "__file__": path})
''')


def corpus(directory):
    """The tab-separated English-French pairs the seq2seq examples read from ``fra-eng/fra.txt``."""
    (directory / "fra-eng").mkdir()
    pairs = [("Go now.", "Va !"), ("Run away!", "Cours !"), ("I see.", "Je vois."), ("Be calm.", "Sois calme !"),
             ("Help me!", "À l'aide !"), ("Jump in.", "Saute."), ("Stop it!", "Ça suffit !"), ("We won.", "Nous avons gagné.")]
    (directory / "fra-eng" / "fra.txt").write_text("\n".join(f"{en}\t{fr}" for en, fr in pairs * 20) + "\n")


def run(engine, example, timeout):
    """Run one example; return (passed, the last lines of its output)."""
    work = Path(tempfile.mkdtemp(prefix=f"kbackend-example-{engine}-"))
    corpus(work)
    env = dict(os.environ, KERAS_BACKEND=f"kbackend.{engine}", KERAS_HOME=str(work), MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    script = suite().parent / "examples" / example
    try:
        done = subprocess.run([sys.executable, "-c", SHIM, str(script)], cwd=work, env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout} s"
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-6:])
    return done.returncode == 0, tail


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["numpy", "torch"])
    parser.add_argument("--examples", nargs="+")
    parser.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args(argv)
    examples = args.examples or sorted(p.name for p in (suite().parent / "examples").glob("*.py")
                                       if p.name not in SKIPPED)
    failed = 0
    for engine in args.engines:
        for example in examples:
            passed, tail = run(engine, example, args.timeout)
            print(f"{engine:10} {example:36} {'ok' if passed else 'FAILED'}", flush=True)
            if not passed:
                failed += 1
                print(textwrap.indent(tail, "    "), flush=True)
    print(f"{failed} failed; not run: " + ", ".join(f"{name} ({why})" for name, why in SKIPPED.items()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
