"""Command line: python -m kbackend [info | config get KEY | config set KEY VALUE | config path | where NAME | demo].

info (the default) prints the configuration in force and the engines kbackend can use here, then runs
the examples of the Keras backend article this project started from.  config set is the only way
kbackend writes keras.json.  The command line starts whatever keras.json holds, so that a bad file
can be shown and repaired.
"""

import argparse
import difflib
import importlib.metadata
import inspect
import os
import sys

import numpy as np

import kbackend as K
from kbackend import config
from kbackend._dispatch import declaration_line

#: The distributions that provide each engine, for the versions shown.
_ENGINE_DISTRIBUTIONS = {
    "torch": ("torch",),
    "jax": ("jax",),
    "tensorflow": ("tensorflow-cpu", "tensorflow"),
    "pytensor": ("pytensor",),
}


def _version(engine):
    if engine == "numpy":
        return np.__version__
    for distribution in _ENGINE_DISTRIBUTIONS.get(engine, ()):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _config_value(key):
    return {"backend": K.backend, "floatx": K.floatx, "epsilon": K.epsilon,
            "image_data_format": K.image_data_format}[key]()


def info():
    print("kbackend", K.__version__)
    for key in config.CONFIG_KEYS:
        print(f"  {key:<18} {_config_value(key)}")
    print(f"  keras.json         {config.config_source}")
    usable = config.usable_engines()
    print("engines usable here:")
    for engine in usable:
        print(f"  {engine:<10} {_version(engine)}")
    waiting = [f"{engine} {_version(engine)}" for engine in config.ENGINES
               if engine not in usable and _version(engine)]
    if waiting:
        print(f"installed, but kbackend has no backend for them yet: {', '.join(waiting)}")
    print()
    if config.load_error:
        print(f"error: {config.load_error}", file=sys.stderr)
        return 1
    seed_examples()
    return 0


def seed_examples():
    """The examples of the K.prod / K.cast article, run on the configured backend."""
    x = np.array([[2, 4, 6], [2, 4, 6]])
    print(">>> K.prod(np.array([[2, 4, 6], [2, 4, 6]]), axis=1)")
    print(K.eval(K.prod(x, axis=1)))
    data = K.constant(np.ones((2, 3)), dtype="float32")
    print(">>> K.cast(x, dtype='float16')  # returns a new tensor; x keeps its dtype")
    cast = K.cast(data, dtype="float16")
    print(f"cast: {K.dtype(cast)}, x: {K.dtype(data)}")
    print(">>> K.epsilon(); K.set_epsilon(1e-05); K.epsilon()")
    before = K.epsilon()
    K.set_epsilon(1e-05)
    print(before, K.epsilon())
    K.set_epsilon(before)
    print(">>> K.cast_to_floatx(np.array([1.0, 2.0], dtype='float64'))")
    print(repr(K.cast_to_floatx(np.array([1.0, 2.0], dtype="float64"))))
    print(">>> K.set_image_data_format('channels_middle')")
    try:
        K.set_image_data_format("channels_middle")
    except ValueError as exc:
        print(f"ValueError: {exc}")
    print(">>> K.normalize_data_format(None)")
    print(repr(K.normalize_data_format(None)))


def _location(fn):
    """``file:line`` of ``fn``'s source (relative to the package's parent), or its qualified name."""
    fn = inspect.unwrap(fn)
    path, line = declaration_line(fn)  # the def line, below any decorators (as tracebacks show it)
    if path is None or not os.path.isfile(path):
        return f"{getattr(fn, '__module__', None) or '?'}.{getattr(fn, '__qualname__', fn)} (the engine's own)"
    root = os.path.dirname(os.path.dirname(os.path.abspath(K.__file__)))
    return f"{os.path.relpath(path, root) if path.startswith(root) else path}:{line}"


def where(name, engines):
    """Print where K.<name> is declared and, for each engine, the function that runs it."""
    from kbackend._dispatch import OPS, get_backend

    spec = OPS.get(name)
    if spec is None and name in K.__all__:  # configuration and graph functions: one body for all engines
        print(f"K.{name}  defined at {_location(getattr(K, name))}  (the same on every engine)")
        return 0
    if spec is None or name.startswith("_"):
        public = [n for n in OPS if not n.startswith("_")]
        close = difflib.get_close_matches(name, public, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        print(f"error: where: K.{name} is not an op{hint}", file=sys.stderr)
        return 2
    print(f"K.{name}  declared at {_location(spec.reference)}" + ("  (composite: runs on every engine)"
                                                                  if spec.composite else ""))
    width = max(len(e) for e in engines)
    for engine in engines:
        try:
            impl = getattr(get_backend(engine).load(), name)
        except Exception as exc:  # noqa: BLE001 - an engine that cannot load says why
            print(f"  {engine:<{width}}  cannot load: {exc}")
            continue
        bound = inspect.unwrap(impl, stop=lambda fn: hasattr(fn, "namespace"))
        if impl is spec.reference:
            shared = " (the reference)"
        elif hasattr(bound, "namespace"):
            shared = f" (the reference, on {bound.namespace})"
        else:
            shared = ""
        print(f"  {engine:<{width}}  {_location(impl)}{shared}")
    return 0


def _epochs(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m kbackend",
        description="The Keras 2 backend (K.*) on NumPy, PyTorch, JAX and TensorFlow: show the configuration, "
                    "change keras.json, or train the demo.")
    parser.add_argument("--version", action="version", version=f"kbackend {K.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{info,config,where,demo}")
    commands.add_parser("info", help="print the configuration and the usable engines, run the seed examples (default)")
    config_parser = commands.add_parser("config", help="show or change keras.json",
                                        description="Show or change keras.json (its path: config path).")
    config_commands = config_parser.add_subparsers(dest="action", required=True, metavar="{get,set,path}")
    getter = config_commands.add_parser("get", help="print the value of KEY in force")
    getter.add_argument("key", choices=config.CONFIG_KEYS)
    setter = config_commands.add_parser("set", help="set KEY to VALUE in keras.json (checked, atomic write)")
    setter.add_argument("key", choices=config.CONFIG_KEYS)
    setter.add_argument("value")
    config_commands.add_parser("path", help="print the keras.json path kbackend reads")
    locate = commands.add_parser("where", help="print where K.NAME is declared and implemented on each engine")
    locate.add_argument("name", help="an op name, such as prod or conv2d")
    locate.add_argument("--engines", nargs="+", default=None,
                        help="engines to show (default: every usable engine)")
    demo = commands.add_parser("demo", help="train a small classifier written only in K.*",
                               description="Train an MLP on scikit-learn's 8x8 digits with placeholders, "
                                           "K.gradients and K.function.")
    demo.add_argument("--backend", default="numpy",
                      help=f"engine to train on: {', '.join(config.usable_engines())} (default: numpy)")
    demo.add_argument("--epochs", type=_epochs, default=15, help="number of epochs, at least 1 (default: 15)")
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command in (None, "info"):
        return info()
    if args.command == "config":
        if args.action == "path":
            print(config.config_path)
        elif args.action == "get":
            if config.load_error:
                parser.exit(1, f"error: {config.load_error}\n")
            print(_config_value(args.key))
        else:
            try:
                path = config.write_config(args.key, args.value)
            except ValueError as exc:  # a bad value, or a keras.json that cannot be read (names the file)
                parser.exit(2, f"error: {exc}\n")
            print(f"{path}: {args.key} = {args.value}")
        return 0
    if args.command == "where":
        return where(args.name, args.engines or config.usable_engines())
    usable = config.usable_engines()
    try:
        engine = config.canonical_backend_name(args.backend, "demo --backend")
    except ValueError:
        engine = None
    if engine not in usable:
        parser.exit(2, f"error: demo --backend: unknown or unusable engine {args.backend!r}; "
                       f"expected one of {', '.join(usable)}\n")
    from kbackend.demo import main as demo_main

    demo_main(backend=engine, epochs=args.epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
