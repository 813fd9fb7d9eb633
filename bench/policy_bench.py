"""How fast the statement pipeline is, against the naive way, in one run.

Prints JSON. Figures: load (positions + alias budget) + meaning checks,
render (md and html), diff 2019→2023, and the decision-relevant read of a
published version (cached parse), each against its baseline:

- load: ``yaml.safe_load`` + ``Statement.model_validate`` (no positions, no
  bomb guard, no meaning checks) — what a careless loader would do;
- read of a published version: re-validating the stored document each time
  (no memo) vs ``service.statement_of``.

Run: ``.venv/bin/python bench/policy_bench.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from charter.db import Database, migrate
from charter.policy import service
from charter.policy.check import ensure_valid
from charter.policy.diff import diff
from charter.policy.loader import load
from charter.policy.render import render
from charter.policy.schema import Statement
from charter.settings import PolicySettings

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "west"


def timed(fn: Callable[[], object], rounds: int) -> dict[str, float]:
    fn()  # warm up
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    p95 = sorted(samples)[max(0, int(rounds * 0.95) - 1)]
    return {"median_ms": round(statistics.median(samples), 4), "p95_ms": round(p95, 4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    rounds = parser.parse_args().rounds
    text_2019 = (EXAMPLES / "statement-2019.yaml").read_text()
    text_2023 = (EXAMPLES / "statement-2023.yaml").read_text()
    old = load(text_2019, source="2019").statement
    new = load(text_2023, source="2023").statement

    results: dict[str, object] = {
        "statement_bytes": len(text_2023.encode()),
        "rules": len(new.all_rules()),
        "load_and_check": timed(lambda: ensure_valid(load(text_2023, source="2023")), rounds),
        "baseline_safe_load_and_validate": timed(lambda: Statement.model_validate(yaml.safe_load(text_2023)), rounds),
        "render_md": timed(lambda: render(new, "md"), rounds),
        "render_html": timed(lambda: render(new, "html"), rounds),
        "diff_2019_2023": timed(lambda: diff(old, new), rounds),
    }
    with tempfile.TemporaryDirectory() as home:
        database = Database(f"sqlite:///{home}/bench.db")
        migrate(database)
        with database.session() as session:
            loaded = service.read_text(text_2023, source="2023", limits=PolicySettings())
            service.publish(session, loaded, text_2023, actor="bench")
        with database.session() as session:
            row = service.get(session, "2023-01-01")
            results["read_published_memoized"] = timed(lambda: service.statement_of(row), rounds * 20)
            results["baseline_read_published_revalidate"] = timed(
                lambda: Statement.model_validate(row.document), rounds
            )
        database.dispose()

    def ratio(ours: str, base: str) -> float:
        a = results[ours]["median_ms"]  # type: ignore[index]
        b = results[base]["median_ms"]  # type: ignore[index]
        return round(a / b, 2) if b else float("nan")

    results["ratios"] = {
        "load_and_check_vs_naive_load": ratio("load_and_check", "baseline_safe_load_and_validate"),
        "memoized_read_vs_revalidate": ratio("read_published_memoized", "baseline_read_published_revalidate"),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
