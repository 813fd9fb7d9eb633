"""Reading statement files: every bad input is one clear, located problem."""

from __future__ import annotations

import pytest

from charter.errors import InputTooLarge, PolicyInvalid
from charter.policy.loader import load

MINIMAL = """\
charter: 1
version: "2024-01-01"
effective: 2024-01-01
organization: {name: Acme Ltd, short_name: Acme}
definitions: {personal_information: Data about an identifiable person.}
"""


def problems_of(text: str, **limits: int) -> list[str]:
    with pytest.raises(PolicyInvalid) as caught:
        load(text, source="s.yaml", **limits)
    return [p.render() for p in caught.value.problems]


def test_minimal_statement_loads() -> None:
    loaded = load(MINIMAL, source="s.yaml")
    assert loaded.statement.organization.short_name == "Acme"


def test_malformed_yaml_names_line_and_column() -> None:
    [line] = problems_of(MINIMAL + "purposes: [a, b\n")
    assert line.startswith("s.yaml:7:") and "malformed YAML" in line


def test_wrong_type_names_the_field() -> None:
    [line] = problems_of(MINIMAL.replace("2024-01-01\norg", "yesterday\norg"))
    assert line.startswith("s.yaml:3:") and "effective" in line


def test_unknown_field_suggests_the_right_one() -> None:
    [line] = problems_of(MINIMAL + "purpose: []\n")
    assert line == "s.yaml:6:1: purpose: unknown field 'purpose'; did you mean 'purposes'?"


def test_missing_required_field() -> None:
    [line] = problems_of(
        MINIMAL.replace("definitions: {personal_information: Data about an identifiable person.}\n", "")
    )
    assert "definitions: required field is missing" in line


def test_duplicate_keys_are_refused() -> None:
    [line] = problems_of(MINIMAL + "title: A\ntitle: B\n")
    assert "s.yaml:7:1: title: duplicate key 'title'" in line


def test_merge_keys_are_refused() -> None:
    lines = problems_of(MINIMAL + "base: &b {a: 1}\nother:\n  <<: *b\n")
    assert any("merge keys" in line for line in lines)


def test_a_file_over_the_size_limit_is_refused_before_parsing() -> None:
    big = MINIMAL + "introduction: " + "x" * (10 * 1024 * 1024) + "\n"
    with pytest.raises(InputTooLarge, match="at most 1,000,000 bytes"):
        load(big, source="s.yaml")


def test_a_yaml_bomb_is_refused() -> None:
    """Billion laughs: nine levels of nine aliases would expand to 387 million strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    with pytest.raises(InputTooLarge, match="expands to more than"):
        load("\n".join(lines), source="bomb.yaml")


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(InputTooLarge, match="nests more than"):
        load("a: " + "[" * 100 + "]" * 100, source="deep.yaml")


def test_not_utf8() -> None:
    [line] = problems_of("title: caf\xe9".encode("latin-1"))  # type: ignore[arg-type]
    assert "not UTF-8" in line


def test_empty_and_non_mapping_documents() -> None:
    assert "empty" in problems_of("")[0]
    assert "must be a mapping" in problems_of("- a\n- b\n")[0]


def test_very_deep_nesting_is_refused_without_crashing() -> None:
    """libyaml's composer recurses per level; 100,000 levels once overflowed the C stack."""
    with pytest.raises(InputTooLarge, match="nests more than"):
        load("[" * 100_000 + "]" * 100_000, source="deep.yaml")


def test_an_impossible_date_is_a_located_problem() -> None:
    [line] = problems_of(MINIMAL.replace("effective: 2024-01-01", "effective: 2019-02-30"))
    assert line.startswith("s.yaml:3:12: effective: bad value '2019-02-30'")
