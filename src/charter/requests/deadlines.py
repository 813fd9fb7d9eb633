"""Legal periods to due dates: calendar days, weeks, months, years and business days.

Pure functions of a start instant, a :class:`~charter.policy.types.Duration`
and a set of holidays (P-RGT-8). Rules, in UTC:

* ``days`` / ``weeks``: that many calendar days later, same time of day.
* ``months`` / ``years``: the same day of the month that many months later,
  or the last day of that month if it is shorter (31 January + 1 month =
  28/29 February), as EU Regulation 1182/71 art. 3(2)(c) counts GDPR's
  "one month".
* ``business_days``: counting starts the next day; Saturdays, Sundays and
  the configured holidays (``CHARTER_REQUESTS_HOLIDAYS``) are skipped; same
  time of day. A request received on a weekend is counted from the next
  business day like any other.
* ``hours``: that many hours later.

Not modelled (documented in docs/design/requests.md): a jurisdiction's own
holiday calendar (one list of holidays applies to every jurisdiction), and
the rule in some laws that a period ending on a non-working day runs to the
next working day (calendar periods here end on the exact day).
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from datetime import date, datetime, timedelta

from charter.policy.types import Duration

SATURDAY = 5


def is_business_day(day: date, holidays: Collection[date] = ()) -> bool:
    return day.weekday() < SATURDAY and day not in holidays


def add_months(day: date, months: int) -> date:
    """``day`` moved ``months`` months on, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def add_business_days(day: date, count: int, holidays: Collection[date] = ()) -> date:
    """The ``count``-th business day after ``day`` (``day`` itself never counts); ``day`` if ``count`` is 0.

    A day-by-day walk: legal periods in business days are short (10, 15, 45),
    and a walk cannot get the edge cases of a closed formula wrong.
    """
    if count < 0:
        raise ValueError("a legal period is never negative")
    current, rest = day, count
    while rest:
        current += timedelta(days=1)
        if is_business_day(current, holidays):
            rest -= 1
    return current


def add(start: datetime, period: Duration, holidays: Collection[date] = ()) -> datetime:
    """``start`` moved on by ``period`` (see the module's rules)."""
    if start.tzinfo is None:
        raise ValueError("deadlines are computed from an aware (UTC) instant")
    amount, unit = period.amount, period.unit
    if unit == "hours":
        return start + timedelta(hours=amount)
    if unit == "days":
        return start + timedelta(days=amount)
    if unit == "weeks":
        return start + timedelta(weeks=amount)
    if unit in ("months", "years"):
        moved = add_months(start.date(), amount * (12 if unit == "years" else 1))
        return start.replace(year=moved.year, month=moved.month, day=moved.day)
    moved = add_business_days(start.date(), amount, holidays)
    return start.replace(year=moved.year, month=moved.month, day=moved.day)


def business_days_between(first: date, last: date, holidays: Collection[date] = ()) -> int:
    """Business days in ``(first, last]``: how many :func:`add_business_days` steps lead from one to the other."""
    count, current = 0, first
    while current < last:
        current += timedelta(days=1)
        if is_business_day(current, holidays):
            count += 1
    return count
