"""A text snapshot of a demo workspace, to compare the demo's outputs before and after a change.

Refactors promise "behaviour unchanged"; this makes the promise checkable. It prints, per
output file, the CSV bytes (as text) and every workbook cell (sheet, coordinate, value), with
run ids, clock times and measured durations masked, because those differ between two runs of
the same code. Usage::

    make demo && .venv/bin/python bench/demo_snapshot.py demo > /tmp/before.txt
    ...change...
    make demo && .venv/bin/python bench/demo_snapshot.py demo > /tmp/after.txt
    diff /tmp/before.txt /tmp/after.txt
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

import openpyxl

_RUN_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{4}")
_STAMP = re.compile(r"\d{8}-\d{6}")
_CLOCK = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")
_HEXDIGEST = re.compile(r"\b[0-9a-f]{16,}\b")
_SECONDS = re.compile(r"\d+\.\d+ ?(s|秒|分)")
_PATH = re.compile(r"/[^\s\"']*/demo/")


def _mask(text: str) -> str:
    text = _PATH.sub("<ws>/", text)
    text = _RUN_ID.sub("<run>", text)
    text = _STAMP.sub("<stamp>", text)
    text = _CLOCK.sub("<time>", text)
    text = _HEXDIGEST.sub("<digest>", text)
    return _SECONDS.sub("<dur>", text)


def _cell(value: object, *, volatile: bool) -> str:
    if isinstance(value, dt.datetime):
        return "<datetime>"
    if isinstance(value, float) and volatile:
        return "<float>"
    return _mask(repr(value))


def snapshot(root: Path, *, skip_timing_sheets: bool = True) -> list[str]:
    lines: list[str] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = _mask(str(path.relative_to(root)))
        if path.suffix == ".csv":
            lines.append(f"== {rel}")
            raw = path.read_bytes()
            for enc in ("utf-8-sig", "cp932"):
                try:
                    text = raw.decode(enc)
                    break
                except UnicodeDecodeError:
                    continue
            lines.extend(_mask(line) for line in text.splitlines())
        elif path.suffix == ".xlsx":
            lines.append(f"== {rel}")
            wb = openpyxl.load_workbook(path, data_only=False)
            for ws in wb.worksheets:
                volatile = ws.title in {"時間", "信頼性"} and skip_timing_sheets
                lines.append(f"-- sheet {ws.title} ({ws.max_row}x{ws.max_column}, "
                             f"{len(getattr(ws, '_images', []))} images)")
                for row in ws.iter_rows():
                    for c in row:
                        if c.value is not None:
                            lines.append(f"{c.coordinate} {_cell(c.value, volatile=volatile)}")
        elif path.suffix in {".txt"} and "reason" in path.name:
            lines.append(f"== {rel}")
            lines.extend(_mask(line) for line in path.read_text("utf-8").splitlines())
        else:
            lines.append(f"== {rel} ({path.suffix or 'no suffix'})")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workspace", type=Path)
    args = ap.parse_args()
    sys.stdout.write("\n".join(snapshot(args.workspace)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
