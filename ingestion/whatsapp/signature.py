"""Meta's ``X-Hub-Signature-256``: HMAC-SHA256 of the exact raw body, keyed with the app secret.

Meta signs the bytes it sent (JSON with escaped unicode); any re-serialisation changes them, so
the check runs on ``request.body`` before anything parses it.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for ``body`` (tests and the load generator use it)."""
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_is_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    """Constant-time check of the header against the body; False for a missing/malformed one."""
    if not header or not app_secret or not header.startswith(PREFIX):
        return False
    return hmac.compare_digest(sign(body, app_secret), header.strip())
