"""Contract checks on large generated registers: precision, recall per rule, time, growth.

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/contract_checks.py [--base 50000] [--seed 7]
        [--scales 1,2,4] [--no-e2e]

For each scale a world is drawn (fictitious vendors,
their previous list, applications, suspensions) with a register of ``base × scale``
contracts holding seeded violations of every rule at the generator's rate (0.6 % of the
contracts per rule, plus the boundary cases of the limit revision), and written as the
files the town receives. The timed part reads them with the scenario's own code — the
register CSV (CP932, layout detection, normalisation), the previous list and the
applications into a state database, the qualified list derived from it — then checks every
contract. A finding is a true positive when its (rule, contract number[, split group]) is
in the generator's truth; precision = TP / findings, recall = TP / truth, per rule and
overall. With ``--e2e`` the 1× set also goes through ``rpa run contracts`` (runner, run
log, state database, the three workbooks and the import CSV) to time what a clerk waits for.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from robots.config import Config, load_config
from robots.kit.tables import read_table
from robots.run.runner import run_scenario
from scenarios.contracts.applications import check_application
from scenarios.contracts.checks import check_register
from scenarios.contracts.datafiles import read_data_file
from scenarios.contracts.intake import build_list, load_applications, store_run, take_previous_list
from scenarios.contracts.register import parse_contracts, parse_suspensions
from scenarios.contracts.rules import RULES
from scenarios.contracts.samples import SAMPLE_TODAY, build_vendors
from scenarios.contracts.samples_seed import build_register
from scenarios.contracts.samples_write import write_world
from scenarios.contracts.settings import ContractsSettings, layouts_for
from scenarios.contracts.store import ContractStore


def _key(rule: str, number: str, related: tuple[str, ...]) -> tuple[str, str, tuple[str, ...]]:
    return rule, number, related if rule in ("split_order", "split_candidate") else ()


def _check(work: Path) -> tuple[list, dict[str, float], int]:
    """Read everything with the scenario's code and check; returns findings and timings."""
    t0 = time.perf_counter()
    cfg = Config(source=work / "config.toml")
    settings = ContractsSettings(previous_list=Path("data/contracts/previous_list.csv"))
    layouts = layouts_for(cfg, settings)
    (reg,) = (work / "data" / "contracts" / "register").glob("*.csv")
    contracts = parse_contracts(read_table(reg, layouts, ("register",)), reg.name, settings)
    t1 = time.perf_counter()
    store = ContractStore(work / "var" / "contracts.sqlite")
    ctx = SimpleNamespace(run_id="bench", today=SAMPLE_TODAY, settings=settings, config=cfg)
    results = []
    for n, f in enumerate(sorted((work / "inbox" / "contracts").glob("*.csv")), start=1):
        item = SimpleNamespace(seq=n, path=f, name=f.name, sha256=f"{n:016d}")
        r = read_data_file(item, ctx, layouts)  # type: ignore[arg-type]
        r.item = item
        results.append(r)
    with store.atomic():
        take_previous_list(store, cfg, settings, layouts)
        store_run(store, results, ctx, layouts, settings.forms)  # type: ignore[arg-type]
        apps = load_applications(store, settings, SAMPLE_TODAY)
        qlist = build_list(store, apps)
    sus, _bad = parse_suspensions(read_table(work / "inbox" / "contracts" / "suspensions.csv",
                                             layouts, ("suspensions",)), "suspensions.csv")
    t2 = time.perf_counter()
    findings = check_register(contracts, qlist, sus, settings)
    t3 = time.perf_counter()
    store.close()
    assert check_application  # the applications were checked by read_data_file
    return findings, {"read": t1 - t0, "list": t2 - t1, "check": t3 - t2}, len(contracts)


def measure(n: int, seed: int, e2e: bool) -> dict:
    t0 = time.perf_counter()
    world = build_vendors(max(30, n // 4), seed)
    reg = build_register(world, n, seed)
    work = Path(tempfile.mkdtemp(prefix="ct-bench-"))
    try:
        write_world(world, reg, work)
        for scan in (work / "inbox" / "contracts").glob("*.tif"):
            scan.unlink()  # the benchmark is about the checks, not OCR
        (work / "config.toml").write_text(
            '[inbox]\nsettle_seconds = 0\n[run]\njobs = 1\n[scenarios.contracts]\n'
            'contract_register = "data/contracts/register"\n'
            'previous_list = "data/contracts/previous_list.csv"\nas_of = 2026-10-01\n',
            encoding="utf-8")
        gen = time.perf_counter() - t0
        findings, times, count = _check(work)
        truth = {_key(s.rule, s.number, s.group[1:]) for s in reg.truth}
        found = {_key(f.rule, f.contract.number, f.related) for f in findings}
        per_rule = {}
        for rule in RULES:
            t = {k for k in truth if k[0] == rule}
            f = {k for k in found if k[0] == rule}
            per_rule[rule] = (len(t & f), len(f), len(t))
        out = {"n": count, "gen": gen, **times, "per_rule": per_rule,
               "tp": len(truth & found), "found": len(found), "truth": len(truth),
               "findings": len(findings)}
        if e2e:
            shutil.rmtree(work / "var", ignore_errors=True)
            t4 = time.perf_counter()
            s = run_scenario("contracts", load_config(work / "config.toml"), jobs=1,
                             today=SAMPLE_TODAY)
            out["e2e"] = time.perf_counter() - t4
            out["e2e_docs"] = s.documents
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.2f}%" if b else "–"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scales", default="1,2,4")
    ap.add_argument("--no-e2e", action="store_true")
    args = ap.parse_args()
    rows = []
    for scale in (int(s) for s in args.scales.split(",")):
        r = measure(args.base * scale, args.seed, e2e=scale == 1 and not args.no_e2e)
        rows.append((scale, r))
        print(f"{scale}x done: {r['n']:,} contracts", flush=True)
    print("\n| scale | contracts | seeded | findings | read s | list s | check s | µs/contract "
          "| precision | recall |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for scale, r in rows:
        print(f"| {scale}× | {r['n']:,} | {r['truth']:,} | {r['findings']:,} | {r['read']:.2f} "
              f"| {r['list']:.2f} | {r['check']:.2f} | {1e6 * r['check'] / r['n']:.1f} "
              f"| {_pct(r['tp'], r['found'])} | {_pct(r['tp'], r['truth'])} |")
    scale, r = rows[0]
    print(f"\nper rule at {scale}× ({r['n']:,} contracts):\n")
    print("| rule | seeded | found | TP | precision | recall |")
    print("|---|---|---|---|---|---|")
    for rule, (tp, f, t) in r["per_rule"].items():
        print(f"| {rule} | {t} | {f} | {tp} | {_pct(tp, f)} | {_pct(tp, t)} |")
    if "e2e" in r:
        print(f"\nrpa run contracts on the {scale}× set (runner, run log, state, workbooks, "
              f"import CSV): {r['e2e']:.1f} s, {r['e2e_docs']} run-log documents")
    counts = Counter()
    for _s, r in rows:
        counts.update({"gen": r["gen"]})
    print(f"(generation, not timed above: {counts['gen']:.0f} s in all)")


if __name__ == "__main__":
    main()
