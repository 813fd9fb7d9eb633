"""Checking the chain: every hash recomputed, every link and seq checked, in one pass."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from charter.audit.chain import GENESIS_HASH, ChainedEntry
from charter.audit.service import stream
from charter.errors import InvalidInput

_ANCHOR = re.compile(r"(\d+):([0-9a-f]{64})")


@dataclass(frozen=True)
class Anchor:
    """A head the operator wrote down earlier (``seq`` and full ``hash``).

    The chain alone cannot show that its newest entries were cut off or the
    whole log rewritten; an anchor kept outside the database can.
    """

    seq: int
    hash: str

    @classmethod
    def parse(cls, value: str) -> Anchor:
        """``SEQ:HASH`` as printed by ``charter audit verify --json``."""
        match = _ANCHOR.fullmatch(value.strip().lower())
        if match is None or int(match.group(1)) < 1:
            raise InvalidInput("an anchor is SEQ:HASH, with the full 64-character hash")
        return cls(seq=int(match.group(1)), hash=match.group(2))


@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify`.

    ``entries`` counts the entries found good (all of them when ``ok``);
    ``head_hash`` is the hash of the last good entry, ``None`` if there is none.
    """

    ok: bool
    entries: int
    first_bad_seq: int | None
    reason: str | None
    head_hash: str | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def verify(session: Session, *, anchor: Anchor | None = None) -> Verification:
    """Check the stored log, streamed in seq order (see :func:`check_chain`)."""
    return check_chain(stream(session), anchor=anchor)


def check_chain(chain: Iterable[ChainedEntry], *, anchor: Anchor | None = None) -> Verification:
    """Report the first entry of ``chain`` (in seq order) that breaks it.

    Checks, for each entry: seq is the next integer (from 1), its hash matches
    its contents, its ``prev_hash`` is the previous entry's hash. With an
    ``anchor``, also that entry ``anchor.seq`` exists with ``anchor.hash``.
    Stops at the first failure: everything after a break is unverifiable.
    Works the same on the database and on an export file.
    """
    good = 0
    head: str | None = None
    for entry in chain:
        problem = _problem(entry, expected_seq=good + 1, prev_hash=head or GENESIS_HASH)
        if problem is None and anchor is not None and anchor.seq == entry.seq:
            problem = _anchor_problem(entry, anchor)
        if problem is not None:
            return Verification(
                ok=False,
                entries=good,
                first_bad_seq=entry.seq,
                reason=f"entry {entry.seq}: {problem}",
                head_hash=head,
            )
        good, head = entry.seq, entry.hash
    if anchor is not None and anchor.seq > good:
        return Verification(
            ok=False,
            entries=good,
            first_bad_seq=good + 1,
            reason=f"entry {good + 1}: missing, but the anchor expects the log to reach seq "
            f"{anchor.seq} (entries removed from the end)",
            head_hash=head,
        )
    return Verification(ok=True, entries=good, first_bad_seq=None, reason=None, head_hash=head)


def _problem(entry: ChainedEntry, *, expected_seq: int, prev_hash: str) -> str | None:
    """What is wrong with ``entry`` given the one before it, in plain words; None if nothing.

    The order of the checks decides which words a reader sees: a gap is
    reported as a gap even though the link is broken too.
    """
    if entry.seq > expected_seq:
        return f"previous entry missing (expected seq {expected_seq})"
    if entry.seq < expected_seq:
        return f"out of sequence (expected seq {expected_seq})"
    if entry.computed_hash() != entry.hash:
        return "contents do not match its hash (edited)"
    if entry.prev_hash != prev_hash:
        if entry.seq == 1:
            return "does not start the chain (its previous hash is not the genesis value)"
        return "does not link to the entry before it (entries removed, reordered or replaced)"
    return None


def _anchor_problem(entry: ChainedEntry, anchor: Anchor) -> str | None:
    if entry.hash != anchor.hash:
        return "differs from the anchor recorded earlier (history rewritten)"
    return None
