"""The PII vault: encryption at rest with key ids, a keyed blind index, and masking.

Values are sealed with AES-256-GCM under the newest key; each token names its key id so old
keys keep decrypting after a rotation and ``rotate`` re-seals a token under the newest key.
The field name is bound as associated data, so a card token cannot be passed off as an ID.
Lookups and duplicate checks use an HMAC-SHA256 blind index instead of the plaintext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from limitwise.kit.errors import InvalidInput
from limitwise.kit.settings import Settings, get_settings

NONCE_BYTES = 12
TOKEN_VERSION = "v1"


class PiiKeyError(InvalidInput):
    code = "pii_key_invalid"


def _decode_key(text: str, *, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise PiiKeyError(f"{what} is not valid base64", field=what) from None


def parse_keys(spec: str) -> dict[str, bytes]:
    """``id:base64key,id:base64key`` -> ordered {key id: 32-byte key}; the first one encrypts."""
    keys: dict[str, bytes] = {}
    for part in (p for p in spec.split(",") if p.strip()):
        key_id, sep, encoded = part.strip().partition(":")
        if not sep or not key_id.isalnum():
            raise PiiKeyError("each PII key must be written as id:base64", field="pii_keys")
        key = _decode_key(encoded, what="pii_keys")
        if len(key) != 32:
            raise PiiKeyError(f"PII key {key_id} must be 32 bytes (AES-256)", field="pii_keys")
        keys[key_id] = key
    if not keys:
        raise PiiKeyError("at least one PII key is required", field="pii_keys")
    return keys


@dataclass(frozen=True)
class PiiVault:
    keys: dict[str, bytes]
    blind_key: bytes

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> PiiVault:
        settings = settings or get_settings()
        settings.require_own_keys()
        blind_key = _decode_key(settings.blind_index_key, what="blind_index_key")
        if len(blind_key) < 16:
            raise PiiKeyError("blind index key must be at least 16 bytes", field="blind_index_key")
        return cls(keys=parse_keys(settings.pii_keys), blind_key=blind_key)

    @property
    def active_key_id(self) -> str:
        return next(iter(self.keys))

    def encrypt(self, field: str, plaintext: str) -> str:
        """Seal ``plaintext`` under the active key: ``v1.<key id>.<base64 nonce+ciphertext>``."""
        key_id = self.active_key_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[key_id]).encrypt(nonce, plaintext.encode(), field.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{TOKEN_VERSION}.{key_id}.{body}"

    def decrypt(self, field: str, token: str) -> str:
        _version, key_id, body = self._split(token)
        key = self.keys.get(key_id)
        if key is None:
            raise PiiKeyError(f"PII token was sealed with unknown key {key_id!r}", field=field)
        try:
            raw = base64.urlsafe_b64decode(body)
            plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], field.encode())
        except (InvalidTag, binascii.Error, ValueError):
            raise PiiKeyError("PII token failed authentication", field=field) from None
        return plain.decode()

    def rotate(self, field: str, token: str) -> str:
        """Re-seal ``token`` under the active key (unchanged if it already uses it)."""
        if self.key_id_of(token) == self.active_key_id:
            return token
        return self.encrypt(field, self.decrypt(field, token))

    def key_id_of(self, token: str) -> str:
        return self._split(token)[1]

    def blind_index(self, field: str, value: str) -> str:
        """Keyed HMAC of the normalised value: equal values match, nothing is revealed."""
        message = f"{field}:{value}".encode()
        return hmac.new(self.blind_key, message, hashlib.sha256).hexdigest()

    @staticmethod
    def _split(token: str) -> tuple[str, str, str]:
        version, _, rest = token.partition(".")
        key_id, _, body = rest.partition(".")
        if version != TOKEN_VERSION or not key_id or not body:
            raise PiiKeyError("not a limitwise PII token", field="token")
        return version, key_id, body


# --- masking: what screens, logs and stored inputs show --------------------------------------


def _mask(value: str, *, keep_start: int, keep_end: int) -> str:
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + (value[-keep_end:] if keep_end else "")


def mask_resident_id(value: str) -> str:
    """``110105194912310021`` -> ``110105********0021`` (region kept, birth date hidden)."""
    return _mask(value, keep_start=6, keep_end=4)


def mask_bank_card(value: str) -> str:
    """``6222021234567890123`` -> ``622202*********0123`` (issuer BIN and last four kept)."""
    return _mask(value, keep_start=6, keep_end=4)


def mask_mobile(value: str) -> str:
    """``+8613812345678`` -> ``+86138****5678``."""
    return _mask(value, keep_start=len(value) - 8, keep_end=4)


def mask_name(value: str) -> str:
    """``张三丰`` -> ``张**``: the family name only."""
    return _mask(value, keep_start=1, keep_end=0)


def mask_plate(value: str) -> str:
    """``京A12345`` -> ``京A***45``."""
    return _mask(value, keep_start=2, keep_end=2)


def mask_vin(value: str) -> str:
    """``LSVAM4187C2184847`` -> ``LSVAM4187C****847`` (maker and model year kept)."""
    return _mask(value, keep_start=10, keep_end=3)
