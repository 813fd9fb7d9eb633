"""Region groups used by statements ("EU", "EEA", "APEC") as sets of country codes."""

from __future__ import annotations

EU = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "IE", "IT",
        "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    }
)  # fmt: skip
EEA = EU | {"IS", "LI", "NO"}
APEC = frozenset(
    {
        "AU", "BN", "CA", "CL", "CN", "HK", "ID", "JP", "KR", "MY", "MX",
        "NZ", "PG", "PE", "PH", "RU", "SG", "TW", "TH", "US", "VN",
    }
)  # fmt: skip
GROUPS = {"EU": EU, "EEA": EEA, "APEC": APEC}


def within(place: str, region: str) -> bool:
    """Is ``place`` (a country, subdivision like US-CA, or group) inside ``region``?"""
    if region == "*" or place == region:
        return True
    country = place.split("-", 1)[0]
    if country == region:
        return True
    group = GROUPS.get(region)
    return group is not None and country in group
