"""The public preference center: prove control of an e-mail address, then see and change choices.

``challenges`` (one-time codes and links), ``items`` (what the statement in
force lets a person change, and the ledger events a change records),
``service`` (the operations web pages call), ``messages`` (the e-mail).
Design: docs/design/preference-center.md.
"""
