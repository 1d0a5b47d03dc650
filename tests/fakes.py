"""Test doubles and workspace helpers shared by the runner tests.

The replay engine
-----------------
:class:`ReplayEngine` (engine name ``replay``) is a recogniser that reads nothing: it looks the
crop it is given up on a *tape*, a JSON mapping ``crop key → text`` named by the environment
variable :data:`TAPE_ENV`. The key is a SHA-256 of the crop's pixels and shape, so a reading
is replayed only for exactly the crop the pipeline cut when the tape was recorded.

:func:`record_tape` records a tape for generated scans: it runs the real pipeline (file
loading, identification, registration, crop cleaning) with the replay engine over each scan,
collects the keys of the crops in the order the reader asked for them, and pairs them with the
fields the generator printed (its truth JSON, ``printed``). Replaying that tape gives the
runtime a *perfect* recogniser — the printed text at confidence 0.99 — so a runner test can
assert exact values and a clean exit code in a fraction of a second per page, while
``test_intake_run.py`` runs real Tesseract and RapidOCR end to end.

It is honest in one direction only: a crop that is not on the tape (because the pipeline cut
it differently, or it belongs to an unknown scan) reads as ``""`` with confidence 0, which the
reader flags for review. The fake can make the runner look worse, never better.

Fault injection
---------------
A tape entry may hold a fault instead of a text: :data:`RAISE` makes ``recognize`` raise (a
bug inside ``Scenario.process``), :data:`CRASH` ends the worker process with ``os._exit`` (a
native crash inside an OCR library), :data:`HANG` sleeps for an hour (an engine that never
returns). :data:`CRASH` and :data:`HANG` refuse to kill a process that is not a
multiprocessing child, so a mistake cannot take the test run down. :data:`RAISE_VALUE` raises
an exception whose message quotes the crop's printed text, the way ``int("1234567x")`` does:
the runtime must not copy such a message into logs, notes or the run log.

Registration
------------
The fake is installed the way a third-party engine is, through the ``misato_rpa.engines``
entry-point group: :func:`install_fake_engine` writes a one-line ``.dist-info`` into a
temporary folder and puts the folder on ``sys.path``. Worker processes of the spawn pool
receive the parent's ``sys.path`` and environment, so they find the same entry point and tape
without any monkeypatching in the child.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from ocr.engines import ReadHints, engine_classes
from ocr.pipeline import PipelineOptions, Reader
from ocr.reasons import reason
from ocr.results import EngineReading, FieldResult
from ocr.sources import iter_pages
from ocr.templates import FormTemplate, TemplateLibrary
from robots.registry import packaged_forms_dirs

__all__ = [
    "CRASH",
    "RAISE",
    "RAISE_VALUE",
    "TAPE_ENV",
    "FrozenClock",
    "ReplayEngine",
    "count_files",
    "crop_key",
    "forms_library",
    "hand_page",
    "install_fake_engine",
    "page_truths",
    "record_tape",
    "run_cli",
    "uninstall_fake_engine",
    "write_config",
]

TAPE_ENV = "MISATO_RPA_TEST_TAPE"
RAISE = "\x00raise"
RAISE_VALUE = "\x00raise-value:"
CRASH = "\x00crash"
HANG = "\x00hang"
REPLAY_CONFIDENCE = 0.99


def crop_key(image: np.ndarray) -> str:
    """Identity of a crop: its shape, type and every pixel."""
    h = hashlib.sha256(f"{image.shape}{image.dtype}".encode())
    h.update(np.ascontiguousarray(image).tobytes())
    return h.hexdigest()[:32]


_TAPES: dict[tuple[str, int], dict[str, str]] = {}


def _tape() -> dict[str, str]:
    path = os.environ.get(TAPE_ENV)
    if not path:
        return {}
    key = (path, Path(path).stat().st_mtime_ns)
    if key not in _TAPES:
        _TAPES[key] = json.loads(Path(path).read_text(encoding="utf-8"))
    return _TAPES[key]


class ReplayEngine:
    """Replays the tape; see the module docstring."""

    name: ClassVar[str] = "replay"
    seen: ClassVar[list[str]] = []  # crop keys asked for in this process, in order

    def __init__(self, **_options: object) -> None:
        pass

    @classmethod
    def is_available(cls) -> bool:
        return True

    def recognize(self, image: np.ndarray, hints: ReadHints) -> EngineReading:
        key = crop_key(image)
        type(self).seen.append(key)
        text = _tape().get(key)
        if text is None:
            return EngineReading(self.name, "", 0.0)
        if text == RAISE:
            raise RuntimeError("injected fault: the engine failed on this crop")
        if text.startswith(RAISE_VALUE):
            raise ValueError(f"invalid literal for int() with base 10: "
                             f"{text.removeprefix(RAISE_VALUE)!r}")
        if text == CRASH:
            if multiprocessing.parent_process() is None:
                raise RuntimeError("refusing to os._exit the test process itself")
            os._exit(70)
        if text == HANG:  # an engine caught in an endless loop
            if multiprocessing.parent_process() is None:
                raise RuntimeError("refusing to hang the test process itself")
            time.sleep(3600)
        # per-character scores as RapidOCR gives them: each printed character read with
        # certainty and no other candidate, so nothing hints at a variant kanji
        chars = tuple((ch, 1.0, ()) for ch in text)
        return EngineReading(self.name, text, REPLAY_CONFIDENCE, chars)


def install_fake_engine(monkeypatch: pytest.MonkeyPatch, folder: Path, tape: Path) -> None:
    """Register ``replay`` through the entry-point group and point it at ``tape``."""
    dist = folder / "misato_rpa_test_fakes-0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: misato-rpa-test-fakes\nVersion: 0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        f"[misato_rpa.engines]\nreplay = {__name__}:ReplayEngine\n", encoding="utf-8")
    # the module must be importable by that name in spawned workers: they get sys.path
    here = str(Path(__file__).resolve().parent)
    monkeypatch.syspath_prepend(str(folder))
    if here not in sys.path:  # pragma: no cover - pytest's prepend mode puts it there
        monkeypatch.syspath_prepend(here)
    monkeypatch.setenv(TAPE_ENV, str(tape))
    if not tape.exists():
        tape.write_text("{}", encoding="utf-8")
    engine_classes.cache_clear()
    monkeypatch.setattr(ReplayEngine, "seen", [])
    assert engine_classes()["replay"] is ReplayEngine


def uninstall_fake_engine() -> None:
    """Forget the entry point again (call after monkeypatch has undone sys.path)."""
    engine_classes.cache_clear()


def forms_library() -> TemplateLibrary:
    return TemplateLibrary.from_dirs(packaged_forms_dirs())


def hand_page(template: FormTemplate, values: Mapping[str, str],
              flagged: Iterable[str] = ()) -> list[FieldResult]:
    """A handwritten page as the reader leaves it, without a scan: every handwritten word
    ``manual_keying`` and empty, every other field read as ``values`` says (the ``flagged``
    ones unsure), so proposals can be tested against reference data alone."""
    doubt = frozenset(flagged)
    out = []
    for f in template.fields:
        if f.manual:
            out.append(FieldResult(f.name, f.label, f.type.value, "", "", 0.0,
                                   [reason("manual_keying")]))
        else:
            v = values.get(f.name, "")
            out.append(FieldResult(f.name, f.label, f.type.value, v, v, 0.99,
                                   [reason("digit_unclear", "0.40")] if f.name in doubt
                                   else []))
    return out


def page_truths(scan: Path) -> list[dict]:
    """The generator's truth for each page of ``scan`` (``form``, ``fields``, ``printed``)."""
    payload = json.loads(scan.with_suffix(".json").read_text(encoding="utf-8"))
    return payload.get("pages", [payload])


def record_tape(scans: Iterable[Path], tape: Path, *,
                faults: Mapping[str, str] | None = None) -> dict[str, str]:
    """Record what was printed in each field crop of ``scans`` (see the module docstring).

    ``faults`` maps a scan's file name to :data:`RAISE` or :data:`CRASH`: that scan's crops
    replay the fault instead of text (only crops no other scan shares). Needs the fake
    engine installed. Returns the tape, also written to ``tape``.
    """
    faults = dict(faults or {})
    library = forms_library()
    reader = Reader(library, PipelineOptions(engines=("replay",)))
    entries: dict[str, str] = {}
    fault_keys: dict[str, list[str]] = {}
    printed: dict[str, str] = {}
    for scan in scans:
        truths = page_truths(scan)
        keys_of_scan: list[str] = []
        for page, truth in zip(iter_pages(scan), truths, strict=True):
            ReplayEngine.seen.clear()
            result = reader.read_page(page)
            if result.form != truth["form"]:
                raise AssertionError(f"{scan.name} p{page.index}: read as {result.form}, "
                                     f"printed as {truth['form']}: {result.error}")
            template = library.get(truth["form"])
            inked = [f for f in template.fields
                     if not f.is_mark and truth["printed"].get(f.name, "")]
            if len(inked) != len(ReplayEngine.seen):
                raise AssertionError(
                    f"{scan.name} p{page.index}: reader asked for {len(ReplayEngine.seen)} "
                    f"crops, the generator printed {len(inked)} text fields")
            for f, key in zip(inked, ReplayEngine.seen, strict=True):
                keys_of_scan.append(key)
                printed[key] = truth["printed"][f.name]
                if scan.name not in faults:
                    entries[key] = truth["printed"][f.name]
        if scan.name in faults:
            fault_keys[scan.name] = keys_of_scan
    for name, keys in fault_keys.items():
        own = [k for k in keys if k not in entries]
        if not own:
            raise AssertionError(f"{name}: no crop of its own to put the fault on")
        if faults[name] == RAISE_VALUE:
            entries.update({k: RAISE_VALUE + printed[k] for k in own})
        else:
            entries.update(dict.fromkeys(own, faults[name]))
    tape.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    ReplayEngine.seen.clear()
    return entries


def write_config(root: Path, *, settle_seconds: float = 0.0, engines: tuple[str, ...] | None = None,
                 extra: str = "", run: str = "", inbox: str = "") -> Path:
    """A config.toml whose every folder is inside ``root``; returns its path.

    ``run`` and ``inbox`` add lines to those tables (``extra`` goes at the end of the file).
    """
    root.mkdir(parents=True, exist_ok=True)
    lines = [
        "[paths]",
        'inbox = "inbox"',
        'processing = "processing"',
        'done = "done"',
        'failed = "failed"',
        'out = "out"',
        'runlog = "var/runlog.sqlite"',
        "[inbox]",
        f"settle_seconds = {settle_seconds}",
        *([inbox] if inbox else []),
        "[run]",
        "jobs = 1",
        *([run] if run else []),
    ]
    if engines is not None:
        lines += ["[ocr]", "engines = [" + ", ".join(f'"{e}"' for e in engines) + "]"]
    path = root / "config.toml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def backdate(*paths: Path, seconds: float = 7200.0) -> None:
    """Make files look dropped ``seconds`` ago: a file that looks cut short is taken only then.

    A scan whose structure says it was cut short (no %%EOF, an incomplete zip) waits in the
    inbox for the rest of its copy, up to ``[inbox] incomplete_max_age_seconds`` (an hour).
    """
    import time as _time

    then = _time.time() - seconds
    for p in paths:
        os.utime(p, (then, then))


def count_files(root: Path, scenario: str = "intake") -> dict[str, list[str]]:
    """Input files (not reason notes) in inbox/, processing/, done/ and failed/."""
    out: dict[str, list[str]] = {}
    for stage in ("inbox", "processing", "done", "failed"):
        base = root / stage / scenario
        out[stage] = sorted(p.name for p in base.rglob("*")
                            if p.is_file() and not p.name.endswith(".reason.txt")
                            ) if base.is_dir() else []
    return out


def run_cli(argv: list[str]) -> int:
    """``rpa`` in-process; the root logger is given back as it was (the CLI reconfigures it)."""
    from robots.cli import main

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        return main(argv)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


class FrozenClock:
    """``datetime`` for a module under test whose ``now()`` is fixed (a frozen clock)."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        clock = self

        class _Frozen(datetime):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
                return clock.at if tz is None else clock.at.replace(tzinfo=tz)

        self.datetime = _Frozen


def text_layer_form(path: Path, template: FormTemplate, values: dict[str, str]) -> None:
    """A born-digital PDF of ``template``: its title and each value inside its box."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm as MM
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from ocr.render import find_font

    font = "IPAexGothic"
    pdfmetrics.registerFont(TTFont(font, str(find_font())))
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont(font, 16)
    c.drawString(14 * MM, A4[1] - 15 * MM, template.title)
    c.setFont(font, 10)
    for f in template.fields:
        if f.name in values:
            x, y, _w, h = f.box
            c.drawString((x + 1) * MM, A4[1] - (y + h * 0.7) * MM, values[f.name])
    c.showPage()
    c.save()


def template_error(tmp_path: Path, fields_toml: str) -> str:
    """The message a template of ``fields_toml`` under a minimal ``[form]`` fails with."""
    from ocr.errors import TemplateError
    from ocr.templates import load_template

    bad = tmp_path / "bad.toml"
    bad.write_text('[form]\nid = "bad"\ntitle = "x"\n' + fields_toml, encoding="utf-8")
    with pytest.raises(TemplateError) as err:
        load_template(bad)
    return str(err.value)
