"""Forms of the review settings page and of unmasking an alert (parse only)."""

from __future__ import annotations

from django import forms

from .masking import REASON_MAX_LENGTH
from .review_settings import SLA_MAX_HOURS, parse_sla_hours, severities


class ReviewSettingsForm(forms.Form):
    pseudonymise = forms.BooleanField(
        required=False,
        label="Pseudonymised review",
        help_text="Reviewers see employees and clients as stable pseudonyms (Employee 7F3A9C, "
        "Client 19C2AB) until they unmask one alert with a reason. Auditors are not affected.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for severity in severities():
            # Text, not a number input: the page answers "0", "-3", "1e9" or "١٢" in words.
            self.fields[f"sla_{severity}"] = forms.CharField(
                label=f"{severity.capitalize()} alerts: hours to review",
                max_length=100,
                help_text=f"A whole number from 1 to {SLA_MAX_HOURS}.",
            )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        for severity in severities():
            name = f"sla_{severity}"
            if name in data:
                try:
                    data[name] = parse_sla_hours(str(data[name]))
                except ValueError as problem:
                    self.add_error(name, str(problem))
        return data

    def sla_hours(self) -> dict[str, int]:
        return {s: self.cleaned_data[f"sla_{s}"] for s in severities()}


class UnmaskForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=REASON_MAX_LENGTH,
        label="Why do you need to see who this is?",
        help_text="Kept in the audit trail and shown to the firm's admins.",
    )
