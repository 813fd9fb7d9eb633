"""``decide``: may this use of personal data happen now? Pure, no I/O.

Two stages. The *static* verdict depends only on the request and the
statement (which rules apply, the strictest effect, obligations, what the
person's standing must still be checked for); it is memoized per compiled
statement, so repeated questions cost one dictionary lookup. The *personal*
stage reads the person's state: suppression after an erasure (passed in
as data), restrictions and objections, browser
signals, opt-outs, unsubscribes, consents, age and parental proof, transfer
consent. Each refusal names the promise it keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from charter.decisions.compiled import RANK, CompiledRule, CompiledStatement, StatementHistory
from charter.decisions.model import Decision, DecisionRequest, Obligation, Reason
from charter.decisions.regions import within
from charter.decisions.state import PersonState
from charter.errors import InvalidInput
from charter.policy.schema import AgeException, Purpose, TransferMechanism

_EFFECTS = {rank: effect for effect, rank in RANK.items()}
_MEMO_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class _Static:
    """What the statement alone says about a request; the person is checked after."""

    purpose: Purpose
    rank: int
    reasons: tuple[Reason, ...]
    obligations: tuple[Obligation, ...]
    refusable_recipient: bool = False
    transfer_consent_origin: str | None = None
    age_exception: AgeException | None = None
    denial: Decision | None = None


def _deny(statement: CompiledStatement, promises: tuple[str, ...], clause: str, message: str) -> Decision:
    return Decision(False, (Reason(promises, clause, message),), (), statement.version, "deny")


def _rule_applies(rule: CompiledRule, request: DecisionRequest, age: int | None) -> bool:
    if request.recipient is None:
        if rule.recipients:
            return False
    elif request.recipient not in rule.recipients and (rule.recipients or rule.effect != "forbid"):
        return False
    if rule.subjects is not None and request.subject not in rule.subjects:
        return False
    when = rule.rule.when
    if when.min_age is not None and (age is None or age < when.min_age):
        return False
    if when.max_age is not None and (age is None or age > when.max_age):
        return False
    if when.services and request.service not in when.services:
        return False
    if when.sources and request.source not in when.sources:
        return False
    if when.within_subscribed_services is not None and (
        request.within_subscribed_services is not when.within_subscribed_services
    ):
        return False
    if when.jurisdictions and (
        request.jurisdiction is None or not any(within(request.jurisdiction, j) for j in when.jurisdictions)
    ):
        return False
    return not when.countries or (
        request.destination is not None and any(within(request.destination, c) for c in when.countries)
    )


def _validate(request: DecisionRequest, statement: CompiledStatement) -> Purpose:
    purpose = statement.purposes.get(request.purpose)
    if purpose is None:
        raise InvalidInput(
            f"unknown purpose '{request.purpose}' in statement {statement.version}; "
            f"known purposes: {', '.join(sorted(statement.purposes))}"
        )
    if not request.categories:
        raise InvalidInput("name at least one data category")
    for category in request.categories:
        if category not in statement.category_keys:
            raise InvalidInput(f"unknown data category '{category}'")
    if request.recipient is not None and request.recipient not in statement.recipients:
        raise InvalidInput(f"unknown recipient '{request.recipient}' in statement {statement.version}")
    if request.action == "disclose" and request.recipient is None:
        raise InvalidInput("a disclosure must name its recipient")
    if request.action == "transfer" and (request.origin is None or request.destination is None):
        raise InvalidInput("a transfer must name its origin and destination countries")
    return purpose


def _transfer(
    request: DecisionRequest, statement: CompiledStatement
) -> tuple[Decision | None, str | None, TransferMechanism | None]:
    """(denial, origin whose consent is needed, mechanism relied on) for a transfer (P-SHR-5)."""
    origin, destination = request.origin or "", request.destination or ""
    if not any(within(destination, country) for country in statement.countries):
        return (
            _deny(
                statement,
                ("P-SHR-5",),
                "transfers.countries",
                f"the statement does not name {destination} among the places data may be processed",
            ),
            None,
            None,
        )
    matching = [
        m
        for m in statement.mechanisms
        if any(within(origin, o) for o in m.origins) and any(within(destination, d) for d in m.destinations)
    ]
    specific = [m for m in matching if "*" not in m.origins]
    chosen = specific or matching
    if not chosen:
        return (
            _deny(
                statement,
                ("P-SHR-5",),
                "transfers.mechanisms",
                f"no transfer mechanism is recorded for data going from {origin} to {destination}",
            ),
            None,
            None,
        )
    free = [m for m in chosen if not m.requires_consent]
    if free:
        return None, None, free[0]
    return None, origin, chosen[0]


def _age_gate(
    request: DecisionRequest, statement: CompiledStatement, age: int | None
) -> tuple[Decision | None, AgeException | None]:
    """Collection below the minimum age is refused unless an exception covers it (P-COL-2/3)."""
    minimum = statement.statement.collection.minimum_age
    if request.action != "collect" or minimum is None or age is None or age >= minimum.age:
        return None, None
    for exception in minimum.exceptions:
        if exception.services and request.service not in exception.services:
            continue
        if exception.sources and request.source not in exception.sources:
            continue
        return None, exception
    message = f"the person is {age}, below the minimum age of {minimum.age} in statement {statement.version}"
    if minimum.parent_can_request_removal:
        message += "; a parent may ask for any such data to be removed"
    return _deny(statement, tuple(minimum.promises), "collection.minimum_age", message), None


def _static(request: DecisionRequest, statement: CompiledStatement, age: int | None) -> _Static:
    purpose = _validate(request, statement)
    rank = -1
    reasons: dict[str, Reason] = {}
    obligations: dict[str, Obligation] = {}
    for category in request.categories:
        matched = [r for r in statement.rules_for(purpose.id, category) if _rule_applies(r, request, age)]
        if not matched:
            return _Static(
                purpose,
                -1,
                (),
                (),
                denial=_deny(
                    statement,
                    ("P-USE-1",),
                    f"purposes[{purpose.id}]",
                    f"no rule of statement {statement.version} allows {category} to be used for "
                    f"'{purpose.name}'" + (f" with {request.recipient}" if request.recipient else ""),
                ),
            )
        top = max(r.rank for r in matched)
        if top > rank:
            rank, reasons = top, {}
        for rule in matched:
            if rule.rank == rank:
                reasons[rule.id] = Reason(rule.promises, rule.clause, rule.rule.description)
            for duty in rule.rule.obligations:
                obligations.setdefault(duty.kind, Obligation(duty.kind, duty.unless or "", rule.promises))
    if purpose.consent == "opt_in":
        rank = max(rank, RANK["consent"])
    elif purpose.consent == "opt_out":
        rank = max(rank, RANK["opt_out"])
    if rank == RANK["forbid"]:
        return _Static(
            purpose, rank, (), (), denial=Decision(False, tuple(reasons.values()), (), statement.version, "deny")
        )

    refusable = False
    if request.recipient is not None:
        recipient = statement.recipients[request.recipient]
        refusable = recipient.subject_can_refuse
        for duty in recipient.obligations:
            obligations.setdefault(duty.kind, Obligation(duty.kind, duty.unless or "", tuple(recipient.promises)))
        obligations["record_disclosure"] = Obligation("record_disclosure", f"to {recipient.name}", ("P-SHR-1",))
    consent_origin = None
    if request.action == "transfer":
        denial, consent_origin, mechanism = _transfer(request, statement)
        if denial is not None:
            return _Static(purpose, rank, (), (), denial=denial)
        assert mechanism is not None
        reasons[f"transfer:{mechanism.id}"] = Reason(
            tuple(mechanism.promises),
            f"transfers.mechanisms[{mechanism.id}]",
            f"the transfer relies on {mechanism.mechanism.replace('_', ' ')}",
        )
    denial, exception = _age_gate(request, statement, age)
    if denial is not None:
        return _Static(purpose, rank, (), (), denial=denial)
    return _Static(
        purpose, rank, tuple(reasons.values()), tuple(obligations.values()), refusable, consent_origin, exception
    )


def _static_cached(request: DecisionRequest, statement: CompiledStatement, age: int | None) -> _Static:
    key = (
        request.purpose,
        request.categories,
        request.action,
        request.subject,
        request.recipient,
        request.service,
        request.jurisdiction,
        request.source,
        request.within_subscribed_services,
        request.origin,
        request.destination,
        age,
    )
    memo = statement.static_memo
    found = memo.get(key)
    if found is None:
        found = _static(request, statement, age)
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[key] = found
    return found  # type: ignore[return-value]


def _suppressed(
    statement: CompiledStatement, state: PersonState, purpose: Purpose, since: datetime | None
) -> Decision | None:
    """P-RGT-3: an erased person is not contacted again (marketing, e-mail tracking), unless they consent anew.

    ``since`` is when their identity went on the suppression list (None: it is
    not). Only a consent to this purpose given at or after that moment lifts it.
    """
    pid = purpose.id
    if since is None or (pid not in statement.marketing_purposes and pid not in statement.open_tracking_purposes):
        return None
    record = state.consents.get(pid)
    if record is not None and record.given and record.at >= since:
        return None
    return _deny(
        statement,
        ("P-RGT-3",),
        "suppression",
        f"the person's data was erased at their request on {since.date().isoformat()}: they are on the suppression "
        f"list and are not contacted again for '{purpose.name}' unless they consent to it anew",
    )


def _personal(
    request: DecisionRequest,
    statement: CompiledStatement,
    state: PersonState,
    verdict: _Static,
    age: int | None,
    suppressed_since: datetime | None = None,
) -> Decision:
    purpose = verdict.purpose
    pid = purpose.id
    version = statement.version
    suppressed = _suppressed(statement, state, purpose, suppressed_since)
    if suppressed is not None:
        return suppressed
    if purpose.legal_basis != "legal_obligation":
        if state.is_restricted(pid):
            return _deny(
                statement, ("P-RGT-4",), f"purposes[{pid}]", f"the person restricted processing for '{purpose.name}'"
            )
        if state.is_objected(pid):
            return _deny(
                statement, ("P-RGT-4",), f"purposes[{pid}]", f"the person objected to processing for '{purpose.name}'"
            )
    denies = statement.signal_denies
    if state.gpc and pid in denies.get("gpc", ()):
        return _deny(
            statement,
            ("P-TRK-2",),
            "tracking.signals[gpc]",
            f"the browser sends Global Privacy Control, which refuses '{purpose.name}'",
        )
    if state.dnt and pid in denies.get("dnt", ()):
        return _deny(
            statement,
            ("P-TRK-2",),
            "tracking.signals[dnt]",
            f"the browser sends Do Not Track, which refuses '{purpose.name}'",
        )
    if state.sale_sharing_opt_out and (pid in statement.sale_purposes or pid in statement.sharing_purposes):
        return _deny(
            statement,
            ("P-TRK-2", "P-RGT-6"),
            f"purposes[{pid}]",
            "the person opted out of the sale and sharing of their personal information",
        )
    if state.unsubscribed and statement.email_stops_on_unsubscribe:
        if pid in statement.open_tracking_purposes:
            return _deny(
                statement, ("P-TRK-3",), "tracking.email", "the person unsubscribed: no more e-mail open tracking"
            )
        if request.channel == "email" and pid in statement.marketing_purposes:
            return _deny(
                statement, ("P-TRK-3", "P-USE-2"), "tracking.email", "the person unsubscribed from our e-mails"
            )
    if (
        request.channel is not None
        and pid in statement.marketing_purposes
        and state.preferences.get(f"marketing.{request.channel}") is False
    ):
        return _deny(
            statement,
            ("P-USE-2",),
            f"purposes[{pid}]",
            f"the person's marketing preferences refuse contact by {request.channel}",
        )
    if verdict.refusable_recipient and state.disclosure_refused:
        return _deny(
            statement,
            ("P-SHR-3", "P-RGT-6"),
            f"recipients[{request.recipient}]",
            "the person refused disclosure to third parties, and no law requires this one",
        )
    if verdict.transfer_consent_origin is not None and verdict.transfer_consent_origin not in state.transfer_consents:
        return _deny(
            statement,
            ("P-SHR-5",),
            "transfers.mechanisms",
            f"data may leave {verdict.transfer_consent_origin} only with the person's consent, not given",
        )
    obligations = verdict.obligations
    if verdict.age_exception is not None:
        denial, extra = _parental_proof(statement, state, verdict.age_exception, age, request.at)
        if denial is not None:
            return denial
        obligations = obligations + extra
    effect = _EFFECTS[verdict.rank]
    if effect == "consent":
        record = state.consents.get(pid)
        if record is None or not record.given:
            how = "" if record is None else f"; it was withdrawn on {record.at.date().isoformat()}"
            return _deny(
                statement,
                tuple(purpose.promises) or ("P-USE-1",),
                f"purposes[{pid}]",
                f"'{purpose.name}' needs the person's consent{how}",
            )
        given = Reason(
            tuple(purpose.promises),
            f"purposes[{pid}]",
            f"consent given on {record.at.date().isoformat()}"
            + (f" under statement {record.statement_version}" if record.statement_version else ""),
        )
        return Decision(True, (*verdict.reasons, given), obligations, version, "allow")
    if effect == "opt_out" and pid in state.opted_out:
        return _deny(
            statement,
            tuple(purpose.promises) or ("P-USE-2",),
            f"purposes[{pid}]",
            f"the person opted out of '{purpose.name}'",
        )
    return Decision(True, verdict.reasons, obligations, version, "allow")


def _parental_proof(
    statement: CompiledStatement, state: PersonState, exception: AgeException, age: int | None, at: datetime
) -> tuple[Decision | None, tuple[Obligation, ...]]:
    proof = exception.parental_consent_proof
    reason = Obligation("under_age_exception", exception.description, tuple(exception.promises))
    if proof is None or age is None or age >= proof.below_age or state.parental_proof_received:
        return None, (reason,)
    deadline = state.parental_proof_deadline
    if deadline is not None and at > deadline:
        return _deny(
            statement,
            tuple(proof.promises) or ("P-COL-3",),
            "collection.minimum_age",
            f"proof of parental consent was due by {deadline.date().isoformat()} and was not received; "
            "all of this child's personal information must be deleted",
        ), ()
    due = f"by {deadline.date().isoformat()}" if deadline else f"within {proof.within} of collection"
    return None, (
        reason,
        Obligation(
            "parental_consent_proof",
            f"the {proof.provided_by} must provide it {due}",
            tuple(proof.promises) or ("P-COL-3",),
        ),
    )


def decide(
    request: DecisionRequest,
    statement: CompiledStatement,
    state: PersonState,
    *,
    suppressed_since: datetime | None = None,
) -> Decision:
    """The decision for ``request`` under ``statement`` (the one in force at request.at).

    ``suppressed_since``: when the person went on the suppression list after
    an erasure (``charter.suppression``), passed in as data so this stays pure.
    """
    age = state.age_at(request.at)
    verdict = _static_cached(request, statement, age)
    if verdict.denial is not None:
        return verdict.denial
    return _personal(request, statement, state, verdict, age, suppressed_since)


def decide_at(
    request: DecisionRequest,
    history: StatementHistory,
    state: PersonState,
    *,
    suppressed_since: datetime | None = None,
) -> Decision:
    """Like ``decide``, with the statement in force at the request's time."""
    statement = history.in_force(request.at)
    if statement is None:
        return Decision(
            False,
            (Reason(("P-STM-1",), "statement", f"no statement was in force on {request.at.date().isoformat()}"),),
            (),
            "",
            "deny",
        )
    return decide(request, statement, state, suppressed_since=suppressed_since)
