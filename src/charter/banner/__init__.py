"""The embeddable cookie banner: its view of the statement in force, and recording choices.

``view`` builds what the banner shows from a statement (pure); ``choices``
checks a visitor's answer and turns it into ledger events (pure);
``service`` reads the statement in force and records (database). The web
routes are in ``charter.web.api.banner``; the script is
``charter/web/static/charter-consent.js``. See docs/design/consent-banner.md.
"""
