"""Outside development mode nothing serves or stores personal data under published keys."""

from __future__ import annotations

import base64

import pytest

from limitwise.kit.settings import Settings, UnsafeSettings
from limitwise.onboarding.pii import PiiVault

OWN_PII_KEYS = "k1:" + base64.b64encode(b"p" * 32).decode()
OWN_BLIND_KEY = base64.b64encode(b"b" * 32).decode()


def test_published_keys_are_refused_outside_dev_naming_the_settings():
    with pytest.raises(UnsafeSettings) as caught:
        Settings(env="").require_own_keys()
    assert "LIMITWISE_PII_KEYS and LIMITWISE_BLIND_INDEX_KEY" in caught.value.message
    assert "LIMITWISE_ENV=dev" in caught.value.message
    with pytest.raises(UnsafeSettings) as caught:
        Settings(env="production", pii_keys=OWN_PII_KEYS).require_own_keys()
    assert caught.value.field == "LIMITWISE_BLIND_INDEX_KEY"


def test_own_keys_or_dev_mode_are_accepted():
    Settings(env="", pii_keys=OWN_PII_KEYS, blind_index_key=OWN_BLIND_KEY).require_own_keys()
    Settings(env="dev").require_own_keys()
    Settings(env=" DEV ").require_own_keys()


def test_the_vault_every_personal_data_command_opens_checks_the_keys():
    with pytest.raises(UnsafeSettings):
        PiiVault.from_settings(Settings(env=""))
    vault = PiiVault.from_settings(
        Settings(env="", pii_keys=OWN_PII_KEYS, blind_index_key=OWN_BLIND_KEY)
    )
    assert vault.active_key_id == "k1"


def test_a_server_also_needs_its_own_token_secret():
    own = {"pii_keys": OWN_PII_KEYS, "blind_index_key": OWN_BLIND_KEY}
    Settings(env="", **own).require_own_keys()
    with pytest.raises(UnsafeSettings) as caught:
        Settings(env="", **own).require_own_keys(serving=True)
    assert caught.value.field == "LIMITWISE_JWT_SECRET"
    Settings(env="", jwt_secret="s" * 40, **own).require_own_keys(serving=True)
    Settings(env="dev").require_own_keys(serving=True)
