"""``python -m kbackend demo``: train a digit classifier written only in K.* calls.

Placeholders, ``K.gradients``, an SGD-with-momentum update list and ``K.function`` — the way Keras 2
code trained — on scikit-learn's 8x8 digits, on NumPy by default or on any installed engine.
"""

import contextlib
import sys
import time

import numpy as np

import kbackend as K


def load_digits_split(seed=0, test_fraction=0.2):
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("the demo needs scikit-learn's digits data set: pip install 'kbackend[demo]'") from None
    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[digits.target]
    order = np.random.default_rng(seed).permutation(len(images))
    cut = int(len(images) * (1 - test_fraction))
    train, test = order[:cut], order[cut:]
    return (images[train], labels[train]), (images[test], labels[test])


def glorot(fan_in, fan_out, rng):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)


def build_model(hidden=128, learning_rate=0.1, momentum=0.9, dropout=0.1, seed=0):
    """Return (train_step, evaluate): K.functions over an MLP 64-hidden-10."""
    rng = np.random.default_rng(seed)
    x = K.placeholder((None, 64), name="images")
    y = K.placeholder((None, 10), name="labels")
    w1, b1 = K.variable(glorot(64, hidden, rng), name="w1"), K.zeros((hidden,), name="b1")
    w2, b2 = K.variable(glorot(hidden, 10, rng), name="w2"), K.zeros((10,), name="b2")
    params = [w1, b1, w2, b2]

    h = K.relu(K.bias_add(K.dot(x, w1), b1))
    if dropout:
        h = K.dropout(h, dropout, seed=seed)  # active only when the learning phase is 1
    probs = K.softmax(K.bias_add(K.dot(h, w2), b2))
    loss = K.mean(K.categorical_crossentropy(y, probs))
    accuracy = K.mean(K.cast(K.equal(K.argmax(probs, axis=-1), K.argmax(y, axis=-1)), "float32"))

    grads = K.gradients(loss, params)
    updates = []
    for p, g in zip(params, grads):
        velocity = K.zeros(K.int_shape(p), name=f"velocity_{p.name}")
        new_velocity = momentum * velocity - learning_rate * g
        updates += [(velocity, new_velocity), (p, p + new_velocity)]

    train_step = K.function([x, y, K.learning_phase()], [loss, accuracy], updates=updates)
    evaluate = K.function([x, y], [loss, accuracy])
    return train_step, evaluate


def progress(epoch, epochs, done, total, loss, accuracy, start, stream):
    """A progress bar redrawn in place (``\\r``) on a terminal; elsewhere (a file, a pipe) only the
    epoch's last state, once, as Keras's Progbar does."""
    interactive = getattr(stream, "isatty", lambda: False)()
    if not interactive and done < total:
        return
    width = 24
    filled = int(width * done / total)
    bar = "=" * filled + ">" * (filled < width) + "." * (width - filled - 1)
    redraw = "\r" if interactive else ""
    stream.write(f"{redraw}epoch {epoch:>2}/{epochs} [{bar}] {done}/{total} - "
                 f"loss {loss:.4f} - acc {accuracy:.4f} - {time.perf_counter() - start:.1f}s")
    stream.flush()


def train(epochs=15, batch_size=64, backend=None, stream=sys.stdout, seed=0):
    """Train on the digits; return the final test accuracy."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"train: argument `epochs` got {epochs!r}; expected an int >= 1")
    (x_train, y_train), (x_test, y_test) = load_digits_split(seed)
    scope = K.backend_scope(backend) if backend else contextlib.nullcontext()
    with scope:
        stream.write(f"kbackend demo on backend {K.backend()!r}: MLP 64-128-10, {len(x_train)} training and "
                     f"{len(x_test)} test digits\n")
        train_step, evaluate = build_model(seed=seed)
        rng = np.random.default_rng(seed)
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(x_train))
            start, seen, total_loss, total_acc = time.perf_counter(), 0, 0.0, 0.0
            for begin in range(0, len(order), batch_size):
                batch = order[begin:begin + batch_size]
                loss, accuracy = train_step([x_train[batch], y_train[batch], 1])
                seen += len(batch)
                total_loss += float(loss) * len(batch)
                total_acc += float(accuracy) * len(batch)
                progress(epoch, epochs, seen, len(order), total_loss / seen, total_acc / seen, start, stream)
            test_loss, test_acc = evaluate([x_test, y_test])
            stream.write(f" - test loss {float(test_loss):.4f} - test acc {float(test_acc):.4f}\n")
        stream.write(f"final test accuracy: {float(test_acc):.4f}\n")
    return float(test_acc)


def main(backend=None, epochs=15):
    accuracy = train(epochs=epochs, backend=backend)
    if accuracy < 0.9:
        raise SystemExit(f"test accuracy {accuracy:.4f} is below 0.9")
