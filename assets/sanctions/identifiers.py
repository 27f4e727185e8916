"""Identifier schemes every list parser shares, and their check-digit tests (python-stdnum)."""

from collections.abc import Callable

from stdnum import imo, lei
from stdnum.cn import uscc
from stdnum.ru import inn, ogrn

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
