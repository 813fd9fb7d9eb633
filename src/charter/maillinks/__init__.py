"""Links Charter mints for the organization's mailers: one-click unsubscribe and the open pixel.

A mailer asks for the links of one message to one person; Charter stores a
keyed hash of each random token, records ``email.unsubscribed`` in the
ledger once when the unsubscribe link is used (RFC 8058 one-click), and
records an open only for a person who has not unsubscribed and whose
browser sends no Do Not Track / Global Privacy Control (promise P-TRK-3,
P-TRK-2). See docs/design/mail-links.md.
"""
