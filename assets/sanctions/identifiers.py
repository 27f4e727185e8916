"""Identifier schemes every list parser shares, their check-digit tests (python-stdnum), and the
Russian INN / OGRN numbers written into free text (UK and EU remarks)."""

import re
from collections.abc import Callable

from stdnum import imo, lei
from stdnum.cn import uscc
from stdnum.ru import inn, ogrn

from assets.sanctions.countries import to_iso2

# A scheme with a checker gets is_valid True/False; any other scheme gets null (no check).
VALIDATORS: dict[str, Callable[[str], bool]] = {
    "RU_INN": inn.is_valid,
    "RU_OGRN": ogrn.is_valid,
    "IMO": imo.is_valid,
    "LEI": lei.is_valid,
    "CN_USCC": uscc.is_valid,
}


def check_digits(scheme: str, value: str) -> bool | None:
    """The check-digit verdict for a scheme that has one, else None."""
    validator = VALIDATORS.get(scheme)
    return validator(value) if validator is not None else None


# FollowTheMoney property names (OpenSanctions' data, including its EU Official Journal
# transcriptions) and the schemes they hold.
FTM_IDENTIFIER_PROPERTIES: dict[str, str] = {
    "innCode": "RU_INN",
    "ogrnCode": "RU_OGRN",
    "kppCode": "RU_KPP",
    "okpoCode": "RU_OKPO",
    "imoNumber": "IMO",
    "mmsi": "MMSI",
    "leiCode": "LEI",
    "swiftBic": "SWIFT_BIC",
    "vatCode": "VAT_NUMBER",
    "taxNumber": "TAX_ID",
    "registrationNumber": "REGISTRATION_NUMBER",
    "passportNumber": "PASSPORT",
    "idNumber": "NATIONAL_ID",
}

# Russian identifiers in free text: "INN 7704730655", "Tax ID No. 7704730655 (Russia)",
# "OGRN: 1027700132195", "TIN (Taxpayer Identification Number) ...", "7704730655 (Tax ID/INN)".
_RU_LABELS = (
    r"OGRNIP|OGRN|INN|TIN|Tax ID(?: No\.?)?|Tax Identification Number"
    r"|Taxpayer Identification Number|Principal State Registration Number"
)
_LABEL_FIRST = re.compile(
    rf"(?<![A-Za-z])(?P<label>{_RU_LABELS})(?![A-Za-z])"
    r"(?:\s*\([^()]{0,60}\))?\)?\s*(?:[:#№.\-–]\s*)?(?:No\.?\s*)?"
    r"(?<!\d)(?P<value>\d{9,15})(?!\d)(?:\s*\((?P<country>[^()]{1,40})\))?"
)
_VALUE_FIRST = re.compile(r"(?<!\d)(?P<value>\d{9,15})\s*\((?P<label>[^()]{1,60})\)")


def find_russian_ids(text: str | None) -> list[tuple[str, str]]:
    """(scheme, value) pairs for the INN / OGRN numbers labelled in free text, in text order.

    `INN`, `OGRN`/`OGRNIP` labels give `RU_INN`/`RU_OGRN` whatever the length (the check digits
    then decide validity); a generic tax label (`Tax ID`, `TIN`, ...) gives `RU_INN` only for 10
    or 12 digits.
    """
    if not text:
        return []
    found: list[tuple[int, str, str]] = []
    for pattern in (_LABEL_FIRST, _VALUE_FIRST):
        for match in pattern.finditer(text):
            country = match.groupdict().get("country")
            scheme = _label_scheme(match.group("label"), match.group("value"), country)
            if scheme is not None:
                found.append((match.start("value"), scheme, match.group("value")))
    return list(dict.fromkeys((scheme, value) for _, scheme, value in sorted(found)))


def _label_scheme(label: str, value: str, country: str | None = None) -> str | None:
    if re.search(r"OGRN|Principal State Registration", label):
        return "RU_OGRN"
    if re.search(r"(?<![A-Za-z])INN(?![A-Za-z])", label):
        return "RU_INN"
    foreign = country is not None and to_iso2(country) not in (None, "RU")
    if re.search(r"Tax|TIN", label) and len(value) in (10, 12) and not foreign:
        return "RU_INN"
    return None
