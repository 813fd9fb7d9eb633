"""The audit log on both backends: appending, verifying, tampering, concurrency, export."""

from __future__ import annotations

import dataclasses
import io
import json
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, delete, event, select, text, update
from sqlalchemy.orm import Session

from charter.audit import (
    GENESIS_HASH,
    Anchor,
    AuditEntry,
    ChainedEntry,
    Entry,
    Verification,
    check_chain,
    entries,
    export,
    gathered,
    read_export,
    record,
    record_many,
    verify,
)
from charter.audit.chain import canonical_json, timestamp
from charter.db import Database
from charter.errors import CharterError, InvalidInput

TABLE = cast(Table, AuditEntry.__table__)


def append(database: Database, count: int, *, action: str = "test.appended") -> list[str]:
    """Append ``count`` entries in one transaction; return their hashes."""
    with database.session() as session:
        return [
            record(session, actor="system", action=action, target=f"thing:{i}", data={"n": i}).hash
            for i in range(count)
        ]


def check(database: Database, anchor: Anchor | None = None) -> Verification:
    with database.session() as session:
        return verify(session, anchor=anchor)


def stored(database: Database) -> list[ChainedEntry]:
    with database.session() as session:
        return [e.chained() for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def change(database: Database, seq: int, **values: object) -> None:
    """Tamper as someone with database access would: below the ORM's guard."""
    with database.engine.begin() as conn:
        conn.execute(update(TABLE).where(TABLE.c.seq == seq).values(**values))


def remove(database: Database, seq: int) -> None:
    with database.engine.begin() as conn:
        conn.execute(delete(TABLE).where(TABLE.c.seq == seq))


def rehashed(entry: ChainedEntry, **changes: object) -> dict[str, object]:
    """Column values for ``entry`` with ``changes`` and a hash that matches them."""
    fields = {**entry.as_dict(), **changes}
    fields["hash"] = ChainedEntry(**fields).computed_hash()  # type: ignore[arg-type]
    fields["at"] = datetime.fromisoformat(str(fields["at"]))
    del fields["seq"]
    return fields


# --- appending and verifying -------------------------------------------------------------


def test_empty_log_verifies(database: Database) -> None:
    assert check(database) == Verification(ok=True, entries=0, first_bad_seq=None, reason=None, head_hash=None)


def test_appends_form_a_chain_that_verifies(database: Database) -> None:
    hashes = append(database, 3)

    rows = stored(database)
    assert [r.seq for r in rows] == [1, 2, 3]
    assert [r.prev_hash for r in rows] == [GENESIS_HASH, hashes[0], hashes[1]]
    assert all(r.computed_hash() == r.hash for r in rows)
    assert rows[0].data == {"n": 0}
    assert check(database) == Verification(ok=True, entries=3, first_bad_seq=None, reason=None, head_hash=hashes[2])


def test_appends_across_transactions_continue_the_chain(database: Database) -> None:
    first = append(database, 2)
    second = append(database, 2)
    assert [r.prev_hash for r in stored(database)][2] == first[1]
    assert check(database).head_hash == second[1]


def test_appends_in_one_transaction_read_the_head_once(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A transaction that appends several entries locks the chain and reads its head once, then continues
    from the entry it wrote last; the chain verifies."""
    from charter.audit import service

    append(database, 2)
    locked: list[str] = []
    for name in ("_lock_chain", "_locked_head_psycopg"):
        original = getattr(service, name)

        def counting(session: object, _original: object = original, _name: str = name) -> object:
            locked.append(_name)
            return _original(session)  # type: ignore[operator]

        monkeypatch.setattr(service, name, counting)
    append(database, 4)
    assert len(locked) == 1
    assert check(database).ok
    assert [e.seq for e in stored(database)] == [1, 2, 3, 4, 5, 6]


def test_several_entries_go_in_one_insert_chained_in_order(database: Database) -> None:
    """``record_many`` (a runner's batch of erasures) appends with one statement, chained as one by one would,
    and continues from the head another transaction left."""
    append(database, 1)
    sent: list[str] = []
    listen = lambda *args: sent.append(str(args[2]))  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(database.engine, "before_cursor_execute", listen)
    try:
        with database.session() as session:
            made = record_many(
                session, [Entry("executor", "execution.erase", "request:r1", {"n": n}) for n in range(3)]
            )
            record(session, actor="executor", action="execution.finished", target="request:r1")
    finally:
        event.remove(database.engine, "before_cursor_execute", listen)
    assert sum(1 for statement in sent if statement.lstrip().upper().startswith("INSERT INTO AUDIT_ENTRIES")) == 2
    rows = stored(database)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5] and [m.seq for m in made] == [2, 3, 4]
    assert [r.data for r in rows[1:4]] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert check(database).ok


def test_one_bad_entry_of_several_sends_none(database: Database) -> None:
    with pytest.raises(InvalidInput), database.session() as session:
        record_many(session, [Entry("executor", "execution.erase", "request:r1"), Entry("executor", "Bad Action", "x")])
    assert stored(database) == []


def test_an_append_after_a_rolled_back_savepoint_continues_the_committed_chain(database: Database) -> None:
    """An entry written inside a savepoint that is rolled back must not become anyone's previous hash."""
    with database.session() as session:
        record(session, actor="system", action="test.before", target="thing:1")
        savepoint = session.begin_nested()
        record(session, actor="system", action="test.undone", target="thing:2")
        savepoint.rollback()
        record(session, actor="system", action="test.after", target="thing:3")
        savepoint = session.begin_nested()
        record(session, actor="system", action="test.kept", target="thing:4")
        savepoint.commit()
        record(session, actor="system", action="test.last", target="thing:5")
    assert check(database).ok
    assert [e.action for e in stored(database)] == ["test.before", "test.after", "test.kept", "test.last"]


def test_a_failed_transaction_leaves_no_entry(database: Database) -> None:
    def publish_then_fail() -> None:
        with database.session() as session:
            record(session, actor="cli", action="policy.published", target="policy_version:1")
            raise RuntimeError("the business change failed after the entry was written")

    with pytest.raises(RuntimeError):
        publish_then_fail()
    assert stored(database) == []
    append(database, 1)
    assert [r.seq for r in stored(database)] == [1]


def test_entries_are_append_only_through_the_orm(database: Database) -> None:
    append(database, 1)

    def edit() -> None:
        with database.session() as session:
            entry = session.get(AuditEntry, 1)
            assert entry is not None
            entry.target = "thing:other"

    def remove_it() -> None:
        with database.session() as session:
            session.delete(session.get(AuditEntry, 1))

    with pytest.raises(CharterError, match="append-only"):
        edit()
    with pytest.raises(CharterError, match="append-only"):
        remove_it()
    assert check(database).ok


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"action": "Published"}, "action is not in the expected form"),
        ({"action": "policy"}, "action is not in the expected form"),
        ({"actor": "user alice"}, "actor is not in the expected form"),
        ({"actor": ""}, "actor must be 1 to 200 characters"),
        ({"target": "x" * 256}, "target must be 1 to 255 characters"),
        ({"target": "a\nb"}, "control characters"),
        ({"data": {"ratio": 0.5}}, "data.ratio is a float"),
        ({"data": {"nested": {"Password": "x"}}}, "data.nested.Password looks like a secret"),
        ({"data": {"email": "x"}}, "looks like a secret or personal data"),
        ({"data": {1: "x"}}, "keys must be strings"),
        ({"data": {"id": "a\x00b"}}, "NUL"),
        ({"data": {"id": "\ud800"}}, "not valid Unicode"),
        ({"data": {"ids": list(range(5000))}}, "larger than"),
    ],
)
def test_bad_input_is_refused_without_its_value(database: Database, fields: Mapping[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "actor": "cli",
        "action": "test.appended",
        "target": "thing:1",
        **fields,
    }
    with pytest.raises(InvalidInput, match=message) as caught, database.session() as session:
        record(session, **arguments)  # type: ignore[arg-type]
    assert "alice" not in caught.value.detail
    assert stored(database) == []


def test_data_is_stored_as_hashed(database: Database) -> None:
    with database.session() as session:
        entry = record(
            session,
            actor="token:ab12",
            action="token.created",
            target="token:ab12",
            data={"scopes": ("read", "write"), "flags": {"admin": False}, "note": "é✓", "n": None},
        )
    assert entry.data == {
        "scopes": ["read", "write"],
        "flags": {"admin": False},
        "note": "é✓",
        "n": None,
    }
    assert check(database).ok


def test_timestamps_hash_the_same_on_a_whole_second() -> None:
    whole = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert timestamp(whole) == "2024-05-01T12:00:00.000000+00:00"
    assert timestamp(whole.astimezone(timezone(timedelta(hours=2)))) == timestamp(whole)
    with pytest.raises(ValueError, match="timezone-aware"):
        timestamp(whole.replace(tzinfo=None))


def test_canonical_json_is_compact_sorted_and_ascii() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"\\u00e9","b":1}'


# --- tampering ---------------------------------------------------------------------------


def test_editing_data_with_raw_sql_is_detected_at_that_entry(database: Database) -> None:
    hashes = append(database, 5)
    with database.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_entries SET data = :data WHERE seq = :seq"),
            {"data": json.dumps({"n": 99}), "seq": 3},
        )
    assert check(database) == Verification(
        ok=False,
        entries=2,
        first_bad_seq=3,
        reason="entry 3: contents do not match its hash (edited)",
        head_hash=hashes[1],
    )


def test_editing_the_timestamp_is_detected(database: Database) -> None:
    append(database, 2)
    later = stored(database)[0].at
    change(database, 1, at=datetime.fromisoformat(later) + timedelta(microseconds=1))
    assert check(database).first_bad_seq == 1


def test_deleting_a_middle_entry_is_detected(database: Database) -> None:
    append(database, 5)
    remove(database, 3)
    result = check(database)
    assert (result.ok, result.first_bad_seq, result.entries) == (False, 4, 2)
    assert result.reason == "entry 4: previous entry missing (expected seq 3)"


def test_deleting_the_first_entry_is_detected(database: Database) -> None:
    append(database, 3)
    remove(database, 1)
    assert check(database).reason == "entry 2: previous entry missing (expected seq 1)"


def test_swapping_two_entries_contents_is_detected(database: Database) -> None:
    append(database, 5)
    rows = stored(database)
    columns = ("actor", "action", "target", "data", "prev_hash", "hash")
    second, fourth = rows[1].as_dict(), rows[3].as_dict()
    change(database, 2, **{c: fourth[c] for c in columns})
    change(database, 4, **{c: second[c] for c in columns})
    result = check(database)
    assert result.first_bad_seq == 2
    assert result.reason == "entry 2: contents do not match its hash (edited)"


def test_reordering_with_recomputed_hashes_breaks_the_links(database: Database) -> None:
    append(database, 4)
    rows = stored(database)
    # Entries 2 and 3 trade places; the forger rehashes each for its new seq
    # but cannot make entry 2 point at entry 1 without rewriting everything after.
    change(database, 2, **rehashed(rows[2], seq=2))
    change(database, 3, **rehashed(rows[1], seq=3))
    result = check(database)
    assert result.first_bad_seq == 2
    assert result.reason == ("entry 2: does not link to the entry before it (entries removed, reordered or replaced)")


def test_a_forged_first_entry_must_start_from_genesis(database: Database) -> None:
    append(database, 2)
    change(database, 1, **rehashed(stored(database)[0], prev_hash="f" * 64))
    assert check(database).reason == ("entry 1: does not start the chain (its previous hash is not the genesis value)")


def test_truncation_is_only_visible_against_an_anchor(database: Database) -> None:
    hashes = append(database, 5)
    anchor = Anchor(seq=5, hash=hashes[4])
    assert check(database, anchor).ok
    remove(database, 5)
    assert check(database).ok  # the limit the design note states
    result = check(database, anchor)
    assert (result.ok, result.first_bad_seq, result.entries) == (False, 5, 4)
    assert "entries removed from the end" in str(result.reason)


def test_a_rewritten_history_fails_its_anchor(database: Database) -> None:
    hashes = append(database, 3)
    with database.engine.begin() as conn:
        conn.execute(delete(TABLE))
    append(database, 3, action="test.forged")
    result = check(database, Anchor(seq=2, hash=hashes[1]))
    assert result.first_bad_seq == 2
    assert result.reason == "entry 2: differs from the anchor recorded earlier (history rewritten)"


def test_anchor_parsing() -> None:
    digest = "ab" * 32
    assert Anchor.parse(f" 7:{digest.upper()} ") == Anchor(seq=7, hash=digest)
    for bad in ("7", f"0:{digest}", f"7:{digest[:12]}", f"x:{digest}"):
        with pytest.raises(InvalidInput):
            Anchor.parse(bad)


# Property: after appending n entries and tampering once, verify names the first entry
# whose own record or link is wrong. For each kind of tampering at entry k (1 <= k <= n):
#   edit     any stored field of k, hash left alone    -> k     (its contents no longer hash)
#   rewrite  data of k, hash recomputed to match       -> k + 1 (k+1 no longer links to k);
#                                                         none if k == n (undetectable tail)
#   delete   entry k                                   -> k + 1 (gap before it);
#                                                         none if k == n (truncation)
#   swap     all but seq of k and another entry j      -> min(k, j) (seq is hashed)
#   forge    a new entry n+1 with a valid hash but
#            a made-up previous hash                   -> n + 1
# "none" means verify passes with the remaining entries, which is what an anchor is for.

EDITABLE = ("actor", "action", "target", "data", "at", "prev_hash", "hash")
names = st.text(alphabet="abcdefghij_", min_size=1, max_size=6).filter(lambda s: s[0] != "_")
appends = st.lists(
    st.fixed_dictionaries(
        {
            "actor": st.sampled_from(["system", "cli", "user:alice", "token:ab12"]),
            "action": st.builds(lambda a, b: f"{a}.{b}", names, names),
            "target": st.text(
                alphabet=st.characters(codec="utf-8", min_codepoint=32, exclude_characters="\x7f"),
                min_size=1,
                max_size=20,
            ),
            "data": st.dictionaries(
                names,
                st.integers(-(2**53), 2**53)
                | st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"))
                | st.booleans(),
                max_size=3,
            ),
        }
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    log=appends,
    kind=st.sampled_from(["edit", "rewrite", "delete", "swap", "forge"]),
    pick=st.data(),
)
def test_verify_names_the_tampered_entry(
    database: Database, log: list[dict[str, object]], kind: str, pick: st.DataObject
) -> None:
    with database.engine.begin() as conn:
        conn.execute(delete(TABLE))
    with database.session() as session:
        for fields in log:
            record(session, **fields)  # type: ignore[arg-type]
    rows = stored(database)
    n = len(log)
    assert len(rows) == n
    k = pick.draw(st.integers(1, n), label="k")
    expected: int | None

    if kind == "edit":
        field = pick.draw(st.sampled_from(EDITABLE), label="field")
        current = rows[k - 1].as_dict()[field]
        if field == "at":
            value: object = datetime.fromisoformat(str(current)) + timedelta(seconds=1)
        elif field == "data":
            value = {**rows[k - 1].data, "tampered": True}
        elif field in ("prev_hash", "hash"):
            value = "0" * 63 + ("1" if str(current)[-1] != "1" else "2")
        else:
            value = f"{current}x"
        change(database, k, **{field: value})
        expected = k
    elif kind == "rewrite":
        change(database, k, **rehashed(rows[k - 1], data={"rewritten": True}))
        expected = k + 1 if k < n else None
    elif kind == "delete":
        remove(database, k)
        expected = k + 1 if k < n else None
    elif kind == "swap":
        if n < 2:
            return
        j = pick.draw(st.integers(1, n).filter(lambda j: j != k), label="j")
        columns = ("at", "actor", "action", "target", "data", "prev_hash", "hash")
        mine, theirs = rows[k - 1].as_dict(), rows[j - 1].as_dict()

        def values(source: dict[str, object]) -> dict[str, object]:
            moved = {c: source[c] for c in columns}
            moved["at"] = datetime.fromisoformat(str(moved["at"]))
            return moved

        change(database, k, **values(theirs))
        change(database, j, **values(mine))
        expected = min(k, j)
    else:
        forged = dataclasses.replace(rows[-1], seq=n + 1, prev_hash="a" * 64)
        with database.engine.begin() as conn:
            conn.execute(TABLE.insert().values(**rehashed(forged), seq=n + 1))
        expected = n + 1

    result = check(database)
    if expected is None:
        assert result.ok, result.reason
    else:
        assert not result.ok
        assert result.first_bad_seq == expected, (kind, k, result.reason)
        assert str(result.reason).startswith(f"entry {expected}: ")


# --- concurrency -------------------------------------------------------------------------


def test_concurrent_appends_do_not_fork_the_chain(database: Database) -> None:
    threads, each = 4, 25
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait()
            for i in range(each):
                with database.session() as session:
                    record(
                        session,
                        actor=f"worker:{worker}",
                        action="test.concurrent",
                        target=f"thing:{i}",
                    )
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            failures.append(exc)

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()

    assert failures == []
    assert [r.seq for r in stored(database)] == list(range(1, threads * each + 1))
    result = check(database)
    assert (result.ok, result.entries) == (True, threads * each)


# --- reading and exporting -------------------------------------------------------------


def test_export_round_trips_and_rehashes(database: Database) -> None:
    append(database, 4)
    out = io.StringIO()
    with database.session() as session:
        assert export(session, out) == 4
    lines = out.getvalue().splitlines()
    exported = [ChainedEntry(**json.loads(line)) for line in lines]
    assert exported == stored(database)
    assert all(e.computed_hash() == e.hash for e in exported)
    assert lines[0] == canonical_json(exported[0].as_dict())

    later = io.StringIO()
    with database.session() as session:
        assert export(session, later, since_seq=2) == 2
    assert [json.loads(line)["seq"] for line in later.getvalue().splitlines()] == [3, 4]


def test_an_export_verifies_without_the_database(database: Database) -> None:
    hashes = append(database, 3)
    out = io.StringIO()
    with database.session() as session:
        export(session, out)
    lines = out.getvalue().splitlines()
    assert check_chain(read_export(lines, source="audit.jsonl")).head_hash == hashes[-1]
    result = check_chain(read_export([lines[0], lines[2]], source="audit.jsonl"))
    assert result.reason == "entry 3: previous entry missing (expected seq 2)"


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        "[1]",
        '{"seq": 1}',
        json.dumps(
            {
                **dict.fromkeys(["at", "actor", "action", "target"], "x"),
                "seq": True,
                "data": {},
                "prev_hash": "0",
                "hash": "0",
            }
        ),
    ],
)
def test_a_malformed_export_line_is_named(line: str) -> None:
    good = ChainedEntry(1, "x", "x", "x", "x", {}, GENESIS_HASH, "0").as_dict()
    with pytest.raises(InvalidInput) as caught:
        list(read_export([json.dumps(good), "", line], source="audit.jsonl"))
    assert [p.render() for p in caught.value.problems] == [
        "audit.jsonl:3:1: not an audit entry as `charter audit export` writes them"
    ]


def test_export_of_an_empty_log_writes_nothing(database: Database) -> None:
    out = io.StringIO()
    with database.session() as session:
        assert export(session, out) == 0
    assert out.getvalue() == ""


def test_entries_pages_newest_first(database: Database) -> None:
    append(database, 3, action="test.one")
    append(database, 2, action="test.two")
    with database.session() as session:
        assert [e.seq for e in entries(session, limit=2)] == [5, 4]
        assert [e.seq for e in entries(session, limit=2, before_seq=4)] == [3, 2]
        assert [e.seq for e in entries(session, limit=10, action="test.one")] == [3, 2, 1]
        with pytest.raises(InvalidInput):
            entries(session, limit=0)


def _audit_inserts(database: Database, work: Callable[[Session], object]) -> int:
    sent: list[str] = []
    listen = lambda *args: sent.append(str(args[2]))  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(database.engine, "before_cursor_execute", listen)
    try:
        with database.session() as session:
            work(session)
    finally:
        event.remove(database.engine, "before_cursor_execute", listen)
    return sum(1 for statement in sent if statement.lstrip().upper().startswith("INSERT INTO AUDIT_ENTRIES"))


def test_gathered_entries_go_in_one_insert_at_the_end_chained_in_order(database: Database) -> None:
    """A run's end records from several places (``execution.finished``, ``request.completed``): one INSERT."""
    append(database, 1)

    def work(session: Session) -> None:
        with gathered(session):
            assert record(session, actor="executor", action="execution.finished", target="request:r1") is None
            with gathered(session):  # a block inside joins the outer one
                record_many(session, [Entry("executor", "execution.erase", "request:r1", {"n": n}) for n in range(2)])
            assert stored_in(session) == 1  # nothing sent before the block ends
        record(session, actor="executor", action="request.completed", target="request:r1")

    assert _audit_inserts(database, work) == 2  # the block's three entries, then the one after it
    rows = stored(database)
    assert [(r.seq, r.action) for r in rows] == [
        (1, "test.appended"),
        (2, "execution.finished"),
        (3, "execution.erase"),
        (4, "execution.erase"),
        (5, "request.completed"),
    ]
    assert check(database).ok


def test_a_gathered_block_that_raises_sends_nothing_and_checks_as_it_goes(database: Database) -> None:
    def fails_after_recording() -> None:
        with database.session() as session, gathered(session):
            record(session, actor="executor", action="execution.finished", target="request:r1")
            raise RuntimeError("the end failed after its entry was recorded")

    def records_a_bad_entry() -> None:
        with database.session() as session, gathered(session):
            record(session, actor="executor", action="Not An Action", target="request:r1")  # refused at once
            pytest.fail("a bad entry is refused where it is recorded, not at the end of the block")

    with pytest.raises(RuntimeError):
        fails_after_recording()
    with pytest.raises(InvalidInput):
        records_a_bad_entry()
    assert stored(database) == []


def test_a_savepoint_inside_a_gathered_block_is_refused(database: Database) -> None:
    def records_in_a_savepoint() -> None:
        with database.session() as session, gathered(session), session.begin_nested():
            record(session, actor="executor", action="execution.finished", target="request:r1")

    with pytest.raises(RuntimeError, match="savepoints"):
        records_in_a_savepoint()
    assert stored(database) == []


def stored_in(session: Session) -> int:
    return len(session.execute(select(AuditEntry.seq)).all())
