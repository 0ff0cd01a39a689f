"""Forms of the retention and erasure pages: they parse; the services decide (and word the
refusals, which the views put back on the field at fault)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from compliance_hub.forms import RecordChoiceField
from compliance_hub.tenancy.models import Tenant
from consent.models import Employee, Team

from .models import ErasureRequest, RetentionPolicy, SubjectKind
from .rules import MAX_YEARS, PRESETS


class RetentionPolicyForm(forms.Form):
    preset = forms.ChoiceField(
        label="Regulation", choices=[(code, p.name) for code, p in PRESETS.items()]
    )
    years = forms.IntegerField(
        label="Years kept", min_value=1, max_value=MAX_YEARS, required=False,
        help_text="Leave empty for the regulation's period. Never below its floor.",
    )  # fmt: skip
    scope = forms.ChoiceField(label="Applies to", choices=RetentionPolicy.ScopeChoice.choices)
    team = RecordChoiceField(
        label="Team", queryset=Team.objects.none(), required=False,
        help_text="When it applies to one team",
    )  # fmt: skip
    region = forms.CharField(
        label="Country", max_length=10, required=False,
        help_text="When it applies to one country: two letters, e.g. BR or US",
    )  # fmt: skip

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(tenant=tenant)  # type: ignore[attr-defined]


class ErasureRequestForm(forms.Form):
    subject_kind = forms.ChoiceField(
        label="Whose data", choices=SubjectKind.choices, widget=forms.RadioSelect
    )
    counterparty_number = forms.CharField(
        label="Client's WhatsApp number", max_length=40, required=False,
        help_text="With the country code, e.g. +55 11 98765-4321",
    )  # fmt: skip
    employee = RecordChoiceField(label="Employee", queryset=Employee.objects.none(), required=False)
    law = forms.ChoiceField(label="Made under", choices=ErasureRequest.Law.choices)
    requested_by = forms.CharField(
        label="Who asked", max_length=200, help_text="The person, or who wrote on their behalf"
    )
    requested_on = forms.DateField(
        label="Asked on", widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )  # fmt: skip

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["employee"].queryset = Employee.objects.filter(tenant=tenant)  # type: ignore[attr-defined]
