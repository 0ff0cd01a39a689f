from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator

from compliance_hub.crypto import decrypt_text, encrypt_text


class MFAAdapter(DefaultMFAAdapter):
    """allauth stores TOTP seeds as given by default; ours are encrypted at rest."""

    def encrypt(self, text: str) -> str:
        return encrypt_text(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_text(encrypted_text)

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        # Two-factor authentication is required for every account: the authenticator app
        # cannot be removed (the page that would do it answers 403, see views.mfa_required).
        return authenticator.type != Authenticator.Type.TOTP
