"""Forms of the policy pages that Django's forms suit: the note of a save, the JSON view's text and
the "test this text" box. The editor's own fields (rows of tests and rules) are converted by the
pure policies/documents/form.py, so the API and tests get the same document from them."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms

from .trial import MAX_TRIAL_TEXT

MAX_DOCUMENT_TEXT = 500_000  # characters of the JSON view; the packs' largest is about 20,000
# C0 controls other than tab and line breaks, and DEL: a chat message does not hold them, a
# pasted file does.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class DocumentTextError(ValueError):
    """The JSON view's text is not a JSON document; the message says where, in words."""


def parse_document_text(text: str) -> Any:
    """The document typed in the JSON view. Raises DocumentTextError."""
    if len(text) > MAX_DOCUMENT_TEXT:
        raise DocumentTextError(
            f"The document is longer than {MAX_DOCUMENT_TEXT:,} characters: shorten it."
        )
    if not text.strip():
        raise DocumentTextError("The document is empty: write the policy as a JSON object.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DocumentTextError(
            f"This is not valid JSON: {error.msg.lower()} (line {error.lineno}, "
            f"column {error.colno})."
        ) from None
    except RecursionError:
        raise DocumentTextError("The document is nested too deeply to read.") from None


def pretty(document: object) -> str:
    """The document as the JSON view shows it ("" for one nested too deeply to write out)."""
    try:
        return json.dumps(document, indent=2, ensure_ascii=False)
    except RecursionError:
        return ""


class NoteForm(forms.Form):
    note = forms.CharField(
        label="Why it changed",
        required=False,
        max_length=500,
        help_text="Kept with the new version (optional).",
    )


class TrialForm(forms.Form):
    # In the editor's form, whose Save must not wait for a message to test.
    use_required_attribute = False

    text = forms.CharField(
        label="Message to test",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MAX_TRIAL_TEXT,
        strip=False,
        error_messages={
            "required": "Paste a message to test the policy on.",
            "max_length": f"A message holds at most {MAX_TRIAL_TEXT:,} characters: "
            "paste a shorter one.",
        },
    )
    direction = forms.ChoiceField(
        label="Sent",
        required=False,
        choices=[("", "Either way"), ("inbound", "By the client"), ("outbound", "By the employee")],
    )
    team = forms.CharField(label="Employee's team", required=False, max_length=100)
    employee = forms.CharField(label="Employee ID", required=False, max_length=64)
    region = forms.CharField(label="Employee's country", required=False, max_length=2)
    internal = forms.BooleanField(label="Between colleagues", required=False)

    def clean_text(self) -> str:
        text: str = self.cleaned_data["text"]
        if _BINARY.search(text):
            raise forms.ValidationError(
                "This looks like a file's contents, not a message: paste the message's text."
            )
        if not text.strip():
            raise forms.ValidationError("Paste a message to test the policy on.")
        return text

    def clean_region(self) -> str:
        region: str = self.cleaned_data["region"].strip().upper()
        if region and not re.fullmatch(r"[A-Z]{2}", region):
            raise forms.ValidationError("A two-letter country code, such as BR.")
        return region
