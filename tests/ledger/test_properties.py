"""Properties of the stored ledger: the projection kept on write equals the rebuild (issue 3, "done when").

Random sequences of events, many of them back-dated and written over
several transactions, on both backends.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.db import Database
from charter.ledger import service as ledger
from charter.ledger.events import Event, EventKind
from charter.ledger.projection import project
from charter.subjects import service as subjects
from tests.subjects.factories import event, make_vault

VAULT = make_vault()
PURPOSES = st.sampled_from(["analytics_trends_benchmarks", "marketing_new_services", "*"])
_people = itertools.count(1)


def _data(kind: EventKind, draw: Any) -> dict[str, Any]:
    if kind in ledger.PURPOSE_KINDS:
        return {"purpose": draw(PURPOSES)}
    if kind in (EventKind.SIGNAL_GPC, EventKind.SIGNAL_DNT):
        return {"on": draw(st.booleans())}
    if kind in (EventKind.TRANSFER_CONSENT_GIVEN, EventKind.TRANSFER_CONSENT_WITHDRAWN):
        return {"origin": "CN"}
    if kind in (EventKind.SUBSCRIBED_SERVICE, EventKind.UNSUBSCRIBED_SERVICE):
        return {"service": draw(st.sampled_from(["voip", "webcast"]))}
    if kind is EventKind.PREFERENCE_SET:
        return {"key": draw(st.sampled_from(["newsletter", "sms"])), "value": draw(st.booleans())}
    if kind is EventKind.AGE_ATTESTED:
        return draw(st.sampled_from([{"age": 12}, {"birth_date": "2001-05-06"}]))
    if kind is EventKind.PARENTAL_PROOF_REQUIRED:
        return {"deadline": "2024-04-01T00:00:00+00:00"}
    return {}


@st.composite
def events(draw: Any) -> Event:
    kind = draw(st.sampled_from(list(EventKind)))
    if kind in (EventKind.CONSENT_GIVEN, EventKind.CONSENT_WITHDRAWN, EventKind.OPTED_OUT, EventKind.OPTED_IN):
        data = {"purpose": draw(st.sampled_from(["analytics_trends_benchmarks", "marketing_new_services"]))}
    else:
        data = _data(kind, draw)
    return event(kind, draw(st.integers(0, 60)), **data)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(events(), min_size=1, max_size=6), min_size=1, max_size=4))
def test_projection_on_write_equals_rebuild(database: Database, batches: list[list[Event]]) -> None:
    email = f"p{next(_people)}@example.org"
    written: list[Event] = []
    for batch in batches:  # one transaction per batch
        with database.session() as session:
            person = subjects.resolve(session, "email", email, vault=VAULT, create=True)
            assert person is not None
            for item in batch:
                ledger.record(session, person, item, actor="test")
                written.append(item)
    expected = project(e for _, e in sorted(enumerate(written), key=lambda pair: (pair[1].at, pair[0])))
    with database.session() as session:
        person = subjects.resolve(session, "email", email, vault=VAULT, create=False)
        assert person is not None
        assert ledger.state_of(session, person) == expected
        assert ledger.rebuild(session).changed == 0
        assert ledger.state_of(session, person) == expected
