"""The parent's part of a run: take inputs into the state, derive the list, check contracts.

Everything happens in one transaction of the scenario database, committed only after the
outputs are written into the run's partial folder (see :mod:`robots.run.runner`): a run that
dies before the run log commits is redone by the next one, whose upserts land on the same
rows, and whose list — derived from the state, never edited in place — is the same. The
list published is stored as this run's snapshot; the next run compares with it.

Outputs (in this order; the OCR review workbook first, as the demo's reviewer expects):
``申請書読取_<run>.xlsx`` + ``bid_qualification.csv`` when paper applications came in;
``資格者名簿_<run>.xlsx`` (名簿, 変更点, 要確認); ``資格者名簿_取込用_<run>.csv`` in the
import layout; ``契約チェック結果_<run>.xlsx`` when a register was checked. The run log gets
one event with the list's counts, one with the findings per rule and one with the clerks'
verdicts on them (``contracts_verdicts``; counts only).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from ocr.reasons import Reason
from ocr.results import FieldResult
from robots.kit.reconcile import normalize_ref
from robots.kit.scans import write_scan_outputs
from robots.kit.state import take_confirmed
from robots.kit.tables import Layout, read_table, write_layout_csv
from robots.kit.tabular import newest_export
from robots.scenario import ItemResult, RunContext
from robots.sheets.csvout import write_csv
from scenarios.contracts.applications import Application, categories_ja
from scenarios.contracts.checks import Finding, check_register
from scenarios.contracts.datafiles import APPLICATION_FORM, REGISTER_FORM
from scenarios.contracts.findings_book import write_findings_workbook
from scenarios.contracts.intake import (
    build_list,
    load_applications,
    previous_list_base,
    store_run,
    stored_suspensions,
    take_previous_list,
)
from scenarios.contracts.limits import LimitBook
from scenarios.contracts.register import Contract, parse_contracts
from scenarios.contracts.registry import (
    QualifiedList,
    diff_lists,
    is_sole_proprietor,
    listed_row,
)
from scenarios.contracts.rules import RULES
from scenarios.contracts.settings import ContractsSettings, layouts_for
from scenarios.contracts.sheets import write_list_workbook
from scenarios.contracts.store import ContractStore
from scenarios.contracts.verdicts import take_verdicts, verdict_counts

__all__ = ["LIST_FIELD", "finish_run", "open_reviews"]

log = logging.getLogger(__name__)

#: The field added to each application document: 名簿登録 or 要確認 (flagged).
LIST_FIELD = "list_status"


def open_reviews(apps: Sequence[Application]) -> list[Application]:
    """Applications kept out of the list and not yet superseded by a later accepted one.

    A later accepted application with the same corporate number or receipt number settles
    an earlier one that failed (the applicant sent it again, corrected).
    """
    last: dict[tuple[str, str], int] = {}  # latest arrival of an accepted one, per key
    for b in apps:
        if b.accepted:
            for key in (("c", b.get("corporate_number")),
                        ("n", normalize_ref(b.get("application_number")))):
                if key[1]:
                    last[key] = max(last.get(key, 0), b.arrival)
    return [a for a in apps if not a.accepted and not any(
        key[1] and last.get(key, 0) > a.arrival
        for key in (("c", a.get("corporate_number")),
                    ("n", normalize_ref(a.get("application_number")))))]


def _review_rows(apps: Sequence[Application]) -> list[list[str]]:
    return [[a.file_name, a.locator, a.get("application_number"), a.get("corporate_number"),
             a.get("name"), a.get("application_date"), categories_ja(a.get("categories")),
             "／".join(a.problems), a.key] for a in apps]


def _base(store: ContractStore, ctx: RunContext) -> tuple[str, dict[str, dict[str, str]]]:
    out_root = ctx.out_dir.parent
    published = {p.name for p in out_root.iterdir() if p.is_dir()} if out_root.is_dir() else set()
    found = store.latest_snapshot(published, exclude=ctx.run_id)
    if found is not None:
        return f"前回の実行 {found[0]}", found[1]
    base = previous_list_base(store)
    return ("前回名簿（設定 previous_list）" if base else "なし（初回）"), base


def _write_import_csv(path: Path, layout: Layout, qlist: QualifiedList, today: date,
                      newline: str) -> list[Path]:
    rows = []
    for e in qlist.rows(today):
        r = listed_row(e)
        r.update(corporate_number="" if is_sole_proprietor(e.number) else e.number,
                 status="有効" if e.covers(today) else "有効期間前")
        rows.append(r)
    lost = write_layout_csv(path, layout, rows, newline=newline,
                            date_fields=("valid_from", "valid_to", "keishin_date"))
    files = [path]
    if lost:
        files.append(path.with_name(f"{path.stem}_文字コード変換できない文字.csv"))
        write_csv(files[-1], ["法人番号", "項目", "変換できない文字"],
                  [[p.row_key, p.column, p.characters] for p in lost])
    return files


def _contracts(results: Sequence[ItemResult], ctx: RunContext, layouts: Sequence[Layout]
               ) -> tuple[list[Contract], str]:
    """The register rows to check: those dropped in the inbox, else the configured export."""
    settings: ContractsSettings = ctx.settings
    files = [(r.item.path, r.item.name) for r in results
             if any(d.form_id == REGISTER_FORM for d in r.documents)]
    where = "受付"
    if not files and settings.contract_register is not None:
        path = newest_export(ctx.config, "scenarios.contracts.contract_register",
                             settings.contract_register)
        files, where = [(path, path.name)], "設定"
    contracts: list[Contract] = []
    for path, name in files:
        table = read_table(path, layouts, ("register",), what_ja="契約台帳")
        contracts += parse_contracts(table, name, settings)
    return contracts, "、".join(f"{n}（{where}）" for _p, n in files)


def _annotate(results: Sequence[ItemResult], apps: Sequence[Application],
              findings: Sequence[Finding]) -> None:
    """Give this run's documents their outcome before the runner logs them.

    Applications get 名簿登録 / 要確認 (flagged), a register file one count per rule (flagged
    when there are findings), so the run log counts what a person must look at. Paper forms
    keep exactly their OCR fields (their review workbook must match the run log).
    """
    accepted = {a.key: a.accepted for a in apps}
    for r in results:
        key = r.item.sha256[:16]
        for d in r.documents:
            if d.form_id == APPLICATION_FORM:
                ok = accepted.get(f"{key}:a{d.page}", False)
                d.fields.append(FieldResult(LIST_FIELD, "名簿への登録", "text",
                                            "名簿登録" if ok else "要確認",
                                            "名簿登録" if ok else "要確認", 1.0,
                                            [] if ok else [Reason("application_review")]))
            elif d.form_id == REGISTER_FORM:
                mine = Counter(f.rule for f in findings if f.contract.file_name == r.item.name)
                d.fields += [FieldResult(f"rule_{rid}", rule.title, "digits", str(mine[rid]),
                                         str(mine[rid]), 1.0,
                                         [Reason("contract_finding", f"{mine[rid]}件")]
                                         if mine[rid] else [])
                             for rid, rule in RULES.items()]


def finish_run(results: Sequence[ItemResult], ctx: RunContext, out_dir: Path) -> list[Path]:
    """Store, derive, check and write (see the module docstring); returns the files."""
    settings: ContractsSettings = ctx.settings
    cfg = ctx.config
    today = settings.as_of or ctx.today
    layouts = layouts_for(cfg, settings)
    export = next(lay for lay in layouts if lay.id == settings.export_layout)
    store = ContractStore(cfg.resolve(settings.state_db))
    try:
        with store.atomic():
            take_previous_list(store, cfg, settings, layouts)
            confirmed = take_confirmed(store, ctx.out_dir.parent, ctx, settings.forms)
            taken = take_verdicts(store, ctx.out_dir.parent, settings.check_workbook_name)
            bad_suspensions = store_run(store, results, ctx, layouts, settings.forms)
            apps = load_applications(store, settings, today)
            qlist = build_list(store, apps)
            current = {f"{n}|{c}": listed_row(e) for (n, c), e in qlist.listed(today).items()}
            base_name, base = _base(store, ctx)
            lapse = {k: qlist.lapse_reason(*k.split("|", 1), today) for k in base
                     if k not in current}
            changes = diff_lists(base, current, lapse)
            store.save_snapshot(ctx.run_id, today.isoformat(), current)
            files: list[Path] = []
            paper = [d for r in results for d in r.documents if d.form_id in settings.forms]
            if paper:
                files += write_scan_outputs(paper, ctx, out_dir,
                                            workbook_name=settings.scan_workbook_name,
                                            scenario=ctx.scenario)
            reviews = open_reviews(apps)
            files.append(out_dir / f"{settings.list_workbook_name}_{ctx.run_id}.xlsx")
            write_list_workbook(files[-1], run_id=ctx.run_id, today=today,
                                rows=qlist.rows(today), changes=changes,
                                review=_review_rows(reviews), base=base_name)
            files += _write_import_csv(out_dir / f"{settings.import_csv_name}_{ctx.run_id}.csv",
                                       export, qlist, today, cfg.csv.newline)
            counts = Counter(c.kind for c in changes)
            ctx.events.append(("contracts_vendor_list", (
                f"list as of {today}: {len(current)} listed qualification(s); changes against "
                f"{'snapshot' if base_name.startswith('前回の実行') else 'previous list'}: new "
                f"{counts['新規']}, changed {counts['変更']}, lapsed {counts['失効']}; "
                f"applications {len(apps)}, open for review {len(reviews)}; paper values "
                f"confirmed {confirmed}")))
            contracts, sources = _contracts(results, ctx, layouts)
            findings: list[Finding] = []
            if contracts:
                suspensions, problems, sus_sources = stored_suspensions(store, cfg, settings,
                                                                        layouts)
                limits = LimitBook(settings)
                findings = check_register(contracts, qlist, suspensions, settings, limits)
                verdicts = store.verdicts()
                files.append(out_dir / f"{settings.check_workbook_name}_{ctx.run_id}.xlsx")
                write_findings_workbook(
                    files[-1], findings, run_id=ctx.run_id, settings=settings,
                    contracts=len(contracts), sources=sources,
                    suspensions=sus_sources + "".join(f"／{p}" for p in
                                                     (*bad_suspensions, *problems)),
                    basis=limits.basis_ja(), verdicts=verdicts)
                per_rule = Counter(f.rule for f in findings)
                sev = Counter(f.severity for f in findings)
                ctx.events.append(("contracts_check", (
                    f"{len(contracts)} contract(s) checked; findings "
                    + ", ".join(f"{r}={per_rule[r]}" for r in RULES)
                    + f"; severity high {sev['高']}, medium {sev['中']}, low {sev['低']}")))
                ctx.events.append(("contracts_verdicts", (
                    f"{verdict_counts(findings, verdicts)}; verdicts read this run "
                    f"{sum(taken.values())}")))
            _annotate(results, apps, findings)
            # the run's own work, for the evaluation (scenarios.contracts.evaluation):
            # applications that came in this run, contracts checked, findings, and the
            # clerks' verdicts taken in by this run (each counted once, when first read)
            mine = {f"{r.item.sha256[:16]}:a{d.page}" for r in results for d in r.documents
                    if d.form_id == APPLICATION_FORM}
            mine |= {f"{r.item.sha256[:16]}:p{d.page}" for r in results for d in r.documents
                     if d.form_id in settings.forms}
            new_apps = [a for a in apps if a.key in mine]
            ctx.counts.update({
                "applications": len(new_apps),
                "applications_listed": sum(a.accepted for a in new_apps),
                "applications_for_review": sum(not a.accepted for a in new_apps),
                "contracts_checked": len(contracts), "findings": len(findings),
                "findings_valid": taken["valid"], "findings_false": taken["false"]})
        log.info("vendor list: %d listed, changes %s, %d for review; %d contract(s), %d "
                 "finding(s)", len(current), dict(counts), len(reviews), len(contracts),
                 len(findings))
        return files
    finally:
        store.close()
