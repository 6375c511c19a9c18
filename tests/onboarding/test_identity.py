import datetime as dt

import pytest

from limitwise.kit.errors import InvalidInput
from limitwise.onboarding.identity import (
    check_bank_card,
    check_cn_mobile,
    check_resident_id,
    check_vin_format,
)
from limitwise.providers.vehicle import vin_check_digit_ok

TODAY = dt.date(2026, 11, 23)


def code_of(run) -> str:
    with pytest.raises(InvalidInput) as caught:
        run()
    return caught.value.code


def test_valid_resident_id_yields_birth_date_region_and_age():
    rid = check_resident_id(" 110105199003071239 ", today=TODAY)
    assert rid.number == "110105199003071239"
    assert rid.birth_date == dt.date(1990, 3, 7)
    assert rid.region_code == "110105"
    assert rid.region_name == "北京市朝阳区"
    assert rid.age_on(TODAY) == 36
    assert rid.age_on(dt.date(2026, 3, 6)) == 35  # the day before the birthday


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105199003071238", "id_check_digit"),  # last digit off by one
        ("110105199002301234", "id_birth_date"),  # 30 February
        ("110105199502290014", "id_birth_date"),  # 29 February in a non-leap year
        ("999999199003071239", "id_region"),  # no such division
        ("110105203001014569", "id_birth_date"),  # born in 2030
        ("11010519900307123", "id_format"),  # 17 characters
        ("11010519900307123Y", "id_format"),
        ("11010519900307123٩", "id_format"),  # an Arabic-Indic digit
    ],
)
def test_invalid_resident_ids_name_the_rule(number, code):
    assert code_of(lambda: check_resident_id(number, today=TODAY)) == code


def test_full_width_digits_are_normalised():
    assert check_resident_id("１１０１０５１９９００３０７１２３９", today=TODAY).number == (
        "110105199003071239"
    )


def test_check_digit_x_is_accepted_in_either_case():
    from stdnum.cn import ric

    body = "11010519491231002"
    number = body + ric.calc_check_digit(body + "0")
    assert check_resident_id(number.lower(), today=TODAY).number == number


def test_bank_card_luhn():
    assert check_bank_card("6222 0212 3456 7890 128") == "6222021234567890128"
    assert code_of(lambda: check_bank_card("6222021234567890127")) == "card_check_digit"
    assert code_of(lambda: check_bank_card("4111-1111")) == "card_format"
    assert code_of(lambda: check_bank_card("62220212345678901x")) == "card_format"


@pytest.mark.parametrize("raw", ["13812345678", "+86 138 1234 5678", "008613812345678"])
def test_cn_mobile_normalised_to_e164(raw):
    assert check_cn_mobile(raw) == "+8613812345678"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("010 1234 5678", "mobile_not_mobile"),  # Beijing landline
        ("+1 415 555 2671", "mobile_invalid"),  # not China
        ("12345", "mobile_invalid"),
        ("call me", "mobile_format"),
    ],
)
def test_invalid_mobiles(raw, code):
    assert code_of(lambda: check_cn_mobile(raw)) == code


def test_vin_format_and_check_digit():
    assert check_vin_format(" lsvam4187l2184847") == "LSVAM4187L2184847"
    assert vin_check_digit_ok("LSVAM4187L2184847")
    assert not vin_check_digit_ok("LSVAM4188L2184847")
    assert code_of(lambda: check_vin_format("LSVAM4187L218484")) == "vin_format"
    assert code_of(lambda: check_vin_format("LSVAM4187L218484O")) == "vin_format"  # letter O
