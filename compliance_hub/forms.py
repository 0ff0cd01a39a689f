"""Browser forms of the platform pages."""

from __future__ import annotations

from django import forms

from compliance_hub.tenancy.models import Role

# No role is preselected where access is granted: the admin chooses it deliberately.
CHOOSE_ROLE = [("", "Choose a role…"), *Role.choices]


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=CHOOSE_ROLE)


class TenantSwitchForm(forms.Form):
    # An id the browser sends back: anything else is "not a member" (and never reaches the ORM).
    membership = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class MembershipForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
    is_active = forms.BooleanField(required=False, label="Active")


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses this key, e.g. 'HR sync'.")
    role = forms.ChoiceField(choices=CHOOSE_ROLE)


class AuditFilterForm(forms.Form):
    # Free text underneath (a code or a prefix such as "auth."), so links and exports keep
    # working; the page offers it as a list of labelled actions and groups.
    action = forms.CharField(required=False, max_length=64)
    actor = forms.CharField(required=False)
    target = forms.CharField(required=False)
    ip_address = forms.GenericIPAddressField(required=False, label="IP address")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


class AcceptInvitationForm(forms.Form):
    """For an invitee who has no account yet."""

    full_name = forms.CharField(max_length=200)
    password1 = forms.CharField(widget=forms.PasswordInput, label="Password")
    password2 = forms.CharField(widget=forms.PasswordInput, label="Password again")

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict:
        from django.contrib.auth import password_validation

        from compliance_hub.accounts.models import User

        data = super().clean()
        if data.get("password1") != data.get("password2"):
            raise forms.ValidationError("The two passwords differ.")
        if data.get("password1"):
            password_validation.validate_password(
                data["password1"], User(email=self.email, full_name=data.get("full_name", ""))
            )
        return data
