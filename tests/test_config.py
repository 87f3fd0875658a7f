"""Configuration: defaults, setters, keras.json and KERAS_BACKEND, import cost and side effects.

Everything that depends on the environment at import runs in a subprocess with its own KERAS_HOME.
"""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code, home, env=None):
    environment = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "KERAS_HOME")}
    environment.update({"KERAS_HOME": str(home), "PYTHONPATH": ROOT})
    environment.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environment,
                          capture_output=True, text=True, timeout=120)


def test_defaults():
    assert K.floatx() == "float32"
    assert K.epsilon() == 1e-07
    assert K.image_data_format() == "channels_last"
    assert K.normalize_data_format(None) == "channels_last"
    assert K.learning_phase() in (0,) or K.is_tensor(K.learning_phase())


def test_seed_examples():
    assert K.eval(K.prod(np.array([[2, 4, 6], [2, 4, 6]]), axis=1)).tolist() == [48, 48]
    x = K.constant(np.ones((2, 3)), dtype="float32")
    y = K.cast(x, "float16")
    assert K.dtype(y) == "float16" and K.dtype(x) == "float32"
    K.set_epsilon(1e-05)
    assert K.epsilon() == 1e-05
    assert K.cast_to_floatx(np.array([1.0, 2.0], dtype="float64")).dtype == np.float32
    already = np.array([1.0, 2.0], dtype="float32")
    copy = K.cast_to_floatx(already)
    copy[0] = 5.0
    assert copy is not already and already[0] == 1.0
    with pytest.raises(ValueError, match="channels_middle"):
        K.set_image_data_format("channels_middle")
    K.set_image_data_format("channels_first")
    assert K.normalize_data_format(None) == "channels_first"


@pytest.mark.parametrize("value", ["float16", "bfloat16", "float32", "float64"])
def test_set_floatx_valid(value):
    K.set_floatx(value)
    assert K.floatx() == value
    assert K.dtype(K.variable([1.0])) == value if value != "bfloat16" else True


@pytest.mark.parametrize("value", ["", "beerfloat", 123, "int32", None])
def test_set_floatx_invalid(value):
    with pytest.raises(ValueError, match="set_floatx"):
        K.set_floatx(value)


def test_floatx_read_at_call_time():
    K.set_floatx("float64")
    assert K.dtype(K.variable([1.0])) == "float64"
    assert K.dtype(K.zeros((2,))) == "float64"


@pytest.mark.parametrize("setter,value", [(K.set_epsilon, -1.0), (K.set_epsilon, "x"), (K.set_epsilon, 0.0),
                                          (K.set_epsilon, float("inf")), (K.set_epsilon, float("nan")),
                                          (K.set_epsilon, True),
                                          (K.set_image_data_format, "channels_middle"),
                                          (K.set_learning_phase, 2), (K.set_image_dim_ordering, "xx"),
                                          # an array compares elementwise: refused by name, not by NumPy
                                          (K.set_image_data_format, np.array(["channels_last", "x"])),
                                          (K.set_learning_phase, np.array([0, 1])), (K.set_floatx, np.array([1])),
                                          (K.set_image_dim_ordering, np.array(["th", "tf"]))])
def test_setters_reject(setter, value):
    with pytest.raises(ValueError, match=setter.__name__):
        setter(value)


def test_legacy_dim_ordering():
    K.set_image_dim_ordering("th")
    assert K.image_data_format() == "channels_first" and K.image_dim_ordering() == "th"
    K.set_image_dim_ordering("tf")
    assert K.image_data_format() == "channels_last" and K.image_dim_ordering() == "tf"


def test_uids():
    K.reset_uids()
    assert [K.get_uid("a"), K.get_uid("a"), K.get_uid("b")] == [1, 2, 1]
    K.reset_uids()
    assert K.get_uid("a") == 1


def test_learning_phase():
    K.set_learning_phase(1)
    assert K.learning_phase() == 1
    K.set_learning_phase(0)
    assert K.learning_phase() == 0


def test_backend_scope_is_per_thread():
    import threading

    seen = {}

    def worker():
        seen["thread"] = K.backend()

    with K.backend_scope("numpy"):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert K.backend() == "numpy"
    assert seen["thread"] == K.backend()


def test_cntk_is_refused_clearly():
    with pytest.raises(ValueError, match="CNTK is discontinued"):
        with K.backend_scope("cntk"):
            pass


@pytest.mark.skipif(importlib.util.find_spec("pytensor") is None, reason="pytensor is not installed")
@pytest.mark.parametrize("name", ["pytensor", "theano", "kbackend.theano", "kbackend.pytensor"])
def test_theano_is_the_pytensor_engine(name):
    with K.backend_scope(name):
        assert K.backend() == "pytensor"


def test_dask_is_an_unknown_backend():
    with pytest.raises(ValueError, match="Unable to import backend 'dask'"):
        with K.backend_scope("dask"):
            pass


@pytest.mark.parametrize("name,engine", [("kbackend.numpy", "numpy"), ("kbackend.torch", "torch"),
                                         ("kbackend.theano", "pytensor"), ("theano", "pytensor"),
                                         ("my_backend.module", "my_backend.module")])
def test_canonical_backend_names(name, engine):
    assert K.config.canonical_backend_name(name) == engine


@pytest.mark.parametrize("name,message", [("kbackend", "kbackend cannot be its own engine"),
                                          ("kbackend.nope", "kbackend.<engine>"),
                                          ("../x", "nor a Python module name"), ("a-b", "nor a Python module name")])
def test_backend_names_refused(name, message):
    with pytest.raises(ValueError, match=message):
        K.config.canonical_backend_name(name)


def test_unknown_backend_module():
    with pytest.raises(ValueError, match="Unable to import backend"):
        with K.backend_scope("no_such_backend_module_xyz"):
            pass


def test_external_backend_missing_entries(tmp_path, monkeypatch):
    (tmp_path / "halfbackend.py").write_text("def variable(v):\n    return v\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match="placeholder, function"):
        with K.backend_scope("halfbackend"):
            pass


# --- keras.json and the environment (subprocesses) ---------------------------------------------


def test_no_file_written_on_import(tmp_path):
    result = run_python("import kbackend; print(kbackend.backend())", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "numpy"
    assert result.stderr == ""
    assert list(tmp_path.iterdir()) == []


def test_config_file_is_read(tmp_path):
    (tmp_path / "keras.json").write_text(json.dumps(
        {"floatx": "float64", "epsilon": 1e-5, "image_data_format": "channels_first", "backend": "numpy"}))
    result = run_python("import kbackend as K; print(K.floatx(), K.epsilon(), K.image_data_format(), K.backend())",
                        tmp_path)
    assert result.stdout.split() == ["float64", "1e-05", "channels_first", "numpy"], result.stderr


def test_env_backend_beats_file(tmp_path):
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "no_such_engine"}))
    result = run_python("import kbackend as K; print(K.backend())", tmp_path, {"KERAS_BACKEND": "numpy"})
    assert result.stdout.strip() == "numpy", result.stderr


def test_empty_env_backend_is_ignored(tmp_path):
    result = run_python("import kbackend as K; print(K.backend())", tmp_path, {"KERAS_BACKEND": ""})
    assert result.stdout.strip() == "numpy", result.stderr


def test_theano_alias(tmp_path):
    result = run_python("import kbackend as K; print(K.config._backend_name)", tmp_path, {"KERAS_BACKEND": "theano"})
    assert result.stdout.strip() == "theano"
    assert K.config.canonical_backend_name("theano") == "pytensor"


@pytest.mark.parametrize("key,value", [("floatx", "float8"), ("epsilon", "small"),
                                       ("image_data_format", "channels_middle"), ("backend", 3)])
def test_bad_value_in_file(tmp_path, key, value):
    path = tmp_path / "keras.json"
    path.write_text(json.dumps({key: value}))
    result = run_python("import kbackend", tmp_path)
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert "ValueError" in message and str(path) in message and key in message and repr(value) in message


def test_malformed_file_warns_and_is_untouched(tmp_path):
    path = tmp_path / "keras.json"
    path.write_bytes(b'{"floatx": "float64",,')
    result = run_python("import kbackend as K; print(K.floatx())", tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == "float32"
    assert "keras.json" in result.stderr and "not valid JSON" in result.stderr
    assert path.read_bytes() == b'{"floatx": "float64",,'


def test_config_set_writes_atomically_keeping_keys(tmp_path):
    path = tmp_path / "keras.json"
    path.write_text(json.dumps({"floatx": "float32", "custom": {"keep": True}}))
    result = subprocess.run([sys.executable, "-m", "kbackend", "config", "set", "backend", "torch"],
                            env={**os.environ, "KERAS_HOME": str(tmp_path), "PYTHONPATH": ROOT},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(path.read_text()) == {"floatx": "float32", "custom": {"keep": True}, "backend": "torch"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keras.json"]


def test_config_set_rejects_bad_value(tmp_path):
    result = subprocess.run([sys.executable, "-m", "kbackend", "config", "set", "floatx", "float8"],
                            env={**os.environ, "KERAS_HOME": str(tmp_path), "PYTHONPATH": ROOT},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "float8" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_import_pulls_in_no_engine(tmp_path):
    code = """
        import sys, kbackend
        heavy = [m for m in ('torch', 'jax', 'tensorflow', 'pytensor', 'scipy', 'tf_keras', 'keras')
                 if m in sys.modules]
        print(heavy)
    """
    for backend in ("numpy", "jax", "torch"):
        result = run_python(code, tmp_path, {"KERAS_BACKEND": backend})
        assert result.stdout.strip() == "[]", (backend, result.stderr)


def test_selected_engine_loads_alone(tmp_path):
    pytest.importorskip("jax")
    code = """
        import sys, kbackend as K
        K.eval(K.constant([1.0]))
        print(sorted(m for m in ('torch', 'jax', 'tensorflow') if m in sys.modules))
    """
    result = run_python(code, tmp_path, {"KERAS_BACKEND": "jax"})
    assert result.stdout.strip() == "['jax']", result.stderr


def test_missing_engine_names_the_extra(tmp_path):
    code = """
        import sys, kbackend as K
        sys.modules['torch'] = None  # as if torch were not installed
        try:
            K.eval(K.constant([1.0]))
        except ImportError as exc:
            print(exc)
    """
    result = run_python(code, tmp_path, {"KERAS_BACKEND": "torch"})
    assert "pip install 'kbackend[torch]'" in result.stdout, result.stderr


def test_main_prints_configuration(tmp_path):
    result = subprocess.run([sys.executable, "-m", "kbackend"],
                            env={**os.environ, "KERAS_HOME": str(tmp_path), "PYTHONPATH": ROOT, "KERAS_BACKEND": "numpy"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for text in ("backend            numpy", "floatx             float32", "epsilon", "keras.json",
                 "engines usable here", "[48 48]", "channels_middle"):
        assert text in result.stdout


# --- a keras.json that cannot be used: one warning naming it, then defaults; never a hang or a traceback


def _fifo(home):
    os.mkfifo(home / "keras.json")


def _dev_zero(home):
    (home / "keras.json").symlink_to("/dev/zero")


def _huge(home):
    with open(home / "keras.json", "wb") as f:  # sparse: 2 MiB of zero bytes
        f.truncate(2 << 20)


def _utf16(home):
    (home / "keras.json").write_text('{"floatx": "float64"}', encoding="utf-16")


def _latin1(home):
    (home / "keras.json").write_bytes(b'{"floatx": "float64", "owner": "Jos\xe9"}')


def _nested(home):
    (home / "keras.json").write_text("[" * 100_000 + "]" * 100_000)


def _directory(home):
    (home / "keras.json").mkdir()


def _symlink_loop(home):
    (home / "keras.json").symlink_to(home / "keras.json")


def _unreadable(home):
    path = home / "keras.json"
    path.write_text('{"floatx": "float64"}')
    path.chmod(0)


UNUSABLE_FILES = {"fifo": (_fifo, "a FIFO"), "dev-zero": (_dev_zero, "a character device"),
                  "huge": (_huge, "larger than 1 MiB"), "utf-16": (_utf16, "not UTF-8"),
                  "latin-1": (_latin1, "not UTF-8"), "deeply-nested": (_nested, "nested too deeply"),
                  "directory": (_directory, "a directory"), "symlink-loop": (_symlink_loop, "cannot be read"),
                  "unreadable": (_unreadable, "cannot be read")}


@pytest.mark.parametrize("fault", list(UNUSABLE_FILES))
def test_unusable_file_warns_once_and_uses_defaults(tmp_path, fault):
    make, message = UNUSABLE_FILES[fault]
    make(tmp_path)
    code = "import kbackend as K; print(K.floatx(), K.backend())"
    if fault == "unreadable" and os.geteuid() == 0:  # root reads any file: make open() refuse as it would
        code = textwrap.dedent("""
            import errno, os
            _open = os.open
            def refuse(path, *args, **kwargs):
                if str(path).endswith("keras.json"):
                    raise PermissionError(errno.EACCES, "Permission denied", str(path))
                return _open(path, *args, **kwargs)
            os.open = refuse
        """) + code
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["float32", "numpy"]
    assert "Traceback" not in result.stderr
    assert result.stderr.count("Warning: ") == 1, result.stderr
    assert str(tmp_path / "keras.json") in result.stderr and message in result.stderr, result.stderr
    assert "using the default configuration" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_keras_home_that_is_a_file(tmp_path):
    home = tmp_path / "not-a-directory"
    home.write_text("")
    result = run_python("import kbackend as K; print(K.floatx())", home)
    assert result.returncode == 0 and result.stdout.strip() == "float32", result.stderr
    assert result.stderr.count("Warning: ") == 1 and "is not a directory" in result.stderr
    assert str(home) in result.stderr and "Traceback" not in result.stderr


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    (tmp_path / "keras.json").write_bytes(b'\xef\xbb\xbf{"floatx": "float64"}')
    result = run_python("import kbackend as K; print(K.floatx())", tmp_path)
    assert result.stdout.strip() == "float64" and result.stderr == "", result.stderr


@pytest.mark.parametrize("text", ["Infinity", "1e400", "-Infinity", "NaN", "0", "0.0", "-1e-7", "true", '"1e-7"'])
def test_epsilon_must_be_finite_and_positive(tmp_path, text):
    path = tmp_path / "keras.json"
    path.write_text('{"epsilon": %s}' % text)
    result = run_python("import kbackend", tmp_path)
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("ValueError: ") and str(path) in message and "'epsilon'" in message
    assert repr(json.loads(text)) in message and "finite positive" in message


def test_integer_epsilon_is_accepted(tmp_path):
    (tmp_path / "keras.json").write_text('{"epsilon": 1}')
    result = run_python("import kbackend as K; print(K.epsilon())", tmp_path)
    assert result.stdout.strip() == "1.0", result.stderr


@pytest.mark.parametrize("where", ["file", "environment"])
def test_unknown_backend_says_where_the_name_came_from(tmp_path, where):
    env = {}
    if where == "file":
        (tmp_path / "keras.json").write_text('{"backend": "nope"}')
        origin = str(tmp_path / "keras.json")
    else:
        env, origin = {"KERAS_BACKEND": "nope"}, "KERAS_BACKEND"
    code = """
        import kbackend as K
        try:
            K.relu(K.constant([1.0]))
        except ValueError as exc:
            print(exc)
    """
    result = run_python(code, tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert "Unable to import backend 'nope'" in result.stdout and origin in result.stdout


@pytest.mark.parametrize("name", ["../x", "kbackend", "torch/../numpy"])
def test_invalid_backend_variable_is_named(tmp_path, name):
    code = """
        import kbackend as K
        try:
            K.relu(K.constant([1.0]))
        except ValueError as exc:
            print(exc)
    """
    result = run_python(code, tmp_path, {"KERAS_BACKEND": name})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("KERAS_BACKEND: ") and repr(name) in result.stdout


def test_kbackend_engine_names_select_the_engine(tmp_path):
    result = run_python("import kbackend as K; print(K.backend())", tmp_path, {"KERAS_BACKEND": "kbackend.numpy"})
    assert result.stdout.strip() == "numpy", result.stderr


# --- no engine leaves a file behind ---------------------------------------------------------------


@pytest.mark.parametrize("engine", BACKENDS)
def test_engine_leaves_configuration_untouched(tmp_path, engine):
    keras_home, home = tmp_path / "keras-home", tmp_path / "home"
    keras_home.mkdir()
    home.mkdir()
    code = """
        import kbackend as K
        with K.backend_scope(%r):
            print(K.eval(K.sum(K.relu(K.constant([-1.0, 2.0])))))
    """ % engine
    result = run_python(code, keras_home, {"HOME": str(home)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2.0"
    assert list(keras_home.iterdir()) == [] and list(home.iterdir()) == []
    # the same with KERAS_HOME unset: ~/.keras stays absent
    environment = {k: v for k, v in os.environ.items() if k != "KERAS_HOME"}
    environment.update({"HOME": str(home), "PYTHONPATH": ROOT})
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environment, capture_output=True,
                   timeout=120, check=True)
    assert list(home.iterdir()) == []


def test_tensorflow_engine_prints_nothing_and_keeps_keras_importable(tmp_path):
    if "tensorflow" not in BACKENDS:
        pytest.skip("TensorFlow is not installed")
    code = """
        import sys, kbackend as K
        with K.backend_scope("tensorflow"):
            K.eval(K.constant([1.0]))
        import importlib.util, os, tensorflow
        lost = None in tensorflow.__path__ and importlib.util.find_spec("keras") is not None
        print("keras" in sys.modules, os.environ.get("KERAS_HOME") == %r, lost)
    """ % str(tmp_path)
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "False"]
    assert result.stderr == ""


@pytest.mark.parametrize("argument", [dict(padding=np.array(["valid", "same"])), dict(padding=["valid"]),
                                      dict(data_format=np.array(["channels_last", "x"]))])
def test_string_arguments_given_arrays_are_refused_by_name(argument):
    name = next(iter(argument))
    with pytest.raises(ValueError, match=rf"^conv2d: argument `{name}` got "):
        K.conv2d(np.ones((1, 4, 4, 1), "float32"), np.ones((2, 2, 1, 1), "float32"), **argument)
    with pytest.raises(ValueError, match=r"^pool2d: argument `pool_mode` got "):
        K.pool2d(np.ones((1, 4, 4, 1), "float32"), (2, 2), pool_mode=np.array(["max", "avg"]))


@pytest.mark.parametrize("call,error,message", [
    (lambda: K.cast_to_floatx("abc"), ValueError, r"^cast_to_floatx: argument `x` got 'abc'"),
    (lambda: K.get_uid([]), TypeError, r"^get_uid: argument `prefix` got \[\]; expected a string"),
])
def test_config_helpers_name_their_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
