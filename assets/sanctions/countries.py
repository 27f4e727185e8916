"""Country names as sanctions lists write them, mapped to ISO 3166-1 alpha-2."""

from functools import cache

import pycountry

# Spellings pycountry's fuzzy search gets wrong or misses.
_OVERRIDES = {
    "russia": "RU",
    "iran": "IR",
    "syria": "SY",
    "north korea": "KP",
    "korea, north": "KP",
    "south korea": "KR",
    "korea, south": "KR",
    "burma": "MM",
    "turkey": "TR",
    "turkiye": "TR",
    "türkiye": "TR",
    "taiwan": "TW",
    "vietnam": "VN",
    "laos": "LA",
    "moldova": "MD",
    "venezuela": "VE",
    "bolivia": "BO",
    "tanzania": "TZ",
    "congo, democratic republic of the": "CD",
    "democratic republic of the congo": "CD",
    "united kingdom": "GB",
    "kosovo": "XK",
    "region: crimea": "UA",
    "crimea": "UA",
    "west bank": "PS",
    "gaza": "PS",
    "palestinian": "PS",
}


@cache
def to_iso2(name: str | None) -> str | None:
    """ISO alpha-2 code for a country name or code, or None when it cannot be told."""
    if not name:
        return None
    text = name.strip()
    key = text.lower()
    if key in _OVERRIDES:
        return _OVERRIDES[key]
    if len(text) == 2:
        # A code must be written as one: "na" in a nationality field means "not available".
        found = pycountry.countries.get(alpha_2=text) if text.isupper() else None
        return str(found.alpha_2) if found is not None else None
    for attribute in ("alpha_3", "name", "official_name", "common_name"):
        found = pycountry.countries.get(**{attribute: text})  # type: ignore[arg-type]
        if found is not None:
            return str(found.alpha_2)
    return None
