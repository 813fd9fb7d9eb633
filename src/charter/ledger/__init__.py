"""The consent and preferences ledger: an append-only log of what people said.

``events`` defines what can be recorded, ``projection`` folds events into a
person's current standing (pure), and the storage keeps the projection up to
date on write and can rebuild it from the events at any time.
"""
