"""allauth MFA forms, adjusted where our rules differ from allauth's defaults."""

from __future__ import annotations

from typing import Any

from allauth.mfa.totp.forms import ActivateTOTPForm
from allauth.mfa.totp.internal import auth as totp_auth
from django import forms


class StableActivateTOTPForm(ActivateTOTPForm):
    """allauth 65 makes a new pending secret on every GET of the activation page, so any second
    look at the page (a reload, a second tab, a stray request) makes the QR code already on
    screen useless. Here the pending secret lives in the session until the authenticator is
    activated (allauth then clears it) or the session ends (logout, expiry)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # ActivateTOTPForm.__init__ would regenerate the secret; everything else it does is here.
        self.user = kwargs.pop("user")
        forms.Form.__init__(self, *args, **kwargs)
        self.secret = totp_auth.get_totp_secret(regenerate=False)
