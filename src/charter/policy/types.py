"""Small value types the statement schema is built from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, PlainSerializer, StringConstraints

PromiseId = Annotated[str, StringConstraints(pattern=r"^P-[A-Z]{3}-\d+$")]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_\-]*$", max_length=80)]
#: ISO 3166-1 alpha-2 country, a subdivision (US-CA), a region (EU, EEA, APEC) or "*" (anywhere).
Region = Annotated[str, StringConstraints(pattern=r"^(\*|[A-Z]{2}(-[A-Z0-9]{1,3})?|EU|EEA|APEC)$")]

DurationUnit = Literal["hours", "days", "business_days", "weeks", "months", "years"]

_UNIT_ALIASES: dict[str, DurationUnit] = {
    "hour": "hours",
    "hours": "hours",
    "day": "days",
    "days": "days",
    "calendar day": "days",
    "calendar days": "days",
    "business day": "business_days",
    "business days": "business_days",
    "business_days": "business_days",
    "week": "weeks",
    "weeks": "weeks",
    "month": "months",
    "months": "months",
    "year": "years",
    "years": "years",
}
_ISO_UNITS: dict[str, DurationUnit] = {"D": "days", "W": "weeks", "M": "months", "Y": "years"}
#: Approximate length in days, used only to compare durations ("is it longer?").
_APPROX_DAYS: dict[DurationUnit, float] = {
    "hours": 1 / 24,
    "days": 1.0,
    "business_days": 7 / 5,
    "weeks": 7.0,
    "months": 30.44,
    "years": 365.25,
}
_HUMAN = re.compile(r"^\s*(\d{1,5})\s+([a-z_ ]+?)\s*$")
_ISO = re.compile(r"^P(\d{1,5})([DWMY])$|^PT(\d{1,5})H$")


@dataclass(frozen=True, order=False)
class Duration:
    """A legal period: "45 days", "10 business days", "1 month" (or ISO ``P45D``).

    Kept in the unit the law states, because "one month" is not 30 days and
    business days skip weekends; ``approx_days`` exists only to compare.
    """

    amount: int
    unit: DurationUnit

    @classmethod
    def parse(cls, value: object) -> Duration:
        if isinstance(value, Duration):
            return value
        if isinstance(value, dict) and {"amount", "unit"} <= value.keys():
            return cls.parse(f"{value['amount']} {value['unit']}")
        if not isinstance(value, str):
            raise ValueError(f"expected a duration such as '30 days' or 'P1M', got {type(value).__name__}")
        text = value.strip()
        iso = _ISO.match(text)
        if iso:
            if iso.group(3):
                return cls(int(iso.group(3)), "hours")
            return cls(int(iso.group(1)), _ISO_UNITS[iso.group(2)])
        human = _HUMAN.match(text.lower())
        if human and human.group(2) in _UNIT_ALIASES:
            return cls(int(human.group(1)), _UNIT_ALIASES[human.group(2)])
        raise ValueError(f"{value!r} is not a duration; write e.g. '30 days', '10 business days', '1 month' or 'P1M'")

    @property
    def approx_days(self) -> float:
        return self.amount * _APPROX_DAYS[self.unit]

    def __str__(self) -> str:
        unit = self.unit.replace("_", " ")
        if self.amount == 1:
            unit = unit[:-1]
        return f"{self.amount} {unit}"


def _parse_duration(value: Any) -> Duration:
    return Duration.parse(value)


DurationField = Annotated[
    Duration,
    BeforeValidator(_parse_duration),
    PlainSerializer(str, return_type=str),
]
