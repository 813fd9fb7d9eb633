"""People (data subjects) and their identities: normalized, found by keyed hash, sealed at rest.

``normalize`` gives each identity one spelling, ``service`` finds, creates,
links and merges people. Merging histories is the ledger's part
(``charter.ledger.service.merge``), so this package never imports the ledger.
"""
