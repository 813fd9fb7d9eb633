"""The vocabulary Charter reads is fideslang's: its snapshot equals the installed fideslang, term for term.

Charter reads fideslang's defaults from ``charter/taxonomy/fideslang_defaults.yaml``
so a serving process does not load fideslang's models (charter.taxonomy.snapshot).
When fideslang is upgraded this fails until ``python -m charter.taxonomy.snapshot``
is run again.
"""

from __future__ import annotations

import subprocess
import sys

from charter.taxonomy.model import Kind, default_taxonomy
from charter.taxonomy.snapshot import from_fideslang, stored


def test_the_snapshot_is_the_installed_fideslangs_vocabulary() -> None:
    assert stored() == from_fideslang(), "fideslang changed: run `python -m charter.taxonomy.snapshot`"


def test_the_default_taxonomy_holds_every_fideslang_term_as_fideslang_names_it() -> None:
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    taxonomy = default_taxonomy()
    sources = {
        Kind.DATA_CATEGORY: DEFAULT_TAXONOMY.data_category,
        Kind.DATA_USE: DEFAULT_TAXONOMY.data_use,
        Kind.DATA_SUBJECT: DEFAULT_TAXONOMY.data_subject,
    }
    for kind, items in sources.items():
        for item in items:
            term = taxonomy.get(kind, item.fides_key)
            assert term is not None, item.fides_key
            if term.origin == "fideslang":  # Charter's extensions may restate a term; theirs win, as before
                assert (term.name, term.description) == (item.name or item.fides_key, item.description or "")


def test_building_the_default_taxonomy_does_not_load_fideslang() -> None:
    code = (
        "import sys; from charter.taxonomy.model import default_taxonomy; default_taxonomy(); "
        "print(sorted(m for m in sys.modules if m.startswith('fideslang')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
