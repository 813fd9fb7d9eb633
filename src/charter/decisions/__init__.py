"""The decision engine: may this use of personal data happen now, and why.

``decide(request, statement, state)`` is pure: the compiled statement in
force and the person's state are passed in; nothing is read or written.
"""

from charter.decisions.compiled import CompiledStatement, StatementHistory, compile_statement
from charter.decisions.engine import decide, decide_at
from charter.decisions.model import Decision, DecisionRequest, Obligation, Reason
from charter.decisions.state import Consent, PersonState

__all__ = [
    "CompiledStatement",
    "Consent",
    "Decision",
    "DecisionRequest",
    "Obligation",
    "PersonState",
    "Reason",
    "StatementHistory",
    "compile_statement",
    "decide",
    "decide_at",
]
