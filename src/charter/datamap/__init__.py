"""The data map: which systems hold which personal data, as Fides-compatible datasets.

``schema`` (file shapes), ``loader`` (YAML with positions), ``model`` (the
index), ``graph`` (pure reachability and delete order), ``check`` (static
checks), ``live`` (comparison with the stores), ``service`` (what the CLI
and API call). See docs/design/datamap.md.
"""
