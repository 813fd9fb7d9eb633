"""The erasure policy: data categories → strategies, as Fides users write it (issue 11, finding 1; P-RGT-3).

Resolution is pure (``charter.datamap.erasure_policy``); the checks and the
planner ask it, so what the check says, the plan does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from charter.datamap.erasure_policy import Resolver
from charter.datamap.errors import DatamapInvalid
from charter.datamap.schema import fides_erasure
from charter.execution import plan
from charter.requests.kinds import RequestKind
from tests.datamap.conftest import BASE, Check, rendered

Write = Callable[[str, str], Path]

POLICY = """\
erasure_policy:
  key: shop_erasure
  name: Shop erasure
  rules:
    - key: mask_contact
      action_type: erasure
      masking_strategy: {strategy: hash, configuration: {algorithm: SHA-256}}
      targets: [{data_category: user.contact}]
    - key: null_the_rest
      action_type: erasure
      masking_strategy: {strategy: null_rewrite}
      targets: [{data_category: user}]
    - key: copy_everything
      action_type: access
      storage_destination: local_storage
      targets: [{data_category: user}]
"""

PERSONAL = BASE.replace(
    "            fides_meta: {identity: email}\n",
    "            fides_meta: {identity: email}\n"
    "          - name: phone\n"
    "            data_categories: [user.contact.phone_number]\n"
    "          - name: nickname\n"
    "            data_categories: [user.name]\n"
    "          - name: signup_source\n"
    "            data_categories: [system.operations]\n",
)


def _fields(check: Check, path: Path) -> dict[str, tuple[str | None, str]]:
    report = check(path)
    customers = report.datamap.collection("shop.customers")
    assert customers is not None
    resolver = Resolver(report.datamap)
    out = {}
    for entry in customers.fields.values():
        decided = resolver.field(customers, entry, set())
        out[entry.name] = (decided.erasure.strategy if decided.erasure else None, decided.why)
    return out


def test_without_a_policy_every_user_field_is_nulled_and_identities_get_a_token(write: Write, check: Check) -> None:
    fields = _fields(check, write("shop.yaml", PERSONAL))
    assert fields["email"][0] == "random_token" and "identity field" in fields["email"][1]
    assert fields["phone"][0] == "set_null" and "Charter's default erasure policy" in fields["phone"][1]
    assert fields["nickname"][0] == "set_null"
    assert fields["signup_source"] == (None, "not personal data (no user.* category)")
    assert fields["id"][0] is None and "primary key" in fields["id"][1]


def test_the_most_specific_rule_wins_and_access_rules_are_ignored(write: Write, check: Check) -> None:
    write("policy.yaml", POLICY)
    fields = _fields(check, write("shop.yaml", PERSONAL).parent)
    assert fields["phone"][0] == "keyed_hash" and "rule 'mask_contact' (user.contact)" in fields["phone"][1]
    assert fields["nickname"][0] == "set_null" and "rule 'null_the_rest' (user)" in fields["nickname"][1]
    assert fields["email"][0] == "random_token"  # an identity, whatever rule covers its category


def test_the_plan_says_per_field_what_a_deletion_does_and_why(write: Write, check: Check) -> None:
    write("policy.yaml", POLICY)
    report = check(write("shop.yaml", PERSONAL).parent)
    result = plan.build(report.datamap, plan.PlanRequest("r1", RequestKind.DELETION, {"email": ["a@example.org"]}))
    [erase] = [s for s in result.steps if s.action.value == "erase" and s.collection == "shop.customers"]
    shown = {f.field: (f.strategy, f.why) for f in erase.fields}
    assert shown["phone"] == ("keyed_hash", "the data map's erasure policy, rule 'mask_contact' (user.contact)")
    assert set(shown) == {"email", "phone", "nickname"}


def test_two_equally_specific_rules_that_disagree_are_an_error_not_a_pick(write: Write, check: Check) -> None:
    write(
        "policy.yaml",
        """\
        erasure_policy:
          rules:
            - {key: a, masking_strategy: {strategy: null_rewrite}, targets: [{data_category: user.name}]}
            - {key: b, masking_strategy: {strategy: string_rewrite, configuration: {rewrite_value: x}},
               targets: [{data_category: user.name}]}
        """,
    )
    [line] = rendered(check(write("shop.yaml", PERSONAL).parent))
    assert "ambiguous erasure: rule 'a' (user.name) gives set_null; rule 'b' (user.name) gives redact_text" in line


@pytest.mark.parametrize(
    ("strategy", "configuration", "message"),
    [
        ("aes_encrypt", {}, "aes_encrypt is reversible"),
        ("hash", {"algorithm": "SHA-512"}, "algorithm 'SHA-512' is not supported"),
        ("random_string_rewrite", {"format_preservation": {"suffix": "@x"}}, "'format_preservation' is not supported"),
        ("string_rewrite", {"rewrite_value": "x", "colour": "red"}, "configuration colour is not supported"),
    ],
)
def test_fides_configuration_is_honoured_or_refused_by_name(
    strategy: str, configuration: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fides_erasure(strategy, configuration)


def test_fides_configuration_that_charter_honours() -> None:
    assert fides_erasure("string_rewrite", {"rewrite_value": "MASKED"}).replacement == "MASKED"
    assert fides_erasure("random_string_rewrite", {"length": 32}).length == 32
    assert fides_erasure("hmac", {"algorithm": "sha_256"}).strategy == "keyed_hash"
    assert fides_erasure("delete", None).strategy == "delete_row"


def test_a_refused_strategy_in_a_policy_is_reported_at_its_line(write: Write, check: Check) -> None:
    write("policy.yaml", POLICY.replace("{strategy: null_rewrite}", "{strategy: aes_encrypt}"))
    with pytest.raises(DatamapInvalid) as raised:
        check(write("shop.yaml", PERSONAL).parent)
    [problem] = raised.value.problems
    assert problem.line == 11 and "aes_encrypt is reversible" in problem.message


def test_an_unknown_target_category_is_an_error_with_a_suggestion(write: Write, check: Check) -> None:
    write("policy.yaml", POLICY.replace("data_category: user.contact}", "data_category: user.contakt}"))
    [line] = rendered(check(write("shop.yaml", PERSONAL).parent))
    assert "erasure_policy.rules[0].targets[0].data_category: unknown data category 'user.contakt'" in line
    assert "did you mean 'user.contact'?" in line


def test_keeping_data_needs_a_reason(write: Write, check: Check) -> None:
    text = PERSONAL.replace("      - name: orders\n", "      - name: orders\n        charter: {erasure: keep}\n")
    with pytest.raises(DatamapInvalid) as raised:
        check(write("shop.yaml", text))
    assert "keep needs a reason" in raised.value.problems[0].message


def test_a_map_under_which_a_deletion_erases_nothing_is_an_error(write: Write, check: Check) -> None:
    """Finding 1's root: a map that passes, and a deletion that changes nothing in any store."""
    text = BASE.replace(
        "data_categories: [user.contact.email]\n            fides_meta: {identity: email}",
        "fides_meta: {identity: email}",
    )
    text = text.replace(
        "      - name: customers\n",
        "      - name: customers\n        charter: {erasure: {strategy: keep, reason: audit}}\n",
    )
    lines = rendered(check(write("shop.yaml", text)))
    assert any("a deletion erases nothing at all" in line for line in lines)


def test_an_identity_a_deletion_cannot_change_is_an_error(write: Write, check: Check) -> None:
    text = BASE.replace("fides_meta: {identity: email}", "fides_meta: {identity: email, read_only: true}")
    lines = rendered(check(write("shop.yaml", text)))
    assert any("identity field 'email' would keep the person's email after a deletion (read_only" in x for x in lines)


def test_personal_data_left_untouched_is_a_warning(write: Write, check: Check) -> None:
    nickname = "          - name: nickname\n            data_categories: [user.name]\n"
    text = PERSONAL.replace(nickname, nickname + "            fides_meta: {read_only: true}\n")
    [line] = rendered(check(write("shop.yaml", text)), "warning")
    assert "a deletion leaves personal data here untouched: nickname (read_only in the data map)" in line
