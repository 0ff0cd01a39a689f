"""Exceptions of the consent app that reads and writes share (selectors raise them for a bad
link, services for a refused action). A view shows their message as it is."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ConsentError(ValidationError):
    """A consent action that cannot be done as asked; the message is safe to show."""


class SignatureMismatch(ConsentError):
    """The typed signature is not the employee's full name."""


class AlreadyConsented(ConsentError):
    """The employee's standing consent already covers the notice version asked about."""


class NumberInUse(ValidationError):
    pass
