"""What a run takes into the scenario's state before it derives the list and checks contracts.

- the previous list (``previous_list``), once per version of the file;
- confirmed values of paper applications (``入札参加資格審査申請書_確定.csv`` written by
  ``rpa corrections import`` into an earlier run's output folder), once per version;
- this run's applications (data rows and paper forms) and the suspension lists dropped in
  the inbox;

and, back out of the state, the applications (checked again with today's configuration)
and the qualified-vendor list derived from them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from ocr.japanese import digits_only, normalize_kana, parse_date
from robots.config import Config
from robots.kit.companies import company_key
from robots.kit.state import StoredDoc, paper_doc, signature
from robots.kit.tables import Layout, LayoutNotRecognised, read_table
from robots.kit.tabular import newest_export
from robots.scenario import ItemResult, RunContext
from scenarios.contracts.applications import (
    Application,
    check_application,
    encode_categories,
    paper_values,
    town_grades,
)
from scenarios.contracts.datafiles import APPLICATION_FORM, SUSPENSIONS_FORM, application_values
from scenarios.contracts.register import Suspension, parse_suspensions
from scenarios.contracts.registry import (
    ATTRS,
    QualifiedList,
    Source,
    applications_into,
    listed_row,
)
from scenarios.contracts.settings import ContractsSettings
from scenarios.contracts.store import ContractStore

__all__ = ["build_list", "load_applications", "previous_list_base", "store_run",
           "stored_suspensions", "take_previous_list"]

log = logging.getLogger(__name__)

_LAPSED = "失効"


def take_previous_list(store: ContractStore, config: Config, settings: ContractsSettings,
                       layouts: Sequence[Layout]) -> int:
    """Store the lines of the previous list (once per version of the file); returns them."""
    if settings.previous_list is None:
        return 0
    path = newest_export(config, "scenarios.contracts.previous_list", settings.previous_list)
    sig = signature(path)
    if store.seen(path, sig):
        return 0
    table = read_table(path, layouts, ("vendor_list",), what_ja="資格者名簿")
    lay, n = table.layout, 0
    for line, raw in table.rows:
        v = {k: lay.value(k, s) for k, s in raw.items()}
        number = digits_only(v.get("corporate_number", "")).replace("-", "")
        start, end = parse_date(v.get("valid_from", "")), parse_date(v.get("valid_to", ""))
        if not number or start is None or end is None or not v.get("category"):
            log.warning("%s line %d: no corporate number, category or validity; skipped",
                        path.name, line)
            continue
        fields = {k: v.get(k, "") for k in ATTRS}
        keishin = parse_date(fields["keishin_date"]) if fields["keishin_date"] else None
        fields["keishin_date"] = keishin.isoformat() if keishin else ""
        fields.update(kana=normalize_kana(fields["kana"]), corporate_number=number,
                      category=v["category"], grade=v.get("grade", ""),
                      valid_from=start.isoformat(), valid_to=end.isoformat(),
                      status=v.get("status", ""))
        store.upsert_baseline(f"{number}|{v['category']}|{start.isoformat()}", line, fields,
                              f"前回名簿 {path.name} {line}行目")
        n += 1
    store.mark_seen(path, sig)
    log.info("previous list %s: %d line(s) taken in", path.name, n)
    return n


def store_run(store: ContractStore, results: Sequence[ItemResult], ctx: RunContext,
              layouts: Sequence[Layout], forms: Sequence[str]) -> list[str]:
    """Store this run's applications and suspensions; returns problems of suspension rows."""
    problems: list[str] = []
    for r in results:
        key = r.item.sha256[:16]
        for d in r.documents:
            if d.form_id == APPLICATION_FORM:
                layout, values, intrinsic = application_values(d)
                store.upsert_doc(StoredDoc(
                    f"{key}:a{d.page}", "data", layout, r.item.name, f"{d.page}行目", d.doc_id,
                    ctx.run_id, ctx.today.isoformat(), values, intrinsic))
            elif d.form_id in forms:
                store.upsert_doc(paper_doc(r, d, ctx))
            elif d.form_id == SUSPENSIONS_FORM:
                table = read_table(r.item.path, layouts, ("suspensions",))
                found, bad = parse_suspensions(table, r.item.name)
                problems += bad
                for s in found:
                    store.upsert_suspension(
                        f"{s.corporate_number or company_key(s.vendor_name)}|{s.start}",
                        {"corporate_number": s.corporate_number, "vendor_name": s.vendor_name,
                         "start": s.start.isoformat(), "end": s.end.isoformat(),
                         "reason": s.reason}, s.source)
    return problems


def stored_suspensions(store: ContractStore, config: Config, settings: ContractsSettings,
                       layouts: Sequence[Layout]) -> tuple[list[Suspension], list[str], str]:
    """Suspensions received so far plus the configured list: (list, problems, sources)."""
    out = [Suspension(f["corporate_number"], f["vendor_name"], date.fromisoformat(f["start"]),
                      date.fromisoformat(f["end"]), f.get("reason", ""), src)
           for f, src in store.suspensions()]
    sources = [f"受付済み {len(out)}件"] if out else []
    problems: list[str] = []
    if settings.suspensions is not None:
        path = newest_export(config, "scenarios.contracts.suspensions", settings.suspensions)
        try:
            table = read_table(path, layouts, ("suspensions",), what_ja="指名停止一覧")
        except LayoutNotRecognised as exc:
            problems.append(exc.reason_ja)
        else:
            found, problems = parse_suspensions(table, path.name)
            out += found
            sources.append(f"{path.name} {len(found)}件")
    return out, problems, "、".join(sources) or "なし"


def load_applications(store: ContractStore, settings: ContractsSettings, today: date
                      ) -> list[Application]:
    """Every stored application, checked again with today's configuration."""
    apps = []
    for s in store.docs():
        values = paper_values(s.fields) if s.kind == "paper" else dict(s.fields)
        problems = [why for _f, why in s.problems]
        problems += [why for _f, why in check_application(values, settings, today)]
        values["requested"] = values.get("categories", "")  # the grades the applicant asked
        values["categories"] = encode_categories(town_grades(values, settings))
        apps.append(Application(s.doc_key, s.layout if s.kind == "data" else "paper",
                                s.file_name, s.locator, s.arrival, values,
                                tuple(dict.fromkeys(problems))))
    return apps


def _line_source(fields: dict[str, str], source: str) -> Source:
    return Source(source, "前回名簿", fields["corporate_number"],
                  {k: fields.get(k, "") for k in ATTRS})


def build_list(store: ContractStore, apps: Sequence[Application], *,
               lapsed_too: bool = True) -> QualifiedList:
    """The list from the previous list's lines (then) and the accepted applications."""
    qlist = QualifiedList()
    for fields, source in store.baseline():
        if not lapsed_too and fields.get("status") == _LAPSED:
            continue
        qlist.add_line(_line_source(fields, source), fields["category"], fields["grade"],
                       date.fromisoformat(fields["valid_from"]),
                       date.fromisoformat(fields["valid_to"]))
    applications_into(qlist, apps)
    return qlist


def previous_list_base(store: ContractStore) -> dict[str, dict[str, str]]:
    """The previous list as it was published (lines not marked 失効), for the first run."""
    prev = build_list(store, (), lapsed_too=False)
    base: dict[str, dict[str, str]] = {}
    for e in sorted((e for n in {f["corporate_number"] for f, _ in store.baseline()}
                     for e in prev.entries(n)), key=lambda e: e.end):
        base[f"{e.number}|{e.category}"] = listed_row(e)  # the latest-ending one wins
    return base

