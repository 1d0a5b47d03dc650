"""Export layouts: every format option, strict character sets, byte-exact fixed-length records.

Nothing is mocked: layouts are TOML files loaded by the real loader, values are rendered by
the real renderer into the bytes a core system would read. Character-set facts are checked
against published counts and CPython's codec tables, not against lists typed here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ocr.templates import TemplateLibrary
from robots.cli import main
from robots.config import Config, forms_dirs
from robots.errors import ExitCode
from robots.exports import (
    ExportLayoutError,
    FormatProblem,
    Row,
    SubstitutionError,
    can_write,
    encode,
    format_date,
    format_kana,
    layout_problems,
    load_layout,
    load_substitutions,
    render,
    zengin_kana,
)
from robots.exports.formats import format_phone, format_postal
from robots.registry import packaged_exports_dirs
from robots.sheets.common import looks_like_formula

TODAY = dt.date(2026, 11, 26)
LIB = TemplateLibrary.from_dirs(forms_dirs(Config()))
JUMIN = LIB.get("juminhyo_request")
KOZA = LIB.get("koza_furikae")


def layout_file(tmp_path: Path, head: str, columns: str, name: str = "lay.toml") -> Path:
    path = tmp_path / name
    path.write_text(f"[layout]\n{head}\n{columns}", encoding="utf-8")
    return path


HEAD = ('id = "t"\nform = "juminhyo_request"\ntarget = "住民記録システム"\ntitle = "試験"\n'
        'file_name = "試験"\n')


def col(name: str, **kw: object) -> str:
    lines = [f'name = "{name}"']
    for k, v in kw.items():
        if isinstance(v, bool):
            lines.append(f"{k} = {'true' if v else 'false'}")
        elif isinstance(v, int):
            lines.append(f"{k} = {v}")
        elif isinstance(v, dict):
            inner = ", ".join(f'"{a}" = "{b}"' for a, b in v.items())
            lines.append(f"{k} = {{ {inner} }}")
        else:
            lines.append(f'{k} = "{v}"')
    return "\n[[columns]]\n" + "\n".join(lines) + "\n"


def row(**values: str) -> Row:
    return Row("RUN-001-01", "scan.pdf", "1", values)


# -- value formats -------------------------------------------------------------------------------


@pytest.mark.parametrize(("iso", "style", "out"), [
    ("2025-11-26", "yyyymmdd", "20251126"),
    ("2025-11-26", "iso", "2025-11-26"),
    ("2025-11-26", "slash", "2025/11/26"),
    ("2025-11-26", "wareki", "令和7年11月26日"),
    ("2025-11-26", "wareki_short", "R07.11.26"),
    ("2025-11-26", "era_code", "5071126"),
    ("2019-05-01", "wareki", "令和元年5月1日"),  # 改元: the first day of 令和
    ("2019-04-30", "wareki_short", "H31.04.30"),
    ("1989-01-07", "era_code", "3640107"),  # the last day of 昭和
    ("1989-01-08", "era_code", "4010108"),
    ("1926-12-25", "wareki_short", "S01.12.25"),
    ("1912-07-30", "era_code", "2010730"),
    ("", "era_code", ""),
])
def test_date_styles_follow_the_era_boundaries(iso: str, style: str, out: str) -> None:
    assert format_date(iso, style) == out


def test_a_bad_date_is_a_problem_not_a_guess() -> None:
    with pytest.raises(FormatProblem, match="日付"):
        format_date("令和7年2月30日", "yyyymmdd")
    with pytest.raises(FormatProblem, match="明治"):
        format_date("1868-01-01", "era_code")


def test_kana_full_half_and_zengin() -> None:
    assert format_kana("ｱﾍﾞ ｱｵﾘ", "full") == "アベ アオリ"
    assert format_kana("キョウコ", "half") == "ｷｮｳｺ"
    assert zengin_kana("アベ アオリ") == "ｱﾍﾞ ｱｵﾘ"
    assert zengin_kana("キョウコ") == "ｷﾖｳｺ"  # small kana written large
    assert zengin_kana("ヴィクトリー") == "ｳﾞｲｸﾄﾘ-"  # long vowel as '-'
    assert zengin_kana("みさと") == "ﾐｻﾄ"
    assert zengin_kana("カ）ミサト") == "ｶ)ﾐｻﾄ"
    with pytest.raises(FormatProblem, match="全銀協"):
        zengin_kana("山田タロウ")


def test_phone_and_postal_normalised() -> None:
    assert format_phone("08017646141", "hyphen") == format_phone("080-1764-6141", "hyphen") \
        == "080-1764-6141"
    assert format_phone("0964471111", "hyphen") == "0964-47-1111"  # by the area code
    assert format_phone("070-5673-4579", "digits") == "07056734579"
    with pytest.raises(FormatProblem, match="市外局番"):
        format_phone("09644711112", "hyphen")
    assert format_postal("861-4401", "digits") == "8614401"
    assert format_postal("8614401", "hyphen") == "861-4401"
    with pytest.raises(FormatProblem, match="7桁"):
        format_postal("861-440", "digits")


# -- character sets ------------------------------------------------------------------------------


def test_jis0208_is_exactly_jis_x_0208() -> None:
    """6,879 graphic characters (JIS X 0208:1997), reached from every Unicode spelling."""
    codes = set()
    for i in range(0x10000):
        if 0xD800 <= i < 0xE000:
            continue
        ch = chr(i)
        if can_write(ch, "jis0208") and len(ch.encode("cp932")) == 2:
            codes.add(ch.encode("cp932"))
    assert len(codes) == 6879


@pytest.mark.parametrize(("ch", "cp932", "jis0208"), [
    ("髙", b"\xee\xe0", None),  # NEC-selected IBM extension
    ("﨑", b"\xed\x95", None),
    ("①", b"\x87\x40", None),  # NEC special characters, row 13
    ("齋", b"\xe2\x56", b"\xe2\x56"),  # JIS X 0208 level 2
    ("～", b"\x81\x60", b"\x81\x60"),  # Windows' spelling of a JIS X 0208 character
    ("𠮷", None, None),  # in neither
])
def test_cp932_writes_extensions_jis0208_refuses_them(ch: str, cp932: bytes | None,
                                                      jis0208: bytes | None) -> None:
    for charset, want in (("cp932", cp932), ("jis0208", jis0208)):
        enc = encode(ch, charset)
        assert (enc.data or None) == want
        assert enc.refused == ("" if want else ch)


def test_substitution_table(tmp_path: Path) -> None:
    table = tmp_path / "subs.toml"
    table.write_text(
        '[[substitute]]\nchar = "髙"\ntext = "高"\ndecided_by = "住民課 山田"\n'
        'decided_on = 2026-11-01\n'
        '[[substitute]]\nchar = "𠮷"\ncode = "F040"\ndecided_by = "住民課 山田"\n'
        'decided_on = 2026-11-01\nnote = "住民記録システムの外字 F040"\n'
        '[[substitute]]\nchar = "①"\ntext = "1"\ntargets = ["税務システム"]\n'
        'decided_by = "税務課"\ndecided_on = 2026-11-02\n', encoding="utf-8")
    subs = load_substitutions((table,))
    enc = encode("髙𠮷①", "jis0208", target="住民記録システム", substitutions=subs)
    assert enc.data == "高".encode("cp932") + b"\xf0\x40"
    assert enc.refused == "①"  # decided for another target only
    assert [s.char for s in enc.substituted] == ["髙", "𠮷"]
    for body, why in (('char = "髙"\ntext = "高"\n', "decided_by"),  # who decided is required
                      ('char = "髙"\ntext = "高"\ncode = "F040"\ndecided_by = "x"\n'
                       'decided_on = 2026-11-01\n', "either text")):
        bad = tmp_path / "bad.toml"
        bad.write_text(f"[[substitute]]\n{body}", encoding="utf-8")
        with pytest.raises(SubstitutionError) as exc:
            load_substitutions((bad,))
        assert any(why in p for p in exc.value.problems), exc.value.problems


# -- records -------------------------------------------------------------------------------------


def test_fixed_length_is_byte_exact_with_two_byte_characters_at_the_edges(tmp_path: Path) -> None:
    cols = (col("区分", value="D", width=1)
            + col("氏名", field="name", width=7, overflow="cut")  # 3 kanji + 1 space
            + col("カナ", field="name_kana", kana="half", width=5)
            + col("住所", field="address", width=6)  # exactly 3 kanji
            + col("番号", field="receipt_number", width=8, pad="zero")
            + col("続柄", field="relation", values={"本人": "1", "同一世帯員": "2",
                                                     "代理人": "3"}, width=1))
    lay = load_layout(layout_file(tmp_path, HEAD + 'encoding = "jis0208"\nrecord = "fixed"\n'
                                  'record_length = 28\nnewline = "crlf"\n', cols))
    assert layout_problems(lay, JUMIN) == []
    out = render(lay, JUMIN, [row(name="山田太郎", name_kana="ヤマダ", address="美里町",
                                  receipt_number="123", relation="同一世帯員")],
                 run_id="RUN", today=TODAY)
    expected = (b"D" + "山田太".encode("cp932") + b" " + "ﾔﾏﾀﾞ".encode("cp932") + b" "
                + "美里町".encode("cp932") + b"00000123" + b"2" + b"\r\n")
    assert out.data == expected and len(expected) == 28 + 2
    assert [p.message_ja for p in out.problems] == ["7バイトで切り詰めました（元は8バイト）"]
    assert not out.problems[0].blocking and out.written == ["RUN-001-01"]

    # the same kanji one byte too long for a refusing item: held back, never split
    held = render(lay, JUMIN, [row(name="山田", name_kana="ヤマダ", address="美里町馬",
                                   receipt_number="1", relation="本人")],
                  run_id="RUN", today=TODAY)
    assert held.data == b"" and held.held == ["RUN-001-01"]
    assert [(p.column, p.message_ja) for p in held.problems] == [
        ("住所", "6バイトに収まりません（8バイト）")]


def test_delimited_options(tmp_path: Path) -> None:
    cols = (col("請求日", field="request_date", date="wareki")
            + col("氏名", field="name", required=True)
            + col("電話", field="phone", phone="hyphen")
            + col("郵便", field="postal_code", postal="digits")
            + col("写し", field="cert_juminhyo", values={"1": "有", "0": "無"})
            + col("番号", field="receipt_number", width=8, pad="zero")
            + col("目的", field="purpose")
            + col("町", value="美里町")
            + col("ID", meta="doc_id") + col("日", meta="handoff_date"))
    lay = load_layout(layout_file(tmp_path, HEAD + 'encoding = "cp932"\ndelimiter = "\\t"\n'
                                  'header = false\nquoting = "minimal"\nnewline = "lf"\n', cols))
    values = {"request_date": "2025-11-26", "name": "髙橋", "phone": "08017646141",
              "postal_code": "861-4401", "cert_juminhyo": "1", "receipt_number": "42",
              "purpose": "=HYPERLINK(\"x\")\t年金"}
    out = render(lay, JUMIN, [row(**values), row(cert_juminhyo="0")], run_id="R",
                 today=TODAY, formula_guard=looks_like_formula)
    text = out.data.decode("cp932")
    assert text == ("令和7年11月26日\t髙橋\t080-1764-6141\t8614401\t有\t00000042\t"
                    "\"'=HYPERLINK(\"\"x\"\")\t年金\"\t美里町\tRUN-001-01\t20261126\n")
    assert out.held == ["RUN-001-01"]  # the second row has no 氏名 (required)
    assert [p.message_ja for p in out.problems] == ["必須の値が空欄です"]


def test_jis0208_holds_back_a_name_with_a_kanji_outside_the_set(tmp_path: Path) -> None:
    cols = col("氏名", field="name") + col("カナ", field="name_kana")
    lay = load_layout(layout_file(tmp_path, HEAD + 'encoding = "jis0208"\nheader = true\n', cols))
    rows = [Row("D1", "a.pdf", "1", {"name": "髙橋一郎", "name_kana": "タカハシ"}),
            Row("D2", "a.pdf", "2", {"name": "齋藤", "name_kana": "サイトウ"})]
    out = render(lay, JUMIN, rows, run_id="R", today=TODAY)
    assert out.written == ["D2"] and out.held == ["D1"]
    (p,) = out.problems
    assert (p.doc_id, p.column, p.blocking) == ("D1", "氏名", True)
    assert "jis0208で書けない文字があります（髙）" in p.message_ja
    assert out.data.decode("shift_jis") == "氏名,カナ\r\n齋藤,サイトウ\r\n"
    cp = load_layout(layout_file(tmp_path, HEAD + 'encoding = "cp932"\n', cols, "cp.toml"))
    assert render(cp, JUMIN, rows, run_id="R", today=TODAY).written == ["D1", "D2"]


def test_value_table_without_the_value_holds_the_row(tmp_path: Path) -> None:
    cols = col("預金種目", field="account_type", values={"普通": "1", "当座": "2"})
    head = HEAD.replace("juminhyo_request", "koza_furikae")
    lay = load_layout(layout_file(tmp_path, head, cols))
    out = render(lay, KOZA, [row(account_type="貯蓄"), row(account_type="当座")],
                 run_id="R", today=TODAY)
    assert out.data.decode("cp932") == "預金種目\r\n2\r\n"
    assert out.problems[0].message_ja == "「貯蓄」に対応するコードが変換表にありません"


# -- the layout files --------------------------------------------------------------------------


def test_shipped_layouts_are_valid_one_per_form_and_a_fixed_length_one() -> None:
    layouts = [load_layout(p) for d in packaged_exports_dirs() for p in sorted(d.glob("*.toml"))]
    assert {lay.form for lay in layouts} == set(LIB.ids)
    for lay in layouts:
        assert layout_problems(lay, LIB.get(lay.form)) == [], lay.source
        assert lay.layout.modelled_on, f"{lay.source}: say what it is modelled on"
    fixed = {lay.id: sum(c.width or 0 for c in lay.columns) for lay in layouts
             if lay.layout.record == "fixed"}
    assert fixed == {"koza_furikae_zengin": 120, "juminhyo_request_juki": 200}


def test_zengin_record_of_the_shipped_layout(tmp_path: Path) -> None:
    lay = next(load_layout(p) for d in packaged_exports_dirs()
               for p in d.glob("koza_furikae_zengin.toml"))
    values = {"bank_code": "0005", "branch_code": "1", "account_type": "普通",
              "account_number": "1234567", "holder_kana": "アベ アオリ", "payer_number": "12345678"}
    out = render(lay, KOZA, [row(**values)], run_id="R", today=TODAY)
    record = out.data
    assert len(record) == 122 and record.endswith(b"\r\n")
    assert record[:4 + 1] == b"20005" and record[20:23] == b"001"
    assert record[42:43] == b"1" and record[43:50] == b"1234567"
    assert record[50:80].decode("cp932") == "ｱﾍﾞ ｱｵﾘ".ljust(30)
    assert record[80:91] == b"00000000001" and record[91:111] == b"12345678".rjust(20, b"0")


def test_every_problem_of_a_layout_is_named(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    cols = (col("a", field="nosuch") + col("b", field="name", date="yyyymmdd")
            + col("c", field="relation", values={"本人": "1"})
            + col("d", field="cert_juminhyo", values={"1": "1"}))
    path = layout_file(tmp_path, HEAD, cols)
    assert main(["exports", "check", str(path)]) == ExitCode.CONFIG
    err = capsys.readouterr().err
    assert "columns.0 (a).field: form juminhyo_request has no field 'nosuch'" in err
    assert "columns.1 (b).date: field name is a name, not a date" in err
    assert "no code for option(s) 同一世帯員, 代理人" in err
    assert "a checkbox needs codes for exactly" in err

    broken = layout_file(tmp_path, HEAD + 'record = "fixed"\nrecord_length = 10\n',
                         col("x", value="1", width=3) + col("y", field="name"), "b.toml")
    with pytest.raises(ExportLayoutError) as exc:
        load_layout(broken)
    assert "needs a width for y" in str(exc.value)
    assert main(["exports", "check", str(broken)]) == ExitCode.CONFIG

    ok = next(p for d in packaged_exports_dirs() for p in d.glob("*.toml"))
    assert main(["exports", "check", str(ok)]) == 0
    assert ": ok — layout" in capsys.readouterr().out


def test_a_personal_number_goes_only_where_the_configuration_allows(tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    forms.mkdir()
    text = (LIB.get("juminhyo_request").source.read_text(encoding="utf-8")
            .replace('id = "juminhyo_request"', 'id = "kojin_test"')
            .replace('blank = "juminhyo_request.png"', "")
            + '\n[[fields]]\nname = "mynumber"\nlabel = "個人番号"\ntype = "mynumber"\n'
            'box = [44.0, 131.0, 120.0, 12.0]\n')
    (forms / "kojin_test.toml").write_text(text, encoding="utf-8")
    template = TemplateLibrary.from_dirs([forms]).get("kojin_test")
    lay = load_layout(layout_file(tmp_path, HEAD.replace("juminhyo_request", "kojin_test"),
                                  col("個人番号", field="mynumber")))
    (problem,) = layout_problems(lay, template)
    assert "個人番号" in problem and "mynumber_targets" in problem
    assert layout_problems(lay, template, ("住民記録システム",)) == []
