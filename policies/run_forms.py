"""Forms of the backtest and lookback pages: the date range, read in the person's own time zone,
and for a backtest the draft document as JSON."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

# Far above any real policy (a few kilobytes), well below what would strain the parser.
MAX_DRAFT_CHARACTERS = 200_000
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


DEFAULT_DAYS = 30  # what an officer checking a change usually looks at first


class RunRangeForm(forms.Form):
    date_from = forms.DateField(label="From (first day)", widget=DATE)
    date_to = forms.DateField(label="To (last day, included)", widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Prefilled with the last 30 days up to today in the person's own time zone, so the
        # first run is one click; an empty range only made the browser refuse the form.
        today = timezone.localdate()
        self.initial.setdefault("date_to", today)
        self.initial.setdefault("date_from", today - timedelta(days=DEFAULT_DAYS - 1))


class BacktestForm(RunRangeForm):
    document = forms.CharField(
        label="Draft policy (JSON)",
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "mono"}),
        max_length=MAX_DRAFT_CHARACTERS,
        help_text="Prefilled with the saved version; change it to see what the change would do.",
    )

    def clean_document(self) -> Any:
        text = self.cleaned_data["document"]
        try:
            return json.loads(text)
        except RecursionError:
            raise forms.ValidationError("This JSON is nested far too deeply.") from None
        except ValueError as error:
            raise forms.ValidationError(f"This is not valid JSON: {error}.") from None


class LookbackForm(RunRangeForm):
    confirm = forms.BooleanField(
        label="I understand that this raises real alerts on earlier messages.",
        error_messages={"required": "Tick the box to confirm that real alerts will be raised."},
    )
