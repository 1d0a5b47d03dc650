"""docs/templates.md documents every template key, type, check kind and group rule.

The reference is what a clerk reads to write a template from a paper form, so a key the
schema accepts but the page does not explain is a defect: this test walks the pydantic
models of ``ocr.templates`` (not a list kept here) and fails naming the missing key.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ocr.templates import (
    CHECK_KINDS,
    GROUP_RULES,
    ChoiceOption,
    CrossCheck,
    Decor,
    FieldSpec,
    FieldType,
    FormTemplate,
)

DOC = Path(__file__).resolve().parent.parent / "docs" / "templates.md"


def _sections() -> dict[str, str]:
    """Text of each ``##``/``###`` section of the reference, by heading."""
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^#{2,3} (.+)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def _table_keys(section: str) -> set[str]:
    """Keys named in the first column of the section's tables: ``| `key` | ...``."""
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


def _keys(model: type) -> set[str]:
    return {k for k, f in model.model_fields.items() if not f.exclude}


HEADER = FormTemplate.model_fields["form"].annotation

CASES = [
    ("[form]", HEADER),
    ("[[fields]]", FieldSpec),
    ("options", ChoiceOption),
    ("[[checks]]", CrossCheck),
    ("[[decor]]", Decor),
]


@pytest.mark.parametrize(("section", "model"), CASES, ids=[c[0] for c in CASES])
def test_every_key_of_the_schema_is_in_its_section(section: str, model: type) -> None:
    documented = _table_keys(_sections()[section])
    missing = sorted(_keys(model) - documented)
    assert not missing, f"docs/templates.md, section {section}: document {missing}"
    unknown = sorted(documented - _keys(model))
    assert not unknown, f"docs/templates.md, section {section}: no such key {unknown}"


def test_every_top_level_table_has_a_section() -> None:
    sections = _sections()
    for key in _keys(FormTemplate):
        heading = f"[[{key}]]" if key in ("fields", "checks", "decor") else f"[{key}]"
        assert heading in sections, f"docs/templates.md: no section {heading}"


def test_every_type_check_kind_and_group_rule_is_documented() -> None:
    sections = _sections()
    assert _table_keys(sections["Types"]) == {t.value for t in FieldType}
    assert set(CHECK_KINDS) == _table_keys(sections["check kinds"])
    assert set(GROUP_RULES) == _table_keys(sections["[groups]"])


def test_the_example_in_the_reference_is_a_valid_template(tmp_path: Path) -> None:
    from ocr.templates import load_template

    text = DOC.read_text(encoding="utf-8")
    example = re.search(r"```toml\n(# 口座振替依頼書.*?)```", text, flags=re.DOTALL)
    assert example is not None
    body = example.group(1).replace('blank = "koza_other.png"', "")
    body = body.replace("blank_dpi = 300                   # the resolution it was scanned "
                        "at (checked)\n", "")
    # the example's fields are a sketch: complete the two it names in its check
    body += ('\n[[fields]]\nname = "bank_code"\nlabel = "金融機関コード"\ntype = "bank_code"\n'
             'box = [48.0, 100.0, 30.0, 9.0]\n\n[[fields]]\nname = "branch_code"\n'
             'label = "店番"\ntype = "branch_code"\nbox = [110.0, 100.0, 24.0, 9.0]\n'
             '\n[[fields]]\nname = "tax_a"\nlabel = "町民税"\ntype = "checkbox"\n'
             'box = [50.0, 120.0, 4.5, 4.5]\ngroup = "taxes"\n'
             '\n[[fields]]\nname = "tax_b"\nlabel = "固定資産税"\ntype = "checkbox"\n'
             'box = [90.0, 120.0, 4.5, 4.5]\ngroup = "taxes"\n')
    path = tmp_path / "koza_other.toml"
    path.write_text(body, encoding="utf-8")
    t = load_template(path)
    assert t.groups == {"account_type": "exactly_one", "taxes": "any"}
