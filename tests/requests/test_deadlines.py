"""Due dates from legal periods (P-RGT-8): calendar months, days and business days, with properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from charter.policy.types import Duration
from charter.requests.deadlines import add, add_business_days, add_months, business_days_between, is_business_day

T = datetime(2024, 1, 31, 9, 30, tzinfo=UTC)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
holiday_sets = st.frozensets(days, max_size=20)


def test_one_month_clamps_to_the_end_of_a_shorter_month() -> None:
    """GDPR's "one month" from 31 January ends on the last day of February (P-RGT-8)."""
    assert add(T, Duration(1, "months")) == datetime(2024, 2, 29, 9, 30, tzinfo=UTC)
    assert add(T.replace(year=2023), Duration(1, "months")).date() == date(2023, 2, 28)
    assert add(T, Duration(3, "months")).date() == date(2024, 4, 30)
    assert add_months(date(2024, 11, 15), 2) == date(2025, 1, 15)


def test_calendar_days_and_weeks() -> None:
    assert add(T, Duration(45, "days")) == T + timedelta(days=45)
    assert add(T, Duration(2, "weeks")) == T + timedelta(days=14)
    assert add(T, Duration(1, "years")).date() == date(2025, 1, 31)


def test_business_days_skip_weekends_and_holidays() -> None:
    friday = date(2024, 3, 1)
    assert add_business_days(friday, 1) == date(2024, 3, 4)  # Monday
    assert add_business_days(friday, 10) == date(2024, 3, 15)
    assert add_business_days(date(2024, 3, 2), 1) == date(2024, 3, 4)  # received on a Saturday
    assert add_business_days(friday, 1, {date(2024, 3, 4)}) == date(2024, 3, 5)
    assert add(datetime(2024, 3, 1, 17, tzinfo=UTC), Duration(10, "business_days")) == datetime(
        2024, 3, 15, 17, tzinfo=UTC
    )


@given(days, st.integers(min_value=0, max_value=400), holiday_sets)
def test_business_day_arithmetic_lands_on_a_business_day_exactly_n_steps_on(
    start: date, count: int, holidays: frozenset[date]
) -> None:
    end = add_business_days(start, count, holidays)
    assert business_days_between(start, end, holidays) == count
    if count:
        assert is_business_day(end, holidays)
        assert end > start
    # never faster than the calendar: n business days take at least n calendar days
    assert (end - start).days >= count


@given(days, st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=200))
def test_business_days_add_up(start: date, first: int, second: int) -> None:
    assert add_business_days(add_business_days(start, first), second) == add_business_days(start, first + second)


@given(days, st.integers(min_value=1, max_value=120))
def test_five_business_days_without_holidays_are_a_week_from_a_weekday(start: date, weeks: int) -> None:
    if is_business_day(start):
        assert add_business_days(start, 5 * weeks) == start + timedelta(weeks=weeks)


@given(days, st.integers(min_value=0, max_value=36))
def test_months_keep_the_day_or_end_the_month(start: date, months: int) -> None:
    moved = add_months(start, months)
    assert (moved.year - start.year) * 12 + moved.month - start.month == months
    assert moved.day == start.day or (moved.day < start.day and (moved + timedelta(days=1)).day == 1)
