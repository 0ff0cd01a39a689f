"""Download links of exports: signed, short-lived, bound to one export and one person (or API key).

A bag is a bulk disclosure of the archive, so its link must not work for whoever it is forwarded
to, nor for long (issue 10: "links expire"). Django's signing (HMAC with SECRET_KEY, a timestamp
checked against ``max_age``) does exactly this; nothing is stored per link.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from compliance_hub.audit.actors import Actor

from .models import Export

SALT = "archive.export-download"


class LinkRefused(Exception):
    """A download link that cannot be used, with what to tell the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LinkExpired(LinkRefused):
    """Signed by us, for this export and person, but older than settings.EXPORT_LINK_MAX_AGE."""


def _holder(actor: Actor) -> str:
    if actor.user is not None:
        return f"user:{actor.user.pk}"
    if actor.api_key is not None:
        return f"key:{actor.api_key.pk}"
    return ""


def download_token(*, export: Export, actor: Actor) -> str:
    """A token for ``export`` that only ``actor`` may use, until settings.EXPORT_LINK_MAX_AGE."""
    holder = _holder(actor)
    if not holder:
        raise ValueError("Only a person or an API key can hold a download link.")
    return signing.dumps(
        {"tenant": export.tenant_id, "export": export.pk, "holder": holder}, salt=SALT
    )


def check_download_token(token: str, *, export: Export, actor: Actor) -> None:
    """Raise :class:`LinkExpired` or :class:`LinkRefused` unless ``token`` was signed by us for
    this export and this person, within settings.EXPORT_LINK_MAX_AGE."""
    try:
        claims = signing.loads(token, salt=SALT, max_age=settings.EXPORT_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise LinkExpired(
            "This download link has expired. Open the export again for a fresh link."
        ) from None
    except signing.BadSignature:
        raise LinkRefused("This download link is not valid. Open the export for a link.") from None
    expected = {"tenant": export.tenant_id, "export": export.pk, "holder": _holder(actor)}
    if claims != expected:
        raise LinkRefused(
            "This download link was made for another export or another person. "
            "Open the export for a link of your own."
        )
