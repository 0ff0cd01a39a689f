"""Browser forms of the consent pages. They parse input; the services decide and record."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance_hub.forms import RecordChoiceField
from compliance_hub.tenancy.models import Tenant

from .employee_rules import FIELDS as RULE_FIELDS
from .employee_rules import MAX_TEAM_NAME, check_employee
from .models import ConsentNotice, ConsentState, Language, Team
from .services import EmployeeData

NOTICE_LANGUAGES = [code for code, _label in Language.choices]
ACTIVE_CHOICES = [("", "Any"), ("yes", "Active"), ("no", "Deactivated")]


def field_name(prefix: str, language: str) -> str:
    """Form field name for a notice text: ``title_pt_br`` for ``pt-br``."""
    return f"{prefix}_{language.replace('-', '_')}"


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the field it names, else on top."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            for message in messages:
                form.add_error(name if name in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


class EmployeeForm(forms.Form):
    full_name = forms.CharField(max_length=200)
    email = forms.EmailField(label="Email address")
    employee_id = forms.CharField(max_length=64, label="Employee id")
    team = RecordChoiceField(queryset=Team.objects.none(), required=False, empty_label="No team")
    region = forms.CharField(
        max_length=2,
        required=False,
        label="Region",
        help_text="Country code (ISO 3166-1), e.g. BR, IN, ES.",
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 4}),
    )
    phone_number = forms.CharField(
        max_length=32,
        label="Work WhatsApp number",
        help_text="With the country code, e.g. +55 11 98765-4321.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    whatsapp_phone_number_id = forms.CharField(
        max_length=32,
        required=False,
        label="WhatsApp phone number id",
        help_text="The id Meta shows for this number (digits only).",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    language = forms.ChoiceField(
        choices=[("", "From the region"), *Language.choices],
        required=False,
        help_text="Language of the notice the employee reads.",
    )

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        team = cast(RecordChoiceField, self.fields["team"])
        team.queryset = Team.objects.filter(tenant=tenant).order_by("name")

    def clean(self) -> dict[str, Any]:
        # The employee rules, beside the fields' own checks, so every problem shows at once; the
        # service applies them again (and the ones that need the database) when it saves.
        super().clean()
        cleaned = self.cleaned_data
        values = {name: self.data.get(self.add_prefix(name), "") for name in RULE_FIELDS}
        _clean, problems = check_employee(values)
        for name, message in problems.items():
            if name not in self.errors:
                self.add_error(name, message)
        return cleaned

    def to_data(self) -> EmployeeData:
        data = self.cleaned_data
        return EmployeeData(
            full_name=data["full_name"],
            email=data["email"],
            employee_id=data["employee_id"],
            phone_number=data["phone_number"],
            team=data["team"],
            region=data["region"],
            whatsapp_phone_number_id=data["whatsapp_phone_number_id"],
            language=data["language"],
        )


class TeamForm(forms.Form):
    # The rule is the service's (consent/employee_rules.py clean_team_name); the length here is
    # the browser's maxlength.
    name = forms.CharField(max_length=MAX_TEAM_NAME, label="Team name")


class EmployeeFilterForm(forms.Form):
    """Filters of the employee list and the consent register (GET)."""

    q = forms.CharField(required=False, label="Search", help_text="Name, email, id or number.")
    state = forms.ChoiceField(
        choices=[("", "Any"), *ConsentState.choices], required=False, label="Consent"
    )
    team = forms.ChoiceField(choices=[("", "Any")], required=False)
    region = forms.CharField(required=False, max_length=2)
    active = forms.ChoiceField(choices=ACTIVE_CHOICES, required=False, label="Status")

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        # Its own ids: the add-employee form on the same page has fields of the same names.
        kwargs.setdefault("auto_id", "filter_%s")
        super().__init__(*args, **kwargs)
        names = Team.objects.filter(tenant=tenant).order_by("name").values_list("name", flat=True)
        team = cast(forms.ChoiceField, self.fields["team"])
        team.choices = [("", "Any"), *((name, name) for name in names)]

    def selector_filters(self) -> dict:
        """Keyword arguments for ``selectors.employee_list`` (invalid filters are ignored)."""
        data = self.cleaned_data if self.is_valid() else {}
        active = {"yes": True, "no": False}.get(data.get("active", ""))
        return {
            "search": (data.get("q") or "").strip(),
            "consent_state": data.get("state") or "",
            "team": data.get("team") or "",
            "region": (data.get("region") or "").strip(),
            "active": active,
        }


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        required=False,
        label=_("Reason (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DeactivationForm(forms.Form):
    reason = forms.CharField(
        max_length=500,  # what the employee record keeps
        required=False,
        label="Reason (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NoticeChoiceField(RecordChoiceField):
    """A published notice, shown by its version and publication day."""

    def label_from_instance(self, obj: ConsentNotice) -> str:
        return f"Version {obj.version} (published {obj.published_at:%Y-%m-%d})"


class RecordConsentForm(forms.Form):
    """An opt-in given on paper or elsewhere, with the signed form or a pointer to it."""

    notice = NoticeChoiceField(
        queryset=ConsentNotice.objects.none(), empty_label=None, label="Notice version"
    )
    evidence = forms.FileField(
        required=False,
        label="Signed form (PDF, PNG or JPEG, at most 10 MB)",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )
    evidence_reference = forms.CharField(
        max_length=500,
        required=False,
        label="Or: where the evidence is kept",
        help_text="E.g. 'HR file 2024/117, signed paper form'.",
    )
    signed_on = forms.DateField(
        required=False,
        label="Signed on",
        help_text="Leave empty for now. A past date counts from the end of that day (UTC).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    signature_name = forms.CharField(
        max_length=200,
        required=False,
        label="Signed by (name)",
        help_text="Optional. If given, the employee's full name as on their record (capital "
        "letters and accents do not matter).",
    )

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        published = ConsentNotice.objects.filter(
            tenant=tenant, status=ConsentNotice.Status.PUBLISHED
        ).order_by("-version")
        cast(NoticeChoiceField, self.fields["notice"]).queryset = published

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("evidence") and not (data.get("evidence_reference") or "").strip():
            raise ValidationError("Attach the signed form or describe where the evidence is kept.")
        return data

    def occurred_at(self) -> datetime | None:
        """Paper gives a date, not a time: count the consent from the end of that day (never
        earlier than it can be proven), or from now when the day is today."""
        signed_on: date | None = self.cleaned_data.get("signed_on")
        if signed_on is None:
            return None
        end_of_day = datetime.combine(signed_on, time(23, 59, 59), tzinfo=UTC)
        return min(end_of_day, timezone.now())


class NoticeDraftForm(forms.Form):
    """Title and text of a draft notice in each language (a language left empty is omitted)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for code, label in Language.choices:
            self.fields[field_name("title", code)] = forms.CharField(
                max_length=200, required=False, label=f"Title ({label})"
            )
            self.fields[field_name("body", code)] = forms.CharField(
                required=False,
                label=f"Text ({label})",
                widget=forms.Textarea(attrs={"rows": 14}),
            )

    @staticmethod
    def initial_from(texts: dict) -> dict[str, str]:
        initial = {}
        for code in NOTICE_LANGUAGES:
            entry = texts.get(code) or {}
            initial[field_name("title", code)] = entry.get("title", "")
            initial[field_name("body", code)] = entry.get("body", "")
        return initial

    def language_fields(self) -> list[tuple[str, str, forms.BoundField, forms.BoundField]]:
        return [
            (code, label, self[field_name("title", code)], self[field_name("body", code)])
            for code, label in Language.choices
        ]

    def texts(self) -> dict[str, dict[str, str]]:
        data = self.cleaned_data
        return {
            code: {
                "title": data[field_name("title", code)],
                "body": data[field_name("body", code)],
            }
            for code in NOTICE_LANGUAGES
        }


class PublishNoticeForm(forms.Form):
    reconsent_by = forms.DateField(
        required=False,
        label="Re-consent required by (optional)",
        help_text="Consents to earlier versions stop covering capture after the end of this day "
        "(UTC). Leave empty to let earlier consents stand.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    # Set by the confirmation page's button only: a publication is always asked about first.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def deadline(self) -> datetime | None:
        """Consent must be given by the end of the chosen day: the next day at 00:00 UTC."""
        day = self.cleaned_data.get("reconsent_by")
        if day is None:
            return None
        return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=UTC)


class SignatureForm(forms.Form):
    """The typed signature. The rule (the employee's own full name) lives in the service; the
    help text says it next to the field so nobody has to guess."""

    signature_name = forms.CharField(
        max_length=200,
        label=_("Type your full name to sign"),
        widget=forms.TextInput(
            attrs={"autocomplete": "name", "autocapitalize": "words", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, employee_name: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["signature_name"].help_text = _(
            "Type it as shown here: %(name)s. Capital letters and accents do not matter."
        ) % {"name": employee_name}

    def clean_signature_name(self) -> str:
        name = " ".join(self.cleaned_data["signature_name"].split())
        if not name:
            raise ValidationError(_("Type your full name to sign."))
        return name


class DeclineForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        required=False,
        label=_("Reason (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: full_name, email, employee_id, phone_number; optional team, region, "
        "whatsapp_phone_number_id, language. UTF-8, one employee per line.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    create_teams = forms.BooleanField(
        required=False,
        label="Create the teams this file names",
        help_text="Off: a row naming a team that does not exist is refused. On: the preview "
        "lists the new teams, and they are created when you confirm the import.",
    )
