"""The archive page's filters and the search page's form."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from compliance_hub.forms import RecordChoiceField
from consent.models import Employee

from .holds.models import LegalHold
from .holds.selectors import legal_holds
from .models import Direction
from .search.query import MAX_QUERY_LENGTH


class ConversationFilterForm(forms.Form):
    employee = RecordChoiceField(queryset=Employee.objects.none(), required=False)
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["employee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Employee.objects.filter(tenant=tenant).order_by("full_name", "id")
        field.empty_label = "Every employee"

    def clean(self) -> dict:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            raise forms.ValidationError("The end date is before the start date.")
        return data


# Meta's message types, in the words of the people who search (the type names are Meta's).
MESSAGE_TYPES = [
    ("", "Every type"),
    ("text", "Text"),
    ("image", "Photo"),
    ("video", "Video"),
    ("audio", "Voice or audio"),
    ("document", "Document"),
    ("sticker", "Sticker"),
    ("location", "Location"),
    ("contacts", "Contact card"),
    ("interactive", "Button or list reply"),
    ("button", "Template button reply"),
    ("reaction", "Reaction"),
    ("system", "System notice"),
]
YES_NO = [("", "Either"), ("yes", "Yes"), ("no", "No")]
SEARCH_HELP = (
    "Words match every form (invest, investing). Combine with AND, OR, NOT and brackets; "
    '"exact phrase"; invest* for words that start so; tip w/3 stock for words within 3 '
    "words of each other, tip pre/3 stock for the first before the second. Search one field "
    "with from:, to:, body: or filename:."
)


class HoldChoiceField(RecordChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.matter if obj.is_active else f"{obj.matter} (released)"


class MessageSearchForm(forms.Form):
    """The search page's query and filters; :meth:`criteria` gives them as the search selector
    (archive/search/selectors.py) takes them."""

    q = forms.CharField(
        required=False, label="Search", max_length=MAX_QUERY_LENGTH, strip=False,
        help_text=SEARCH_HELP, widget=forms.TextInput(attrs={"type": "search"}),
    )  # fmt: skip
    employee = RecordChoiceField(queryset=Employee.objects.none(), required=False)
    direction = forms.ChoiceField(
        required=False, choices=[("", "Both directions"), *Direction.choices]
    )
    type = forms.ChoiceField(required=False, choices=MESSAGE_TYPES, label="Message type")
    has_attachment = forms.ChoiceField(required=False, choices=YES_NO, label="Has an attachment")
    edited = forms.ChoiceField(required=False, choices=YES_NO, label="Edited")
    deleted = forms.ChoiceField(required=False, choices=YES_NO, label="Deleted for everyone")
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"})
    )
    legal_hold = HoldChoiceField(
        queryset=LegalHold.objects.none(), required=False, label="Legal hold",
        help_text="Only the messages this hold freezes now",
    )  # fmt: skip
    order = forms.ChoiceField(
        required=False,
        choices=[("newest", "Newest first"), ("relevance", "Most relevant first")],
        label="Order",
    )

    def __init__(self, *args, tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["employee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Employee.objects.filter(tenant=tenant).order_by("full_name", "id")
        field.empty_label = "Every employee"
        holds = self.fields["legal_hold"]
        assert isinstance(holds, forms.ModelChoiceField)
        holds.queryset = legal_holds(tenant=tenant)  # active first, a released one still listed
        holds.empty_label = "Any message"

    def clean(self) -> dict:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            raise forms.ValidationError("The end date is before the start date.")
        return data

    def criteria(self) -> dict[str, Any]:
        """The filters as keyword arguments of ``search_messages``: the dates are whole days in
        the current time zone (the days the user typed), as UTC instants."""
        data = self.cleaned_data

        def flag(name: str) -> bool | None:
            return {"yes": True, "no": False}.get(data.get(name) or "")

        def start_of(day: date) -> datetime:
            local = datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
            return local.astimezone(UTC)

        return {
            "employee": data["employee"].pk if data.get("employee") else None,
            "direction": data.get("direction") or "",
            "message_type": data.get("type") or "",
            "has_attachment": flag("has_attachment"),
            "edited": flag("edited"),
            "deleted": flag("deleted"),
            "since": start_of(data["since"]) if data.get("since") else None,
            "until": start_of(data["until"] + timedelta(days=1)) if data.get("until") else None,
            "legal_hold": data["legal_hold"].pk if data.get("legal_hold") else None,
            "order": data.get("order") or "newest",
        }
