from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter

from compliance_hub.crypto import decrypt_text, encrypt_text


class MFAAdapter(DefaultMFAAdapter):
    """allauth stores TOTP seeds as given by default; ours are encrypted at rest."""

    def encrypt(self, text: str) -> str:
        return encrypt_text(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_text(encrypted_text)
