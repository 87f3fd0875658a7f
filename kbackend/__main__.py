"""Command line: ``python -m kbackend`` [``info`` | ``config set KEY VALUE`` | ``demo [--backend NAME]``].

``info`` (the default) prints the configuration in force, the engines installed, then runs the examples
of the Keras backend article this project started from.  ``config set`` is the only way kbackend writes
keras.json.
"""

import argparse
import importlib.metadata
import sys

import numpy as np

_ENGINE_DISTRIBUTIONS = {
    "torch": ("torch",),
    "jax": ("jax",),
    "tensorflow": ("tensorflow-cpu", "tensorflow"),
    "pytensor": ("pytensor",),
}


def _engine_versions():
    versions = {"numpy": np.__version__}
    for engine, distributions in _ENGINE_DISTRIBUTIONS.items():
        for distribution in distributions:
            try:
                versions[engine] = importlib.metadata.version(distribution)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return versions


def info():
    import kbackend as K
    from kbackend import config

    print("kbackend", K.__version__)
    print(f"  backend            {K.backend()}")
    print(f"  floatx             {K.floatx()}")
    print(f"  epsilon            {K.epsilon()}")
    print(f"  image_data_format  {K.image_data_format()}")
    print(f"  keras.json         {config.config_source}")
    print("engines installed:")
    for engine, version in _engine_versions().items():
        print(f"  {engine:<10} {version}")
    print()
    seed_examples()


def seed_examples():
    """The examples of the K.prod / K.cast article, run on the configured backend."""
    import kbackend as K

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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kbackend", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("info", help="print the configuration and run the seed examples (default)")
    config_parser = commands.add_parser("config", help="show or change keras.json")
    config_commands = config_parser.add_subparsers(dest="action", required=True)
    setter = config_commands.add_parser("set", help="set one key of keras.json (atomic write)")
    setter.add_argument("key", choices=["backend", "floatx", "epsilon", "image_data_format"])
    setter.add_argument("value")
    config_commands.add_parser("path", help="print the keras.json path kbackend reads")
    demo = commands.add_parser("demo", help="train a small classifier written only in K.*")
    demo.add_argument("--backend", default="numpy", help="engine to train on (default: numpy)")
    demo.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)

    if args.command in (None, "info"):
        info()
    elif args.command == "config":
        from kbackend import config

        if args.action == "path":
            print(config.config_path)
        else:
            try:
                path = config.write_config(args.key, args.value)
            except ValueError as exc:
                parser.exit(2, f"error: {exc}\n")
            print(f"{path}: {args.key} = {args.value}")
    elif args.command == "demo":
        from kbackend.demo import main as demo_main

        demo_main(backend=args.backend, epochs=args.epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
