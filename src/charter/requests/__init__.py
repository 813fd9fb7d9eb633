"""Privacy requests (P-RGT-1..8, P-RET-2/3): intake, verification, deadlines, review, legal holds.

A person (or their authorized agent) asks to see, move, correct, delete or
limit their data. :mod:`intake` records the request, mails a one-time code
(the preference center's challenges, with their own purpose) and, once the
code or link is redeemed, puts it in the privacy office's queue.
:mod:`review` holds every transition of the state machine
(:mod:`charter.requests.kinds`), each audited and each telling the
requester by e-mail through the queue in :mod:`notices`. :mod:`deadlines`
turns the statement's periods into due dates; :mod:`holds` keeps records
under legal hold. Execution against the organization's databases starts
from ``approved`` and is a later package's job. See docs/design/requests.md.
"""
