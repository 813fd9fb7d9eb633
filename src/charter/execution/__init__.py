"""Carrying out approved requests in the organization's data stores (P-RGT-1..5).

:mod:`plan` turns a request and the data map into an ordered DAG of steps
(pure); :mod:`steps` is its vocabulary; :mod:`service` loads what planning
needs. :mod:`runner` executes a plan in-process, step by step, storing each
outcome (:mod:`claims`, :mod:`models`) before the next starts; :mod:`actions`
is what a step does in a store, :mod:`erasure` the strategies; the run ends
with a :mod:`package` (access, portability) or a :mod:`certificate`
(deletion). :mod:`jobs` is the entry point for the CLI, the API and autorun.
See docs/design/execution.md.
"""
