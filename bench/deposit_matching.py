"""Deposit-inquiry matching on large generated sets: precision, recall, time, growth.

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/deposit_matching.py [--base 10000] [--seed 7]
        [--scales 1,2,4] [--no-e2e]

For each scale, a world of ``base × scale`` inquiries is drawn with realistic noise (the
generator's default rates, look-alikes left in: ``strict=False``) and written as the files
the town receives; the timed part reads them with the scenario's own code (layout detection,
normalisation, zengin checks), then reconciles. Definitions:

- a *truth link* is (reply, the inquiry it answers), for every reply that is neither a
  duplicate nor about a person the town never asked about;
- a *certain link* is a reply reported 照合済; a *review link* a reply reported 要確認 with a
  proposed inquiry;
- precision = correct links / links reported; recall = correct truth links found / truth
  links. Both are given for certain links alone and for all links (certain + review): a
  review link is a proposal a clerk confirms, so it counts as found, never as certain;
- "fuzzy reported certain" counts 照合済 replies linked without a fitting inquiry number, or
  whose truth required review: it must be 0; "wrong certain" counts 照合済 replies linked to
  another inquiry than the truth's: it must be 0 too;
- the *spelling cases* are the true links of replies written bank-style (ｳﾞｲ for ヴィ) or in
  Latin letters; each is counted found (certain or proposed, to the right inquiry) by the
  current matcher and by the one before it (the previous kana key, no Latin readings: the
  scenario's ``name_key`` and ``latin_readings`` swapped for the old ones during a second
  reconciliation), so the table shows how many moved from unproposed to found.

With ``--e2e`` the 1× set also goes through ``rpa run`` (runner, run log, state database,
workbook and reminder list) to time what a clerk waits for.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path
from unittest import mock

from ocr.japanese import kana_match_key, normalize_kana
from robots.config import load_config
from robots.kit.reconcile import _fold_long_vowels  # the previous key, for the comparison
from robots.kit.state import StoredDoc
from robots.kit.tables import load_layouts, read_table
from robots.run.runner import run_scenario
from scenarios.deposit_inquiry import matching
from scenarios.deposit_inquiry.datafiles import reply_rows
from scenarios.deposit_inquiry.matching import ReplyStatus, reconcile, replies_from_doc
from scenarios.deposit_inquiry.records import parse_inquiry
from scenarios.deposit_inquiry.samples import SAMPLE_TODAY, build_world
from scenarios.deposit_inquiry.samples_write import write_world
from scenarios.deposit_inquiry.schemas import PACKAGED_MAPPINGS, SCHEMAS


def _read(root: Path, today: date) -> tuple[list, list]:
    layouts = load_layouts((PACKAGED_MAPPINGS,), SCHEMAS)
    t = read_table(root / "data" / "deposit_inquiry" / "ledger.csv", layouts, ("ledger",))
    inquiries = [parse_inquiry(t.layout, row, raw) for row, raw in t.rows]
    docs, arrival = [], 0
    for f in sorted((root / "inbox" / "deposit_inquiry").glob("*.csv")):
        table = read_table(f, layouts, ("reply",))
        key = hashlib.sha256(f.read_bytes()).hexdigest()[:16]
        for row, _raw, values, problems in reply_rows(table.layout, table.rows, today):
            arrival += 1
            docs.append(StoredDoc(f"{key}:r{row}", "data", table.layout.id, f.name, f"{row}行目",
                                  "", "bench", today.isoformat(), values, problems, arrival))
    return inquiries, [r for d in docs for r in replies_from_doc(d, {})]


def _previous_key(kana: str) -> str:
    """name_key as it was before bank-style spellings were folded."""
    return kana_match_key(_fold_long_vowels(normalize_kana(kana)))


def _found(rec: object, links: dict, spelled: set) -> int:
    return sum(1 for f in rec.replies  # type: ignore[attr-defined]
               if (f.reply.file_name, f.reply.locator) in spelled and f.inquiry is not None
               and f.status in (ReplyStatus.MATCHED, ReplyStatus.REVIEW)
               and f.inquiry.number == links[(f.reply.file_name, f.reply.locator)])


def measure(n: int, seed: int, e2e: bool) -> dict[str, float]:
    t0 = time.perf_counter()
    world = build_world(n, seed, strict=False)
    work = Path(tempfile.mkdtemp(prefix="di-bench-"))
    try:
        write_world(world, work)
        gen = time.perf_counter() - t0
        t1 = time.perf_counter()
        inquiries, replies = _read(work, SAMPLE_TODAY)
        t2 = time.perf_counter()
        rec = reconcile(inquiries, replies, today=SAMPLE_TODAY)
        t3 = time.perf_counter()
        truth = {(r.file, r.locator): r for r in world.replies}
        links = {k: r.inquiry.number for k, r in truth.items()
                 if r.inquiry is not None and "duplicate" not in r.noise}
        certain = correct_certain = review = correct_review = fuzzy_certain = 0
        ok_replies = wrong_certain = 0
        for f in rec.replies:
            key = (f.reply.file_name, f.reply.locator)
            t = truth[key]
            ok_replies += f.status.value == t.expected
            linked = f.inquiry.number if f.inquiry else None
            if f.status is ReplyStatus.MATCHED:
                certain += 1
                correct_certain += linked == links.get(key)
                wrong_certain += linked != links.get(key)
                fuzzy_certain += f.method != "照会番号" or t.expected != "照合済"
            elif f.status is ReplyStatus.REVIEW and linked:
                review += 1
                correct_review += linked == links.get(key)
        spelled = {k for k, r in truth.items() if k in links
                   and {"bank_style", "latin"} & set(r.noise)}
        with mock.patch.object(matching, "name_key", _previous_key), \
                mock.patch.object(matching, "latin_readings", lambda _name: ()):
            before = reconcile(inquiries, replies, today=SAMPLE_TODAY)
        want = {q.number: q.expected for q in world.inquiries}
        ok_inquiries = sum(g.status.value == want[g.inquiry.number] for g in rec.inquiries)
        out = {
            "inquiries": n, "replies": len(replies), "truth_links": len(links),
            "generate_s": gen, "read_s": t2 - t1, "match_s": t3 - t2,
            "certain": certain, "review": review,
            "p_certain": correct_certain / max(1, certain),
            "r_certain": correct_certain / max(1, len(links)),
            "p_all": (correct_certain + correct_review) / max(1, certain + review),
            "r_all": (correct_certain + correct_review) / max(1, len(links)),
            "fuzzy_certain": fuzzy_certain, "wrong_certain": wrong_certain,
            "spelled": len(spelled), "spelled_before": _found(before, links, spelled),
            "spelled_after": _found(rec, links, spelled),
            "inquiry_status_ok": ok_inquiries / len(world.inquiries),
            "reply_status_ok": ok_replies / len(replies),
            "statuses": dict(Counter(g.status.value for g in rec.inquiries)),
        }
        if e2e:
            (work / "config.toml").write_text(
                '[inbox]\nsettle_seconds = 0.0\n[run]\njobs = 1\n'
                '[scenarios.deposit_inquiry]\nledger = "data/deposit_inquiry/ledger.csv"\n',
                encoding="utf-8")
            t4 = time.perf_counter()
            s = run_scenario("deposit_inquiry", load_config(work / "config.toml"),
                             today=SAMPLE_TODAY)
            out["e2e_s"] = time.perf_counter() - t4
            out["e2e_files"] = sum(s.counts.values())
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--base", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scales", default="1,2,4")
    ap.add_argument("--no-e2e", action="store_true")
    args = ap.parse_args()
    rows = []
    for k in (int(x) for x in args.scales.split(",")):
        r = measure(args.base * k, args.seed, e2e=(k == 1 and not args.no_e2e))
        rows.append((k, r))
        print(f"scale {k}: {r}", flush=True)
    print()
    print("| scale | inquiries | replies | read s | match s | match µs/reply | certain P | "
          "certain R | all P | all R | fuzzy→certain | wrong certain | spelling cases found "
          "before → now | inquiry status ok | reply status ok |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for k, r in rows:
        print(f"| {k}× | {r['inquiries']:,} | {r['replies']:,} | {r['read_s']:.2f} | "
              f"{r['match_s']:.2f} | {r['match_s'] / r['replies'] * 1e6:.0f} | "
              f"{r['p_certain']:.2%} | {r['r_certain']:.2%} | {r['p_all']:.2%} | "
              f"{r['r_all']:.2%} | {r['fuzzy_certain']} | {r['wrong_certain']} | "
              f"{r['spelled_before']} → {r['spelled_after']} of {r['spelled']} | "
              f"{r['inquiry_status_ok']:.2%} | "
              f"{r['reply_status_ok']:.2%} |")
    if "e2e_s" in rows[0][1]:
        print(f"\nrpa run deposit_inquiry on the 1× set ({rows[0][1]['e2e_files']} files, "
              f"store + run log + workbook + reminder): {rows[0][1]['e2e_s']:.1f} s")


if __name__ == "__main__":
    main()
