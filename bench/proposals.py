"""What proposals save on handwritten forms: characters to type and fields to confirm.

Generates handwritten 口座振替依頼書 (koza_furikae) filled by the residents of a sample town,
with the town's resident register (:mod:`robots.samples.town`: households, twins, people
born the same day in one postal area, people who moved, applicants not in the register),
reads them with the real pipeline, applies the register as a run does
(:mod:`robots.kit.residents`, the packaged layout reading the CSV) and counts, per form:

- characters a reviewer types **before** (every handwritten word keyed, as without
  proposals) and **after** (a right proposal: none, one 済; a proposal from the postal code:
  the 番地 and 方書 the area lacks; a list of candidates: none if the right one is listed,
  one pick; a wrong proposal or none: the whole word);
- fields to confirm (proposals), to pick from a list, to key;
- the share of proposals that were right, partial (postal area) or wrong, per source and
  per register case, and how many proposals were left unflagged (must be 0).

A proposal is *right* when it is the same value up to how people write it
(:func:`robots.samples.judge.judge_proposal`): names and kana exactly (after normalisation),
the account holder's kana in Zengin style (キヨウコ for キョウコ: what the bank needs),
addresses up to prefecture/郡 omitted and 番地 spellings, bank and branch names by zengin's.

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/proposals.py --count 60 --levels 0,1,2,3
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr.fields import ReadOptions
from ocr.japanese import normalize_text
from ocr.pipeline import PipelineOptions, Reader
from ocr.results import FieldResult
from ocr.templates import FormTemplate, TemplateLibrary
from robots.config import Config, ReferenceConfig
from robots.kit.residents import load_register, propose_residents
from robots.records import DocumentRecord
from robots.samples import SAMPLE_TODAY, generate
from robots.samples.judge import judge_proposal

FORMS_DIRS = sorted(str(p) for p in Path("scenarios").glob("*/forms"))
FORM = "koza_furikae"
_READER: dict[str, Reader] = {}


def _init() -> None:
    opts = PipelineOptions(read=ReadOptions(today=SAMPLE_TODAY, keep_crops="none"))
    _READER["r"] = Reader(TemplateLibrary.from_dirs(FORMS_DIRS), opts)


def _read(scan: str) -> list[FieldResult]:
    page = _READER["r"].read_file(scan).pages[0]
    return page.fields if page.form == FORM else []


def _text(s: str) -> str:
    return normalize_text(s).replace(" ", "")


def _source(fr: FieldResult) -> str:
    return fr.proposed_from.split(".")[0] if fr.proposed_from else ""


def score(template: FormTemplate, fields: list[FieldResult], truth: dict[str, str], case: str,
          tally: dict[str, Counter[str]]) -> None:
    """Add one form's counts to ``tally`` (see the module docstring)."""
    t = tally["all"]
    t["forms"] += 1
    by_name = {f.name: f for f in fields}
    for spec in template.fields:
        if not spec.manual or not truth.get(spec.name):
            continue
        full = len(_text(truth[spec.name]))
        t["words"] += 1
        t["chars_before"] += full
        fr = by_name.get(spec.name)
        if fr is None or not fr.proposed_from:
            t["keyed"] += 1
            t["chars_after"] += full
            continue
        t["unflagged_proposals"] += not fr.flagged
        src = _source(fr)
        if fr.value:
            verdict, typed = judge_proposal(spec, fr.value, truth)
            t["confirm"] += 1
        else:  # a list to pick from: nothing typed when the right one is listed
            best = min((judge_proposal(spec, c, truth) for c in fr.candidates),
                       key=lambda v: v[1])
            verdict, typed = best if best[0] != "wrong" else ("wrong", full)
            t["pick"] += 1
            verdict = "picked" if verdict == "right" else verdict
        t["chars_after"] += typed
        for key in ("all", f"source:{src}", f"case:{case}"):
            tally[key]["proposals"] += 1
            tally[key][verdict] += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=60, help="forms per level")
    ap.add_argument("--levels", default="0,1,2,3")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()
    library = TemplateLibrary.from_dirs(FORMS_DIRS)
    template = library.get(FORM)
    levels = [int(x) for x in args.levels.split(",")]
    tallies: dict[int, dict[str, Counter[str]]] = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="proposals-") as tmp, \
            mp.get_context("spawn").Pool(args.jobs, initializer=_init) as pool:
        for level in levels:
            out = Path(tmp) / f"l{level}"
            register = out / "residents.csv"
            scans = generate(template, count=args.count, seed=args.seed * 1000 + level * 10,
                             out_dir=out, degrade=level, fmt="pdf", register=register)
            read = pool.map(_read, [str(p) for p in scans], chunksize=1)
            cfg = Config(reference=ReferenceConfig(resident_register=register,
                                                   max_age_days=3650))
            loaded = load_register(cfg, today=SAMPLE_TODAY)
            assert loaded.register is not None, loaded.warnings
            records = [DocumentRecord(f"d{i}", FORM, p.name, "1", fields)
                       for i, (p, fields) in enumerate(zip(scans, read, strict=True))]
            propose_residents(records, {FORM: template}, loaded.register)
            tally: dict[str, Counter[str]] = defaultdict(Counter)
            for p, rec in zip(scans, records, strict=True):
                truth = json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))
                score(template, rec.fields, truth["fields"], truth.get("case", ""), tally)
            tallies[level] = tally
    _print(tallies, args, time.perf_counter() - t0, template)


def _pct(a: int, b: int) -> str:
    return f"{a / b:.1%}" if b else "–"


def _print(tallies: dict[int, dict[str, Counter[str]]], args: argparse.Namespace,
           seconds: float, template: FormTemplate) -> None:
    words = sum(f.manual for f in template.fields)
    print(f"{FORM}: {args.count} forms per level, seed {args.seed}, {words} handwritten words "
          f"per form; register of the sample town ({seconds:.0f} s)")
    head = ("| level | forms | key/form before | chars/form before | chars after | saved "
            "| confirm/form | pick/form | key/form | proposals right | partial | wrong "
            "| unflagged |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    total: dict[str, Counter[str]] = defaultdict(Counter)
    for level, tally in tallies.items():
        for k, c in tally.items():
            total[k].update(c)
        _row(str(level), tally)
    _row("all", total)
    print("\nproposals by source and by register case (right = same value; picked = the right "
          "one among the listed candidates):")
    print("| group | proposals | right | picked | partial | wrong |")
    print("|---|---|---|---|---|---|")
    for key in sorted(k for k in total if k != "all"):
        c = total[key]
        n = c["proposals"]
        print(f"| {key} | {n} | {_pct(c['right'], n)} | {_pct(c['picked'], n)} | "
              f"{_pct(c['partial'], n)} | {_pct(c['wrong'], n)} |")
    if args.json:
        args.json.write_text(json.dumps({str(k): {g: dict(c) for g, c in v.items()}
                                         for k, v in tallies.items()}, indent=1),
                             encoding="utf-8")


def _row(label: str, tally: dict[str, Counter[str]]) -> None:
    t = tally["all"]
    n = t["forms"] or 1
    p = t["proposals"]
    print(f"| {label} | {t['forms']} | {t['words'] / n:.2f} | {t['chars_before'] / n:.1f} | "
          f"{t['chars_after'] / n:.1f} | "
          f"{1 - t['chars_after'] / max(t['chars_before'], 1):.1%} | {t['confirm'] / n:.2f} | "
          f"{t['pick'] / n:.2f} | {t['keyed'] / n:.2f} | {_pct(t['right'] + t['picked'], p)} | "
          f"{_pct(t['partial'], p)} | {_pct(t['wrong'], p)} | {t['unflagged_proposals']} |")


if __name__ == "__main__":
    main()
