"""The data map: which systems hold which personal data, as Fides-compatible datasets.

``schema`` (file shapes), ``loader`` (YAML with positions), ``model`` (the
index; ``paths``: a field's place as a tuple of names), ``graph`` (pure
reachability and delete order), ``check`` (static checks, with
``references`` and ``erasure_checks``), ``live`` (comparison with the
stores), ``service`` (what the CLI and API call). See docs/design/datamap.md.
"""
