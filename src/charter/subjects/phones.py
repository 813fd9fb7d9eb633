"""How stores may hold one phone number: with or without its country code, however it is punctuated.

A request carries a phone in E.164 (``+15125550102``, ``charter.subjects.normalize``); a shop's table may
hold ``512-555-0102``, ``(512) 555-0102`` or ``+1 512 555 0102``. The connectors compare a phone by its
digits alone (``connectors.base.matching``), which takes care of the punctuation but not of the country
code: ``15125550102`` is not ``5125550102``. So a phone is searched in each of its forms: as given, in
E.164, and, for a number of the installation's own country (``CHARTER_IDENTITY_PHONE_REGION``), in its
national form (``(512) 555-0102``; ``07700 900123`` with the UK's trunk prefix). A number saved without a
country code is taken to be of that country, as the organization's own staff and forms wrote it; a number
of another country is not searched in a national form, which could be someone else's number at home.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["forms"]


def forms(values: Iterable[Any], region: str) -> list[str]:
    """Every value as given, then the E.164 and (in ``region``'s country) national forms of each that reads
    as a possible phone number; no value twice. A value that is not a number stays as given, alone."""
    # phonenumbers' metadata is loaded with the first phone number searched, not by every process
    import phonenumbers

    out: dict[str, None] = {}
    home = phonenumbers.country_code_for_region(region)
    for value in values:
        text = str(value)
        out[text] = None
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_possible_number(number):
            continue
        out[phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)] = None
        if number.country_code == home:
            out[phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)] = None
    return list(out)
