"""Identity number checks, done by the well-kept libraries (python-stdnum, phonenumbers).

Each check returns the normalised value or raises :class:`InvalidInput` naming the field and
the rule broken (``id_check_digit``, ``id_birth_date``, ...), so the application parser can
report every problem at once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.util import clean
from vininfo import Vin
from vininfo.exceptions import ValidationError as VinValidationError

from limitwise.kit.errors import InvalidInput

CARD_DIGITS_MIN = 15
CARD_DIGITS_MAX = 19
RESIDENT_ID_PATTERN = re.compile(r"[0-9]{17}[0-9X]")
CARD_PATTERN = re.compile(rf"[0-9]{{{CARD_DIGITS_MIN},{CARD_DIGITS_MAX}}}")


@dataclass(frozen=True)
class ResidentId:
    """A valid 18-digit PRC resident ID and what it encodes."""

    number: str
    birth_date: dt.date
    region_code: str
    region_name: str

    def age_on(self, day: dt.date) -> int:
        """Whole years completed on ``day`` (a 29 February birthday ages on 1 March)."""
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)


def check_resident_id(value: str, *, today: dt.date, field: str = "resident_id") -> ResidentId:
    """Length/format, birth date (real and not in the future), region code, check digit."""
    number = ric.compact(value).upper()
    if not RESIDENT_ID_PATTERN.fullmatch(number):
        raise InvalidInput(
            "a resident ID has 17 digits and a check digit (0-9 or X)",
            field=field,
            code="id_format",
        )
    try:
        birth_date = ric.get_birth_date(number)
    except InvalidComponent:
        raise InvalidInput(
            f"birth date {number[6:14]} in the resident ID is not a real date",
            field=field,
            code="id_birth_date",
        ) from None
    if birth_date > today:
        raise InvalidInput(
            "birth date in the resident ID is in the future", field=field, code="id_birth_date"
        )
    try:
        place = ric.get_birth_place(number)
    except InvalidComponent:
        raise InvalidInput(
            f"region code {number[:6]} is not a known PRC administrative division",
            field=field,
            code="id_region",
        ) from None
    try:
        ric.validate(number)
    except InvalidChecksum:
        raise InvalidInput(
            "the resident ID check digit does not match (ISO 7064 MOD 11-2)",
            field=field,
            code="id_check_digit",
        ) from None
    except (InvalidFormat, InvalidLength, InvalidComponent):
        raise InvalidInput("not a valid resident ID", field=field, code="id_format") from None
    region_name = "".join(str(part) for part in place.values())
    return ResidentId(number, birth_date, number[:6], region_name)


def check_bank_card(value: str, *, field: str = "bank_card") -> str:
    """A debit/credit card number: 15-19 digits with a valid Luhn check digit."""
    number = clean(value, " -").strip()
    if not CARD_PATTERN.fullmatch(number):
        raise InvalidInput(
            f"a bank card number has {CARD_DIGITS_MIN}-{CARD_DIGITS_MAX} digits",
            field=field,
            code="card_format",
        )
    if not luhn.is_valid(number):
        raise InvalidInput(
            "the bank card check digit does not match (Luhn)", field=field, code="card_check_digit"
        )
    return number


def check_cn_mobile(value: str, *, field: str = "mobile") -> str:
    """A mainland China mobile number, returned in E.164 (``+8613812345678``)."""
    try:
        parsed = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidInput("not a phone number", field=field, code="mobile_format") from None
    if (
        not phonenumbers.is_valid_number(parsed)
        or phonenumbers.region_code_for_number(parsed) != "CN"
    ):
        raise InvalidInput(
            "not a valid mainland China phone number", field=field, code="mobile_invalid"
        )
    if phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidInput(
            "the number is not a mobile number", field=field, code="mobile_not_mobile"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def check_vin_format(value: str, *, field: str = "vehicle.vin") -> str:
    """17 characters from the VIN alphabet (no I, O, Q); the check digit is a vehicle fact."""
    vin = value.strip().upper()
    try:
        Vin.validate(vin)
    except VinValidationError as exc:
        raise InvalidInput(f"not a VIN: {exc}", field=field, code="vin_format") from None
    return vin
