"""RapidOCR's PP-OCRv6 recogniser, used on field crops only (no detection, no classifier).

The models ship inside the pinned ``rapidocr`` wheel; nothing is downloaded. The text
detector is skipped because the template already says where each field is: one crop, one line.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from typing import ClassVar

import cv2
import numpy as np

from ocr.engines.base import ReadHints
from ocr.results import CharScore, EngineReading

__all__ = ["RapidOcrEngine"]

log = logging.getLogger(__name__)

_ALTERNATIVES = 4  # likeliest characters kept at each recognised character's place


class RapidOcrEngine:
    """PP-OCRv6 small recogniser through onnxruntime, one thread per worker process."""

    name: ClassVar[str] = "rapidocr"

    @classmethod
    def is_available(cls) -> bool:
        return (importlib.util.find_spec("rapidocr") is not None
                and importlib.util.find_spec("onnxruntime") is not None)

    def __init__(self, threads: int = 1) -> None:
        # Imported here: loading onnxruntime costs ~0.3 s, paid only where the engine is used.
        from rapidocr import RapidOCR

        params = {
            "Global.use_det": False,
            "Global.use_cls": False,
            "Global.log_level": "error",
            "Rec.lang_type": "japan",
            "EngineConfig.onnxruntime.intra_op_num_threads": int(threads),
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        # RapidOCR writes a cache next to the working folder only for downloads; models are local.
        os.environ.setdefault("RAPIDOCR_LOG_LEVEL", "error")
        engine = RapidOCR(params=params)
        self._rec = engine._load_rec_model()  # loaded now: a worker pays once, up front
        self._chars: list[str] = list(self._rec.postprocess_op.character)
        self._index = {c: i for i, c in enumerate(self._chars) if i}
        self._masks: dict[str, np.ndarray] = {}
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)

    def recognize(self, image: np.ndarray, hints: ReadHints) -> EngineReading:
        return self.recognize_batch([image], [hints])[0]

    def recognize_batch(self, images: list[np.ndarray],
                        hints: list[ReadHints]) -> list[EngineReading]:
        """Read crops one by one with the recogniser's scores kept (see :meth:`_decode`).

        Batching was measured slower on field crops (padding to the widest crop), so each
        crop is one inference call.
        """
        out = []
        for img, h in zip(images, hints, strict=True):
            prepared = self._prepare(img, h)
            ph, pw = prepared.shape[:2]
            _, rec_h, rec_w = self._rec.rec_image_shape[:3]
            norm = self._rec.resize_norm_img(prepared, max(rec_w / rec_h, pw / max(ph, 1)))
            probs = self._rec.session(norm[np.newaxis].astype(np.float32))[0]
            out.append(self._decode(probs, h.allowed, h.watch))
        return out

    def _allowed_mask(self, allowed: str | None) -> np.ndarray | None:
        if allowed is None:
            return None
        mask = self._masks.get(allowed)
        if mask is None:
            mask = np.zeros(len(self._chars), dtype=bool)
            mask[0] = True  # the CTC blank
            for ch in allowed:
                i = self._index.get(ch)
                if i is not None:
                    mask[i] = True
            self._masks[allowed] = mask
        return mask

    def _decode(self, probs: np.ndarray, allowed: str | None,
                watch: tuple[str, ...] = ()) -> EngineReading:
        """Greedy CTC decoding, restricted to ``allowed`` characters when given.

        Unrestricted it is RapidOCR's own decoding (same text; the score is the mean over the
        characters, spaces left out, where RapidOCR's counts them). Restricted,
        each frame takes the likeliest *allowed* class: a kana field cannot come back with
        a kanji that looks like a katakana (ロ/口, 二/ニ), nor a digit field with a letter,
        and the score kept is the model's own probability of the chosen character, low
        where the model wanted something else. Each character keeps its likeliest
        alternatives at its place (:data:`ocr.results.CharScore`), and the scores of the
        other members of its ``watch`` group that the recogniser's alphabet holds.
        """
        mask = self._allowed_mask(allowed)
        scores = probs if mask is None else np.where(mask, probs, -1.0)
        idx = scores.argmax(axis=1)
        keep = np.ones(len(idx), dtype=bool)
        keep[1:] = idx[1:] != idx[:-1]
        keep &= idx != 0
        starts = np.flatnonzero(keep)
        chars: list[CharScore] = []
        for t in starts:
            end = t + 1
            while end < len(idx) and idx[end] == idx[t]:
                end += 1
            region = probs[t:end].max(axis=0)
            region[0] = 0.0
            top = np.argpartition(region, -_ALTERNATIVES)[-_ALTERNATIVES:]
            top = top[np.argsort(region[top])[::-1]]
            alts = tuple((self._chars[int(i)], round(float(region[i]), 5)) for i in top)
            ch = self._chars[int(idx[t])]
            group = next((g for g in watch if ch in g), "")
            listed = {a for a, _ in alts}
            alts += tuple((m, round(float(region[self._index[m]]), 6)) for m in group
                          if m != ch and m not in listed and m in self._index)
            chars.append((self._chars[int(idx[t])], round(float(probs[t, idx[t]]), 5), alts))
        text = "".join(c for c, _, _ in chars)
        # The score of the writing, not of the gaps in it: the recogniser gives the space
        # between family and given name 0.5-0.8 when every character has 0.99+ (IPAex
        # Mincho, 12 pt, clean), so a name written with one scored 0.90-0.96 and could never
        # stand on its own. Name and kana values drop that space anyway.
        written = [p for c, p, _ in chars if not c.isspace()]
        conf = float(np.mean(written)) if written else 0.0
        return EngineReading(self.name, text, round(conf, 5), tuple(chars))

    @staticmethod
    def _prepare(image: np.ndarray, hints: ReadHints) -> np.ndarray:
        if hints.vertical:
            image = _vertical_to_horizontal(image)
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        return image


def _vertical_to_horizontal(image: np.ndarray) -> np.ndarray:
    """Re-lay a vertical line of Japanese as a horizontal one, character by character.

    The recogniser reads horizontal lines only; rotating the crop would turn every character
    on its side, so the characters are cut apart along the blank rows between them instead.
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    ink = (gray < 128).sum(axis=1)
    rows = np.flatnonzero(ink > 0)
    if rows.size == 0:
        return gray
    pieces: list[tuple[int, int]] = []
    start = prev = int(rows[0])
    for r in rows[1:]:
        if r - prev > max(2, gray.shape[1] // 12):
            pieces.append((start, prev + 1))
            start = int(r)
        prev = int(r)
    pieces.append((start, prev + 1))
    w = gray.shape[1]
    cells = [gray[a:b] for a, b in pieces]
    height = max(c.shape[0] for c in cells)
    padded = [cv2.copyMakeBorder(c, 0, height - c.shape[0], 0, w // 6, cv2.BORDER_CONSTANT,
                                 value=255) for c in cells]
    return np.hstack(padded)
