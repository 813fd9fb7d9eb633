"""Carrying out approved requests in the organization's data stores (P-RGT-1..5).

:mod:`plan` turns a request and the data map into an ordered DAG of steps
(pure); :mod:`steps` is its vocabulary; :mod:`service` loads what planning
needs. The runner that executes steps and stores their outcomes is the
next slice. See docs/design/execution.md.
"""
