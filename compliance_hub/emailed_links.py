"""Whether a link we email (a member's invitation, an employee's consent link) is also shown on
the page of the admin who sent it.

A local demo prints its emails on the console, so nobody receives the link: the page shows it
instead. Never in production, where the link is its recipient's credential and belongs in their
inbox only. One rule for every page that sends such a link.
"""

from __future__ import annotations

from django.conf import settings

CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"


def emailed_links_shown_on_page() -> bool:
    return not settings.IS_PRODUCTION and settings.EMAIL_BACKEND == CONSOLE_BACKEND
