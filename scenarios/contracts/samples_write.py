"""Write a drawn sample world as the files the contract section receives, and its truth.

Layout of ``out`` (the same as a workspace, so ``--out samples`` refreshes the demo):

    data/contracts/previous_list.csv            the town's list before the robot (CP932)
    data/contracts/register/register_<d>.csv     the contract register export (CP932)
    data/contracts/truth.json                    expected applications, changes, findings
    inbox/contracts/applications_01.csv          online applications (UTF-8)
    inbox/contracts/applications_02.csv          applications sent again, corrected
    inbox/contracts/suspensions.csv              the suspension list (指名停止)
    inbox/contracts/bid_qualification-*.tif      paper applications, scanned, each with its
                                                 ``<stem>.json`` truth (robots.samples format)

Formats vary as they do in life: 和暦 or western dates, amounts with or without commas,
corporate numbers with hyphens, company names in several spellings.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np

from ocr.japanese import format_era, normalize_kana, normalize_text
from ocr.templates import load_template
from robots.kit.tables import Layout, load_layouts, write_layout_csv
from robots.samples import SampleDocument, make_values, render_sample, write_pages, write_truth
from robots.samples.context import DocumentContext
from robots.sheets.csvout import write_csv
from scenarios.contracts.applications import PAPER_CATEGORIES
from scenarios.contracts.samples import (
    GRADED,
    KEISHIN,
    P2,
    POINTS,
    STALE_KEISHIN,
    SApp,
    SVendor,
    VendorWorld,
    build_vendors,
)
from scenarios.contracts.samples_register import RegisterWorld
from scenarios.contracts.samples_seed import build_register
from scenarios.contracts.schemas import PACKAGED_MAPPINGS, SCHEMAS

__all__ = ["write_sample_set", "write_world"]

_FORM = Path(__file__).parent / "forms" / "bid_qualification.toml"
_APP_HEADER = ["受付番号", "申請日", "法人番号", "商号又は名称", "フリガナ", "代表者役職",
               "代表者氏名", "郵便番号", "所在地", "電話番号", "FAX番号", "メールアドレス",
               "希望業種", "等級", "有効期間（自）", "有効期間（至）", "申請者区分", "屋号",
               "建設業許可番号", "許可の有効期間（至）", "許可業種", "経審審査基準日", "総合評定値",
               "納税証明書発行日", "添付書類"]


def _layouts() -> dict[str, Layout]:
    return {lay.id: lay for lay in load_layouts((PACKAGED_MAPPINGS,), SCHEMAS)}


def _date(d: dt.date, rng: np.random.Generator) -> str:
    x = rng.random()
    return format_era(d) if x < 0.3 else f"{d:%Y/%m/%d}" if x < 0.8 else d.isoformat()


def _app_rows(app: SApp, lay: Layout, rng: np.random.Generator) -> list[list[str]]:
    v = app.vendor
    number = "" if v.sole else v.number
    if app.kind == "check_digit":
        number = f"{(int(number[0]) + 3) % 10}{number[1:]}"
    rep = "" if app.kind == "no_representative" else (v.new_rep or v.rep_name)
    phone, fax, email = ("", "", "") if app.kind == "no_contact" else (v.phone, v.fax, v.email)
    start, end = (app.end, app.start) if app.kind == "period_order" else (app.start, app.end)
    cats = list(app.categories)
    if app.kind == "rows_disagree" and len(cats) < 2:
        cats.append(("物品", "") if cats[0][0] != "物品" else ("役務", ""))
    applied = _date(app.applied, rng)
    kana = v.corp.kana if rng.random() < 0.7 else normalize_kana(v.corp.kana)
    works = any(c in GRADED for c, _g in cats)
    permit = "" if app.kind == "no_permit" or not works else v.permit
    keishin = app.applied - dt.timedelta(days=700 if app.kind == "keishin_old" else
                                         int(rng.integers(60, 240)))
    tax = app.applied - dt.timedelta(days=200 if app.kind == "tax_old" else
                                     int(rng.integers(0, 60)))
    papers = ["納税証明書", *([] if app.kind == "no_attachment" else ["誓約書"]),
              *(["建設業許可通知書の写し", "経営事項審査結果通知書の写し"] if works else [])]
    name, trade, who = (v.rep_name, v.name, "個人") if v.sole else (app.name, "", "法人")
    if v.sole:
        rep = ""
    rows = []
    for i, (cat, grade) in enumerate(cats):
        raw_cat = "造園工事" if app.kind == "unknown_category" and i == 0 else lay.raw(
            "category", cat)
        address = v.address + ("別館" if app.kind == "rows_disagree" and i == 1 else "")
        low, high = POINTS.get(grade, (0, 0))
        points = "" if cat not in GRADED or app.kind == "no_points" else str(
            int(rng.integers(low, high + 1)))
        rows.append([app.number, applied, number, name, kana, "" if v.sole else v.rep_title,
                     rep, v.postal, address, phone, fax, email, raw_cat, grade,
                     f"{start:%Y/%m/%d}", f"{end:%Y/%m/%d}", who, trade, permit,
                     "2029/03/31" if permit else "", v.trades if permit else "",
                     f"{keishin:%Y/%m/%d}" if works else "", points, f"{tax:%Y/%m/%d}",
                     "・".join(papers)])
    return rows


def _previous_list(path: Path, world: VendorWorld, lay: Layout) -> None:
    def keishin(v: SVendor, start: dt.date) -> str:
        if not any(c in GRADED for c, *_ in v.lines):
            return ""
        day = STALE_KEISHIN if v.stale and start == P2[0] else KEISHIN.get(start)
        return day.isoformat() if day else ""

    rows = [{"corporate_number": v.number, "name": v.name, "kana": v.corp.kana,
             "representative_title": v.rep_title, "representative_name": v.rep_name,
             "postal_code": v.postal, "address": v.address, "phone": v.phone, "fax": v.fax,
             "email": v.email, "category": c, "grade": g, "valid_from": s.isoformat(),
             "valid_to": e.isoformat(), "status": st,
             "source": "令和5・6年度定期受付" if s.year == 2023 else "令和7・8年度定期受付",
             "keishin_date": keishin(v, s)}
            for v in world.vendors if not v.sole for c, g, s, e, st in v.lines]
    write_layout_csv(path, lay, rows, date_fields=("valid_from", "valid_to", "keishin_date"))


def _register(path: Path, reg: RegisterWorld, lay: Layout, rng: np.random.Generator) -> None:
    def amount(x: int | str | None) -> str:
        if x is None or isinstance(x, str):
            return x or ""
        return f"{x:,}" if rng.random() < 0.5 else str(x)

    def day(d: dt.date | None) -> str:
        return "" if d is None else _date(d, rng)

    rows = []
    for c in reg.contracts:
        method = lay.raw("method", c.method)
        if c.method == "negotiated" and rng.random() < 0.3:
            method = "随意契約（少額）"
        rows.append({
            "contract_number": c.number, "contract_date": _date(c.day, rng),
            "subject": c.subject, "method": method, "category": lay.raw("category", c.category),
            "vendor_name": c.vendor, "corporate_number": c.corporate_number,
            "amount": amount(c.amount), "estimated_price": amount(c.estimated),
            "period_from": f"{c.period_from:%Y/%m/%d}", "period_to": f"{c.period_to:%Y/%m/%d}",
            "department": c.department, "location": c.location,
            "invitation_date": day(c.invited), "bid_date": day(c.bid_day),
            "minimum_price": amount(c.minimum_price), "survey_price": amount(c.survey_price),
            "survey_date": day(c.surveyed), "quotes": "" if c.quotes is None else str(c.quotes),
            "guarantee": amount(c.guarantee), "guarantee_exemption": c.guarantee_exemption,
            "advance_payment": amount(c.advance), "council_date": day(c.council)})
    write_layout_csv(path, lay, rows)


def _paper(path: Path, app: SApp, rng: np.random.Generator, today: dt.date, degrade: int
           ) -> dict[str, str]:
    """One paper application for ``app``, scanned; returns its truth."""
    t = load_template(_FORM)
    doc = make_values(t, rng, today=today)
    ctx = DocumentContext(rng, today, corporate=True)
    printed, truth = dict(doc.printed), dict(doc.truth)
    v: SVendor = app.vendor

    def put(name: str, shown: str, value: str) -> None:
        printed[name], truth[name] = shown, value

    put("application_date", ctx.format_date(app.applied), app.applied.isoformat())
    put("corporate_number", v.number, v.number)
    put("company_kana", v.corp.kana, normalize_kana(v.corp.kana))
    put("company_name", app.name, normalize_text(app.name))
    put("representative_title", v.rep_title, v.rep_title)
    put("representative_name", v.rep_name, normalize_text(v.rep_name))
    put("postal_code", v.postal, v.postal)
    put("address", v.address, normalize_text(v.address))
    put("phone", v.phone, v.phone)
    put("fax", v.fax, v.fax)
    chosen = dict(app.categories)
    for box, grade, cat in PAPER_CATEGORIES:
        put(box, "1" if cat in chosen else "0", "1" if cat in chosen else "0")
        if grade:
            g = chosen.get(cat, "")
            put(grade, g, g)
    put("valid_from", ctx.format_date(app.start), app.start.isoformat())
    put("valid_to", ctx.format_date(app.end), app.end.isoformat())
    image = render_sample(t, SampleDocument(t.id, truth, printed), rng, degrade=degrade)
    write_pages(path, [image], "tiff")
    write_truth(path.with_suffix(".json"), {"form": t.id, "fields": truth, "printed": printed,
                                            "degrade": degrade, "dpi": image[1]})
    return truth


def write_world(world: VendorWorld, reg: RegisterWorld, out: Path, *, degrade: int = 1
                ) -> list[Path]:
    """Write ``world`` and ``reg`` under ``out`` (see the module docstring)."""
    rng = np.random.default_rng([world.seed, 703])
    lays = _layouts()
    data, inbox = out / "data" / "contracts", out / "inbox" / "contracts"
    (data / "register").mkdir(parents=True, exist_ok=True)
    inbox.mkdir(parents=True, exist_ok=True)
    files = [data / "previous_list.csv", data / "register" / f"register_{world.today:%Y%m%d}.csv"]
    _previous_list(files[0], world, lays["vendor_list_cms"])
    _register(files[1], reg, lays["register_cms"], rng)
    batches: dict[str, list[list[str]]] = {"applications_01.csv": [], "applications_02.csv": []}
    seen_numbers: set[str] = set()
    paper_truth: dict[str, dict[str, str]] = {}
    for app in world.apps:
        if app.channel == "paper":
            path = inbox / f"bid_qualification-s{world.seed}-{len(paper_truth):04d}.tif"
            paper_truth[path.name] = _paper(path, app, rng, world.today, degrade)
            app.file, app.locator = path.name, "1ページ"
            files.append(path)
            continue
        name = "applications_02.csv" if app.number in seen_numbers else "applications_01.csv"
        seen_numbers.add(app.number)
        rows = _app_rows(app, lays["application_online"], rng)
        first = len(batches[name]) + 2
        last = first + len(rows) - 1
        app.file, app.locator = name, f"{first}行目" if first == last else f"{first}-{last}行目"
        batches[name] += rows
    for name, rows in batches.items():
        if rows:
            write_csv(inbox / name, _APP_HEADER, rows, encoding="utf-8-sig",
                      formula_escape=False)  # another system's export, as it writes it
            files.append(inbox / name)
    sus = [{"corporate_number": s.number, "vendor_name": s.name,
            "suspended_from": f"{s.start:%Y/%m/%d}", "suspended_to": f"{s.end:%Y/%m/%d}",
            "reason": s.reason} for s in reg.suspensions]
    write_layout_csv(inbox / "suspensions.csv", lays["suspensions_town"], sus)
    files.append(inbox / "suspensions.csv")
    truth: dict[str, Any] = {
        "seed": world.seed, "today": world.today.isoformat(), "contracts": len(reg.contracts),
        "applications": [{"file": a.file, "locator": a.locator, "status": a.expected,
                          "open": a.open_review, "kind": a.kind, "number": a.number,
                          "corporate_number": a.vendor.number, "paper": a.channel == "paper"}
                         for a in world.apps],
        "changes": dict(sorted(world.changes.items())),
        "findings": [{"rule": s.rule, "contract": s.number, "group": list(s.group)}
                     for s in reg.truth],
        "boundaries": sorted(c.number for c in reg.contracts if c.note.startswith("clean:")),
        "paper_fields": paper_truth,
    }
    (data / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n",
                                     encoding="utf-8")
    return [*files, data / "truth.json"]


def write_sample_set(out: Path, *, count: int, seed: int, today: dt.date, vendors: int = 0,
                     paper: int = 1, degrade: int = 1) -> list[Path]:
    """Draw and write a sample set: ``count`` contracts (``rpa samples scenario contracts``).

    ``vendors`` defaults to one per 4 contracts, at least 30 (as many as the data allows).
    """
    world = build_vendors(vendors or max(30, count // 4), seed, today=today, paper=paper)
    return write_world(world, build_register(world, count, seed), Path(out), degrade=degrade)

