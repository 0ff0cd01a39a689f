"""The archive page's filters."""

from __future__ import annotations

from django import forms

from consent.models import Employee


class ConversationFilterForm(forms.Form):
    employee = forms.ModelChoiceField(queryset=Employee.objects.none(), required=False)
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
