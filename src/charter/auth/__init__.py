"""Who may use Charter: console users, API tokens, console sessions, roles.

``models`` holds the tables, ``passwords`` the hashing and password policy,
``service`` the operations (split into ``users``, ``tokens`` and
``sessions``). Nothing here imports the web or CLI frameworks.
"""
