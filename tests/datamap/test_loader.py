"""Reading data-map files: Fides datasets load unchanged; malformed files point at the line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from fideslang.models import Dataset as FidesDataset

from charter.datamap.errors import DatamapInvalid
from charter.errors import InputTooLarge
from tests.conftest import EXAMPLES
from tests.datamap.conftest import BASE, DATA, Check, rendered

WEST = EXAMPLES / "datamap"
Write = Callable[[str, str], Path]


def test_the_west_data_map_is_valid_and_clean(check: Check) -> None:
    report = check(WEST)
    assert [f.render() for f in report.findings] == []
    assert sorted(report.datamap.systems) == ["shop", "support"]
    assert sum(1 for _ in report.datamap.collections()) == 7


def test_the_west_datasets_are_valid_fides_datasets() -> None:
    for path in sorted((WEST / "datasets").glob("*.yaml")):
        for item in yaml.safe_load(path.read_text())["dataset"]:
            FidesDataset.model_validate(item)


def test_a_fides_example_dataset_loads_unchanged(check: Check) -> None:
    path = DATA / "fides_example.yml"
    for item in yaml.safe_load(path.read_text())["dataset"]:
        FidesDataset.model_validate(item)  # Fides accepts it ...
    report = check(path)  # ... and so does Charter, as it is
    assert rendered(report) == []
    # the one warning: personal data in nested fields, which a deletion cannot rewrite (P-RGT-3)
    [warned] = rendered(report, "warning")
    assert "mongo_test" in warned or "dataset[1].collections[0]" in warned
    assert "workplace_info.employer (nested field: Charter rewrites top-level columns only)" in warned
    customer = report.datamap.collection("postgres_example_test_dataset.customer")
    assert customer is not None and customer.fields[("name",)].model.meta.masking_strategy_override is not None
    details = report.datamap.collection("mongo_test.customer_details")
    assert details is not None and ("workplace_info", "employer") in details.fields
    assert report.datamap.datasets["postgres_example_test_dataset"].model.schema_name == "public"


def test_a_misspelt_key_is_named_with_a_suggestion(write: Write, check: Check) -> None:
    path = write(
        "shop.yaml", BASE.replace("data_categories: [user.contact.email]", "data_categoris: [user.contact.email]")
    )
    with pytest.raises(DatamapInvalid) as caught:
        check(path)
    [problem] = caught.value.problems
    assert problem.render() == (
        f"{path}:14:13: dataset[0].collections[0].fields[1].data_categoris: "
        "unknown field 'data_categoris'; did you mean 'data_categories'?"
    )


def test_an_unknown_strategy_is_named_with_a_suggestion(write: Write, check: Check) -> None:
    text = BASE.replace(
        "fides_meta: {identity: email}", "fides_meta: {identity: email}\n            charter: {erasure: set-null}"
    )
    with pytest.raises(DatamapInvalid) as caught:
        check(write("shop.yaml", text))
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (16, 23)
    assert problem.path.startswith("dataset[0].collections[0].fields[1].charter.erasure")
    assert "unknown erasure strategy 'set-null'; did you mean 'set_null'?" in problem.message


def test_problems_of_every_file_are_reported_together(write: Write, check: Check) -> None:
    write("a.yaml", "dataset: [{fides_key: a, collections: [{name: c, fields: [{nme: x}]}]}]\n")
    write("b.yaml", "systems:\n  - id: s\n    kind: sql\n    url: postgresql://u:secret@h/db\n    datasets: [a]\n")
    with pytest.raises(DatamapInvalid) as caught:
        check(Path(write("c.yaml", "dataset: [\n").parent))
    lines = [p.render() for p in caught.value.problems]
    assert len(lines) == 4, lines
    assert any("a.yaml:1:" in line and "'nme'" in line for line in lines)
    assert any("b.yaml:4:5: systems[0].url: a literal url is allowed for SQLite files only" in line for line in lines)
    assert any("c.yaml:2:1: malformed YAML" in line for line in lines)
    assert all("secret" not in line for line in lines)


def test_a_system_needs_exactly_one_url(write: Write, check: Check) -> None:
    path = write("s.yaml", "systems: [{id: s, kind: sql, datasets: [a]}]\n")
    with pytest.raises(DatamapInvalid, match="problem") as caught:
        check(path)
    assert "exactly one of url_env" in caught.value.problems[0].message


def test_an_alias_bomb_is_refused(write: Write, check: Check) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    with pytest.raises(InputTooLarge, match="YAML nodes"):
        check(write("bomb.yaml", "\n".join(lines) + "\n"))


def test_a_missing_path_is_invalid_input(tmp_path: Path, check: Check) -> None:
    with pytest.raises(DatamapInvalid, match="does not exist"):
        check(tmp_path / "nowhere")
