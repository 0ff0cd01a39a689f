"""The queue's bulk bar: which alerts (each with the version the officer saw) and what to do
with them. Parse only: alerts.bulk decides."""

from __future__ import annotations

from django import forms

from compliance_hub.digits import parse_id

from .bulk import Chosen
from .models import Disposition
from .services import RATIONALE_MAX_LENGTH

CLOSE, ESCALATE, ASSIGN_ME = "close", "escalate", "assign_me"


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(CLOSE, "Close"), (ESCALATE, "Escalate"), (ASSIGN_ME, "Assign to me")],
        label="With the chosen alerts",
    )
    disposition = forms.ChoiceField(
        choices=[("", "No disposition"), *Disposition.choices],
        required=False,
        label="Disposition (to close)",
    )
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=RATIONALE_MAX_LENGTH,
        required=False,
        label="Rationale",
        help_text="Why: needed to close.",
    )
    # The queue's filters, to come back to the same list afterwards.
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)


def chosen_alerts(values: list[str]) -> list[Chosen] | None:
    """The checkboxes' values ("<alert id>:<version>") as choices; None if any is malformed."""
    chosen: list[Chosen] = []
    for value in values:
        alert_part, _, version_part = value.partition(":")
        alert_id, version = parse_id(alert_part), parse_id(version_part)
        if alert_id is None or version is None:
            return None
        chosen.append(Chosen(alert_id, version))
    return chosen
