"""Browser form of the WhatsApp connection settings."""

from __future__ import annotations

import re

from django import forms
from django.utils.text import capfirst

from .services import SECRET_FIELDS, SETTING_LABELS

SECRET_MAX_LENGTH = 1000


def secret_input() -> forms.PasswordInput:
    # PasswordInput never renders a value back, so a saved or mistyped secret never reaches the
    # HTML; autocomplete off keeps browsers from offering to save it as a login password.
    return forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"})


def split_waba_ids(text: str) -> list[str]:
    """``"123, 456\\n789"`` → ``["123", "456", "789"]``: commas, spaces or new lines separate."""
    return [part for part in re.split(r"[\s,;]+", text) if part]


class WhatsAppSettingsForm(forms.Form):
    """Secrets left empty keep their saved value. Values are checked by
    :func:`ingestion.services.save_whatsapp_settings` (spaces, length, digits), whose errors the
    view puts on these fields; ``strip=False`` so a pasted value with a stray space is refused,
    not silently trimmed into something the admin did not check."""

    app_secret = forms.CharField(
        label=capfirst(SETTING_LABELS["app_secret"]),
        required=False,
        strip=False,
        max_length=SECRET_MAX_LENGTH,
        widget=secret_input(),
        help_text="Meta App Dashboard → App settings → Basic → App secret (Show). "
        "Meta signs every delivery with it. Leave empty to keep the saved one.",
    )
    verify_token = forms.CharField(
        label=capfirst(SETTING_LABELS["verify_token"]),
        required=False,
        strip=False,
        max_length=SECRET_MAX_LENGTH,
        widget=secret_input(),
        help_text="A string you make up (at least 8 characters). Enter the same one in App "
        "Dashboard → WhatsApp → Configuration → Webhook → Verify token. Leave empty to keep "
        "the saved one.",
    )
    access_token = forms.CharField(
        label=capfirst(SETTING_LABELS["access_token"]),
        required=False,
        strip=False,
        max_length=SECRET_MAX_LENGTH,
        widget=secret_input(),
        help_text="A system user's token: Meta Business Suite → Business settings → Users → "
        "System users → Generate new token, with whatsapp_business_messaging and "
        "whatsapp_business_management. Used to download media. Leave empty to keep the saved one.",
    )
    waba_ids = forms.CharField(
        label=capfirst(SETTING_LABELS["waba_ids"]),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="App Dashboard → WhatsApp → API Setup (WhatsApp Business Account ID). "
        "Several: separate them with commas or new lines.",
    )

    def changes(self) -> dict:
        """Keyword arguments for ``save_whatsapp_settings``: the secrets that were typed, and
        the WABA ids as listed (the box shows the saved ones, so it always says the whole list)."""
        given: dict = {
            name: self.cleaned_data[name] for name in SECRET_FIELDS if self.cleaned_data.get(name)
        }
        given["waba_ids"] = split_waba_ids(self.cleaned_data.get("waba_ids", ""))
        return given
