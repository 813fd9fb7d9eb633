"""In-process decisions per second, state in memory, against naive baselines in the same run.

Workload: 10,000 people with varied standing (consents, opt-outs, signals,
restrictions, ages) and a pool of realistic requests on West's 2023
statement, drawn at random. Figures (JSON):

- ``engine``: ``decide`` with the compiled statement (one core, one process);
- ``baseline_reread``: re-reading the statement file per call, as a service
  that loads its policy on every use would (the issue's naive baseline);
- ``baseline_recompile``: recompiling the parsed statement per call (no tables kept).

Run: ``.venv/bin/python bench/decisions_bench.py [--decisions N]``.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from charter.decisions import DecisionRequest, PersonState, compile_statement, decide
from charter.ledger.events import Event
from charter.ledger.projection import project
from charter.policy.loader import load

STATEMENT = Path(__file__).resolve().parent.parent / "examples" / "west" / "statement-2023.yaml"
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def people(count: int, purposes: list[str], rng: random.Random) -> list[PersonState]:
    kinds = ["consent.given", "consent.withdrawn", "purpose.opted_out", "processing.restricted"]
    states = []
    for _ in range(count):
        events = []
        for minute in range(rng.randint(0, 8)):
            at = NOW - timedelta(days=10, minutes=-minute)
            roll = rng.random()
            if roll < 0.6:
                events.append(
                    Event(kind=rng.choice(kinds), at=at, source="api", data={"purpose": rng.choice(purposes)})
                )
            elif roll < 0.75:
                events.append(Event(kind="signal.gpc", at=at, source="browser_signal", data={"on": True}))
            elif roll < 0.9:
                events.append(Event(kind="age.attested", at=at, source="api", data={"age": rng.randint(10, 80)}))
            else:
                events.append(Event(kind="email.unsubscribed", at=at, source="email_link"))
        states.append(project(events))
    return states


def requests(purposes: list[str], rng: random.Random) -> list[DecisionRequest]:
    categories = [
        ("user.contact.email",),
        ("user.name", "user.contact.email"),
        ("user.device.cookie_id",),
        ("user.cpni.billing",),
        ("user.behavior",),
    ]
    pool = []
    for purpose in purposes:
        for cats in categories:
            pool.append(DecisionRequest(purpose, cats, NOW, channel=rng.choice([None, "email"])))
    pool.append(
        DecisionRequest(
            "provide_services", ("user.contact.email",), NOW, action="transfer", origin="CN", destination="US"
        )
    )
    pool.append(
        DecisionRequest("share_with_client", ("user.contact.email",), NOW, action="disclose", recipient="clients")
    )
    pool.append(DecisionRequest("provide_services", ("user.contact.email",), NOW, action="collect"))
    return pool


def rate(count: int, run: object) -> float:
    start = time.perf_counter()
    run()  # type: ignore[operator]
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--baseline-decisions", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(7)
    text = STATEMENT.read_text()
    statement = load(text, source=str(STATEMENT)).statement
    compiled = compile_statement(statement)
    purposes = sorted(compiled.purposes)
    states = people(10_000, purposes, rng)
    pool = requests(purposes, rng)
    work = [(rng.choice(pool), rng.choice(states)) for _ in range(args.decisions)]
    allowed = sum(decide(r, compiled, s).allowed for r, s in work[:10_000])  # warm the tables

    def engine() -> None:
        for request, state in work:
            decide(request, compiled, state)

    def reread() -> None:
        for request, state in work[: args.baseline_decisions]:
            decide(request, compile_statement(load(STATEMENT.read_text(), source="s").statement), state)

    def recompile() -> None:
        for request, state in work[: args.baseline_decisions * 10]:
            decide(request, compile_statement(statement), state)

    engine_rate = rate(len(work), engine)
    reread_rate = rate(args.baseline_decisions, reread)
    recompile_rate = rate(args.baseline_decisions * 10, recompile)
    print(
        json.dumps(
            {
                "decisions": len(work),
                "distinct_requests": len(pool),
                "people": len(states),
                "allowed_share_of_first_10k": round(allowed / 10_000, 3),
                "engine_decisions_per_s": round(engine_rate),
                "baseline_reread_per_s": round(reread_rate, 1),
                "baseline_recompile_per_s": round(recompile_rate, 1),
                "ratio_vs_reread": round(engine_rate / reread_rate),
                "ratio_vs_recompile": round(engine_rate / recompile_rate),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
