"""The legal hold pages' forms: place a hold, correct its matter or reason, release it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from compliance_hub.phones import phone_for_display
from consent.models import Employee

from ..models import Conversation
from ..search.models import SavedSearch


class ConversationChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        client = obj.counterparty_name or (
            phone_for_display(obj.counterparty_wa_id)
            if obj.counterparty_wa_id
            else obj.counterparty_key
        )
        return f"{obj.employee.full_name} with {client}"


class LegalHoldForm(forms.Form):
    matter = forms.CharField(
        max_length=200, help_text="The case, inquiry or request the hold serves"
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    employees = forms.ModelMultipleChoiceField(
        queryset=Employee.objects.none(), required=False,
        help_text="Their messages, with any client (hold Ctrl or ⌘ to choose several)",
    )  # fmt: skip
    conversations = ConversationChoiceField(
        queryset=Conversation.objects.none(), required=False,
        help_text="These conversations only",
    )  # fmt: skip
    counterparty = forms.CharField(
        required=False, max_length=300, label="Client",
        help_text="The client's number or part of their name, as in search",
    )  # fmt: skip
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"})
    )
    saved_search = forms.ModelChoiceField(
        queryset=SavedSearch.objects.none(), required=False,
        help_text="Kept as it is now: a later change to the saved search does not change "
        "the hold",
    )  # fmt: skip

    def __init__(self, *args: Any, tenant: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._field("employees").queryset = Employee.objects.filter(tenant=tenant).order_by(
            "full_name", "id"
        )
        self._field("conversations").queryset = (
            Conversation.objects.filter(tenant=tenant)
            .select_related("employee")
            .order_by("employee__full_name", "counterparty_name", "id")
        )
        saved = self._field("saved_search")
        saved.queryset = SavedSearch.objects.filter(tenant=tenant, deleted_at__isnull=True)
        saved.empty_label = "None"

    def _field(self, name: str) -> forms.ModelChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ModelChoiceField)
        return field

    def clean(self) -> dict:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            raise forms.ValidationError("The end date is before the start date.")
        return data

    def scope(self) -> dict[str, Any]:
        """The service's keyword arguments: the dates are whole days in the user's time zone,
        as UTC instants (``until`` is the end of its day)."""
        data = self.cleaned_data

        def start_of(day: date) -> datetime:
            local = datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
            return local.astimezone(UTC)

        return {
            "matter": data["matter"],
            "reason": data["reason"],
            "employee_ids": [e.pk for e in data.get("employees") or []],
            "conversation_ids": [c.pk for c in data.get("conversations") or []],
            "counterparty": data.get("counterparty") or "",
            "since": start_of(data["since"]) if data.get("since") else None,
            "until": start_of(data["until"] + timedelta(days=1)) if data.get("until") else None,
            "saved_search": data["saved_search"].pk if data.get("saved_search") else None,
        }


class HoldEditForm(forms.Form):
    matter = forms.CharField(max_length=200)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class ReleaseForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the release", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the audit trail",
    )  # fmt: skip
