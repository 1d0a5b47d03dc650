"""World two: another town's forms, fonts and folded letters, with templates from the blanks.

The reader is never tuned on this world; these tests only check that the world is what it
says (its truth fits its templates, its values have the styles it promises) and that a page
of it is identified and read end to end without a QR code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ocr.fields import ReadOptions
from ocr.pipeline import PipelineOptions, Reader
from ocr.templates import TemplateLibrary
from robots.samples import SAMPLE_TODAY
from robots.samples.world2 import FORMS_DIR, fill, generate_world2
from robots.samples.world2.designs import DESIGNS

WORLD_ONE = sorted(Path("scenarios").glob("*/forms"))


@pytest.fixture(scope="module")
def library() -> TemplateLibrary:
    return TemplateLibrary.from_dirs([*WORLD_ONE, FORMS_DIR])


@pytest.mark.parametrize("form", sorted(DESIGNS))
def test_truth_names_every_field_of_the_template_and_obeys_its_groups(
        form: str, library: TemplateLibrary) -> None:
    t = library.get(form)
    for i in range(20):
        printed, truth = fill(DESIGNS[form], np.random.default_rng([4, i]))
        assert set(truth) == {f.name for f in t.fields}
        for group, rule in t.groups.items():
            marked = sum(truth[m.name] == "1" for m in t.group_members(group))
            assert {"exactly_one": marked == 1, "at_most_one": marked <= 1,
                    "any": marked >= 1}[rule], (form, group, marked)
        for f in t.fields:
            if f.type.value == "postal_code" and printed[f.name]:
                assert printed[f.name].startswith("〒")
            if f.type.value in ("name", "kana") and printed[f.name]:
                assert "\u3000" in printed[f.name]


def test_variant_surnames_are_printed_and_kept_in_the_truth() -> None:
    seen = set()
    for i in range(300):
        _, truth = fill(DESIGNS["w2_inkan_toroku"], np.random.default_rng([9, i]))
        seen |= set(truth["name"]) & set("髙﨑齋邉櫻")
    assert seen >= {"髙", "﨑"}


def test_a_folded_page_without_qr_is_identified_and_read(library: TemplateLibrary,
                                                         tmp_path: Path) -> None:
    scan = generate_world2("w2_jumin_ido", count=1, seed=3, out_dir=tmp_path, level=1)[0]
    truth = json.loads(scan.with_suffix(".json").read_text(encoding="utf-8"))["fields"]
    reader = Reader(library, PipelineOptions(read=ReadOptions(today=SAMPLE_TODAY)))
    page = reader.read_file(scan).pages[0]
    assert (page.form, page.identified_by) == ("w2_jumin_ido", "registration")
    got = {f.name: f.value for f in page.fields}
    right = sum(got[k] == v for k, v in truth.items())
    assert right >= len(truth) - 3  # a report, not a tuning target: most fields are read


def test_same_seed_same_scan(tmp_path: Path) -> None:
    a = generate_world2("w2_koza_furikae", count=1, seed=5, out_dir=tmp_path / "a",
                        level=2, fmt="png")[0]
    b = generate_world2("w2_koza_furikae", count=1, seed=5, out_dir=tmp_path / "b",
                        level=2, fmt="png")[0]
    assert a.read_bytes() == b.read_bytes()
