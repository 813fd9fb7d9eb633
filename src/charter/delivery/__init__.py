"""Giving the person their access/portability package: a one-time download, or a push to a third party.

``service`` (the re-verification code, one-time links, the staff copy),
``push`` (HTTPS to the recipient the person named), ``addresses`` (which
recipients are allowed: the SSRF guard), ``models`` and ``errors``. Issue 4,
promises P-RGT-1, P-RGT-5, P-RGT-7, P-SEC-1; see docs/design/delivery.md.

Kept free of imports so that ``charter.requests.details`` can use
``addresses`` without pulling in the rest.
"""
