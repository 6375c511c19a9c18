import pytest

from limitwise.kit.settings import Settings
from limitwise.onboarding.pii import (
    PiiKeyError,
    PiiVault,
    mask_bank_card,
    mask_mobile,
    mask_name,
    mask_plate,
    mask_resident_id,
    mask_vin,
)
from tests.onboarding.factory import key, vault

RID = "110105199003071239"


def test_encrypt_round_trip_hides_plaintext_and_names_the_key():
    v = vault("k1")
    token = v.encrypt("resident_id", RID)
    assert RID not in token and token.startswith("v1.k1.")
    assert v.decrypt("resident_id", token) == RID
    assert v.encrypt("resident_id", RID) != token  # fresh nonce every time


def test_token_is_bound_to_its_field():
    v = vault("k1")
    token = v.encrypt("bank_card", "6222021234567890128")
    with pytest.raises(PiiKeyError, match="authentication"):
        v.decrypt("resident_id", token)


def test_tampered_token_is_refused():
    v = vault("k1")
    token = v.encrypt("resident_id", RID)
    body = token.split(".")[2]
    flipped = body[:20] + ("A" if body[20] != "A" else "B") + body[21:]
    for bad in (flipped, body[:-4], "%%%"):
        with pytest.raises(PiiKeyError):
            v.decrypt("resident_id", f"v1.k1.{bad}")


def test_rotation_reseals_under_the_new_key_and_old_key_can_retire():
    old = vault("k1")
    token = old.encrypt("resident_id", RID)
    both = vault("k2", "k1")
    assert both.decrypt("resident_id", token) == RID  # old tokens still readable
    rotated = both.rotate("resident_id", token)
    assert both.key_id_of(rotated) == "k2"
    assert both.rotate("resident_id", rotated) == rotated  # already current: unchanged
    new_only = vault("k2")
    assert new_only.decrypt("resident_id", rotated) == RID
    with pytest.raises(PiiKeyError, match="unknown key 'k1'"):
        new_only.decrypt("resident_id", token)


def test_blind_index_is_deterministic_keyed_and_field_scoped():
    v = vault("k1")
    assert v.blind_index("resident_id", RID) == v.blind_index("resident_id", RID)
    assert v.blind_index("resident_id", RID) != v.blind_index("mobile", RID)
    other = PiiVault(keys=v.keys, blind_key=b"another-blind-index-key-32bytes!")
    assert other.blind_index("resident_id", RID) != v.blind_index("resident_id", RID)
    assert RID not in v.blind_index("resident_id", RID)


def test_vault_from_settings_parses_keys_and_refuses_bad_ones():
    settings = Settings(pii_keys=f"new:{key('new')},old:{key('old')}")
    assert PiiVault.from_settings(settings).active_key_id == "new"
    for bad in ("", "nokeyid", f"k1:{key('x')[:-8]}", "k1:not base64!"):
        with pytest.raises(PiiKeyError):
            PiiVault.from_settings(Settings(pii_keys=bad))
    with pytest.raises(PiiKeyError):
        PiiVault.from_settings(Settings(blind_index_key="c2hvcnQ="))


def test_masks():
    assert mask_resident_id("110105199003071234") == "110105********1234"
    assert mask_bank_card("6222021234567890128") == "622202*********0128"
    assert mask_mobile("+8613812345678") == "+86138****5678"
    assert mask_name("王小明") == "王**"
    assert mask_plate("京A12345") == "京A***45"
    assert mask_vin("LSVAM4187L2184847") == "LSVAM4187L****847"
