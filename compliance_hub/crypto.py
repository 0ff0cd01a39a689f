"""Encryption of secrets at rest (TOTP seeds now; WhatsApp app secrets and tokens later).

Fernet (AES-128-CBC + HMAC-SHA256) from the ``cryptography`` package; MultiFernet so keys can
rotate: the first key of FIELD_ENCRYPTION_KEYS encrypts, all of them decrypt.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        # Local and test only (production settings require explicit keys): derived from the
        # SECRET_KEY so a fresh checkout works without ceremony.
        digest = hashlib.sha256(("field-encryption:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_text(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


@lru_cache(maxsize=1024)
def decrypt_text(token: str) -> str:
    """Memoised by ciphertext: the webhook decrypts its tenant's app secret on every delivery,
    which cost a tenth of its CPU. The ciphertext is still read each time, so a changed secret
    (a new ciphertext) takes effect at once; a failure is never memoised."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError(
            "Cannot decrypt: wrong FIELD_ENCRYPTION_KEYS or corrupted value"
        ) from error
