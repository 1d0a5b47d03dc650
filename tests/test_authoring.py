"""Writing a template for a form nobody here designed: the checks and warnings a clerk gets.

Real files throughout: templates written to disk, blank images as PNG, the real CLI in-process.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr.authoring import draw_overlay, library_warnings, template_warnings
from ocr.crosscheck import check_groups, cross_check
from ocr.errors import TemplateError
from ocr.templates import load_template
from robots.cli import main

KOZA = Path(__file__).resolve().parent.parent / "robots/samples/world2/forms"


def _copy_form(tmp: Path, name: str = "w2_koza_furikae") -> Path:
    for ext in (".toml", ".png"):
        shutil.copy(KOZA / f"{name}{ext}", tmp / f"{name}{ext}")
    return tmp / f"{name}.toml"


def _config(tmp: Path, forms: Path) -> Path:
    forms.mkdir(exist_ok=True)
    cfg = tmp / "config.toml"
    cfg.write_text(f'forms_dirs = ["{forms}"]\n', encoding="utf-8")
    return cfg


def test_a_world_two_template_checks_clean_and_draws_its_overlay(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture
                                                                 ) -> None:
    path = _copy_form(tmp_path)
    out = tmp_path / "overlay.png"
    code = main(["--config", str(_config(tmp_path, tmp_path / "none")), "forms", "check",
                 str(path), "--overlay", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "ok — form w2_koza_furikae" in text and "2 checkbox group(s)" in text
    img = cv2.imread(str(out))
    assert img is not None and img.shape[:2] == (round(297 / 25.4 * 150), round(210 / 25.4 * 150))
    # the overlay draws in colour over a grey blank: purple group boxes, red anchors are there
    purple = (img[:, :, 0] > 140) & (img[:, :, 1] < 60) & (img[:, :, 2] > 140)
    red = (img[:, :, 2] > 200) & (img[:, :, 1] < 60) & (img[:, :, 0] < 60)
    assert purple.sum() > 100 and red.sum() > 100


def test_a_stretched_blank_is_named_with_its_proportions(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    path = _copy_form(tmp_path)
    png = path.with_suffix(".png")
    img = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    cv2.imwrite(str(png), img[: int(img.shape[0] * 0.9)])  # the bottom tenth cut off by a scan
    code = main(["--config", str(_config(tmp_path, tmp_path / "none")), "forms", "check",
                 str(path)])
    text = capsys.readouterr().out
    assert code == 2
    assert "would be stretched by 11.1%" in text
    assert "form.blank_dpi:" in text and "2480x3508" in text  # A4 at 300 dpi, as promised


def test_a_duplicate_title_across_forms_dirs_is_named(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    town = tmp_path / "town_forms"
    town.mkdir()
    _copy_form(town)
    mine = tmp_path / "mine"
    mine.mkdir()
    path = _copy_form(mine)
    text = path.read_text(encoding="utf-8").replace('id = "w2_koza_furikae"', 'id = "koza_new"')
    path.write_text(text, encoding="utf-8")
    code = main(["--config", str(_config(tmp_path, town)), "forms", "check", str(path)])
    out = capsys.readouterr().out
    assert code == 2
    assert "form.title: '町税・料金 口座振替依頼書' (koza_new" in out
    assert "also the title of w2_koza_furikae" in out


def test_library_warnings_name_duplicate_ids_in_two_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = load_template(_copy_form(tmp_path / "a"))
    b = load_template(_copy_form(tmp_path / "b"))
    found = library_warnings([a, b])
    assert any("form.id: 'w2_koza_furikae' is defined in" in w for w in found)


def test_keys_that_do_nothing_are_named(tmp_path: Path) -> None:
    path = _copy_form(tmp_path)
    text = path.read_text(encoding="utf-8")
    text = text.replace('group = "account_type"\nheader = "預金種目 普通"',
                        'group = "account_type"\nheader = "預金種目 普通"\nlabel_width = 10.0', 1)
    text = text.replace('blank = "w2_koza_furikae.png"\n', "")
    path.write_text(text, encoding="utf-8")
    found = template_warnings(load_template(path))
    assert any("label_width: a checkbox has no label cell" in w for w in found)
    assert any("form.blank_dpi: does nothing without form.blank" in w for w in found)


def test_a_group_without_its_rule_or_with_one_box_stops_the_template(tmp_path: Path) -> None:
    path = _copy_form(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('taxes = "any"\n', ""), encoding="utf-8")
    with pytest.raises(TemplateError, match="'taxes' is not in \\[groups\\]"):
        load_template(path)
    path.write_text(text.replace('taxes = "any"\n', 'taxes = "any"\nlonely = "any"\n'),
                    encoding="utf-8")
    with pytest.raises(TemplateError, match=r"groups\.lonely: a group needs two or more"):
        load_template(path)


def test_group_rules_flag_every_box_of_a_broken_group(tmp_path: Path) -> None:
    t = load_template(_copy_form(tmp_path))
    taxes = ["tax_resident", "tax_property", "tax_car", "tax_health", "tax_water"]
    ok = {"acct_futsu": "1", "acct_toza": "0", **dict.fromkeys(taxes, "0"), "tax_car": "1"}
    assert check_groups(t, ok) == {}
    both = {**ok, "acct_toza": "1"}
    got = check_groups(t, both)
    assert {n: [r.code for r in rs] for n, rs in got.items()} == {
        "acct_futsu": ["group_multiple"], "acct_toza": ["group_multiple"]}
    assert got["acct_futsu"][0].message == "1つだけ選ぶチェック欄に複数の印がある（account_type）"
    none = {**ok, "tax_car": "0"}
    assert sorted(check_groups(t, none)) == sorted(taxes)
    assert all(r[0].code == "group_empty" for r in check_groups(t, none).values())
    # a box already flagged on its own (absent from the values) leaves its group undecided
    partial = {k: v for k, v in both.items() if k != "acct_toza"}
    assert "acct_futsu" not in check_groups(t, partial)
    # cross_check carries the group reasons with the other cross-field checks
    assert "acct_toza" in cross_check(t, both)


def test_overlay_of_a_rendered_blank_has_an_anchor_on_every_corner_it_claims(
        tmp_path: Path) -> None:
    t = load_template(_copy_form(tmp_path))
    img = draw_overlay(t, 100.0)
    assert img.dtype == np.uint8 and img.shape[2] == 3
