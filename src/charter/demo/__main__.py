"""``python -m charter.demo``: see :mod:`charter.demo`."""

from charter.demo import main

raise SystemExit(main())
