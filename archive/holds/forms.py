"""The legal hold pages' forms: place a hold, correct its matter or reason, release it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from compliance_hub.forms import RecordChoiceField, RecordMultipleChoiceField
from compliance_hub.phones import phone_for_display
from consent.models import Employee
from consent.pseudonymised import PeopleLens, PseudonymRefused

from ..models import Conversation
from ..search.models import SavedSearch


class ConversationChoiceField(RecordMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        client = obj.counterparty_name or (
            phone_for_display(obj.counterparty_wa_id)
            if obj.counterparty_wa_id
            else obj.counterparty_key
        )
        return f"{obj.employee.full_name} with {client}"


class PseudonymChoiceField(forms.MultipleChoiceField):
    """A masked reader's employees, chosen by pseudonym: what they submit is resolved inside the
    firm by the form (``clean_employees``), whose refusal says what is wrong in words, rather
    than Django's "not one of the available choices"."""

    def valid_value(self, value: str) -> bool:
        return True


class LegalHoldForm(forms.Form):
    matter = forms.CharField(
        max_length=200, help_text="The case, inquiry or request the hold serves"
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    employees = RecordMultipleChoiceField(
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
    saved_search = RecordChoiceField(
        queryset=SavedSearch.objects.none(), required=False,
        help_text="Kept as it is now: a later change to the saved search does not change "
        "the hold",
    )  # fmt: skip

    def __init__(
        self, *args: Any, tenant: Any, lens: PeopleLens | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lens = lens if lens is not None and lens.masked else None
        chats = Conversation.objects.filter(tenant=tenant).select_related("employee")
        if self.lens is not None:
            self._masked(self.lens, chats)
        else:
            self._field("employees").queryset = Employee.objects.filter(tenant=tenant).order_by(
                "full_name", "id"
            )
            self._field("conversations").queryset = chats.order_by(
                "employee__full_name", "counterparty_name", "id"
            )
        saved = self._field("saved_search")
        saved.queryset = SavedSearch.objects.filter(tenant=tenant, deleted_at__isnull=True)
        saved.empty_label = "None"

    def _masked(self, lens: PeopleLens, chats: Any) -> None:
        """A masked reader (compliance_hub/tenancy/walls.py) chooses employees by the pseudonym
        the alert pages show, and conversations by the two pseudonyms; both in the rows' order,
        since the names' order would give them away."""
        employees = self.fields["employees"]
        self.fields["employees"] = PseudonymChoiceField(
            choices=[(shown, shown) for shown in lens.hold_choices], required=False,
            label=employees.label, help_text=employees.help_text,
        )  # fmt: skip
        conversations = self._field("conversations")
        conversations.queryset = chats.order_by("id")
        conversations.label_from_instance = lambda chat: (  # type: ignore[method-assign,assignment]
            f"{lens.employee_by_pk(chat.employee_id)} with {lens.client(chat.counterparty_key)}"
        )

    def clean_employees(self) -> list[int]:
        chosen = self.cleaned_data.get("employees") or []
        if self.lens is None:
            return [employee.pk for employee in chosen]
        ids, refused = [], []
        for shown in chosen:
            try:
                ids.append(self.lens.pk_of(shown))
            except PseudonymRefused as error:
                refused.append(str(error))
        if refused:
            raise forms.ValidationError(refused)
        return list(dict.fromkeys(ids))

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
            "employee_ids": list(data.get("employees") or []),
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
