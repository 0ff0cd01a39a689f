"""Browser forms of the platform pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Model
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from compliance_hub.accounts.time_zones import time_zone_names
from compliance_hub.digits import parse_id
from compliance_hub.tenancy.models import Role

# No role is preselected where access is granted: the admin chooses it deliberately.
CHOOSE_ROLE = [("", "Choose a role…"), *Role.choices]


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=CHOOSE_ROLE)


class IdField(forms.Field):
    """A database id sent back by the browser, in ASCII digits only (compliance_hub/digits.py):
    forms.IntegerField reads "١٢" as 12 and "²" as an error only after int() tried it."""

    default_error_messages = {"invalid": "Choose a valid entry."}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = parse_id(value.strip() if isinstance(value, str) else value)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class RecordChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField whose key must be an id in ASCII digits before it is looked up: the
    model field's int() would otherwise accept Arabic-Indic and fullwidth digits."""

    def to_python(self, value):
        if value in self.empty_values or isinstance(value, self.queryset.model):
            return super().to_python(value)
        if parse_id(value if isinstance(value, str) else str(value)) is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class RecordMultipleChoiceField(forms.ModelMultipleChoiceField):
    """RecordChoiceField's rule for several records: each key an id in ASCII digits."""

    def clean(self, value: Any) -> Any:
        for key in value if isinstance(value, list | tuple) else []:
            if isinstance(key, Model):
                continue
            if parse_id(key if isinstance(key, str) else str(key)) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": key},
                )
        return super().clean(value)


def _attributes(attrs: dict[str, Any]) -> SafeString:
    """An element's attributes as Django's widgets/attrs.html writes them: in the given order,
    ``True`` as a bare name, ``False`` left out, every name and value escaped."""
    return mark_safe(  # noqa: S308  # nosec B308, B703  # every part below went through format_html
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not False
        )
    )


class OptionListSelect(forms.Select):
    """A select whose options are written in one pass of format_html, the same bytes as
    Django's select.html and select_option.html write.

    Django renders every option through its own widget templates: for the queue's filters
    (about 400 employees, teams, policies, reviewers) that was ~45% of a queue page's CPU
    (docs/benchmarks.md, the load mix). The options, which is selected and the labels
    (pseudonyms for a masked reader: label_from_instance) still come from Django's own
    get_context; only the writing is ours, escaped as the templates escape it
    (tests/test_option_list_select.py compares the two)."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts: list[str] = []
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            parts.extend(
                format_html(
                    # select_option.html ends with a newline, included after "\n  "
                    '\n  <option value="{}"{}>{}</option>\n',
                    str(option["value"]),
                    _attributes(option["attrs"]),
                    option["label"],
                )
                for option in options
            )
            if group_name:
                parts.append("\n  </optgroup>")
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            widget["name"],
            _attributes(widget["attrs"]),
            mark_safe("".join(parts)),  # noqa: S308  # nosec B308, B703  # each part went through format_html
        )


class TenantSwitchForm(forms.Form):
    # An id the browser sends back: anything else is "not a member" (and never reaches the ORM).
    membership = IdField()


class MembershipForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
    is_active = forms.BooleanField(required=False, label="Active")


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses this key, e.g. 'HR sync'.")
    role = forms.ChoiceField(choices=CHOOSE_ROLE)
    # A member's id the browser sends back (compliance_hub/digits.py); "" is a machine's key.
    member = forms.ChoiceField(
        required=False,
        label="Acts for",
        help_text="A key acting for a member claims and moves alerts as them, with no more than "
        "their role, and stops working when they leave or their role drops.",
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        field = self.fields["member"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", "Nobody (a system's key)"),
            *[(str(pk), label) for pk, label in members],
        ]

    def member_id(self) -> int | None:
        """The chosen member's user id (call after is_valid())."""
        return parse_id(self.cleaned_data.get("member") or "")


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

    def clean(self) -> dict[str, Any]:
        from django.contrib.auth import password_validation

        from compliance_hub.accounts.models import User

        super().clean()
        data = self.cleaned_data
        if data.get("password1") != data.get("password2"):
            raise forms.ValidationError("The two passwords differ.")
        if data.get("password1"):
            password_validation.validate_password(
                data["password1"], User(email=self.email, full_name=data.get("full_name", ""))
            )
        return data


class TimeZoneForm(forms.Form):
    # A list to pick from; what arrives is checked against the tz database by the service
    # (change_time_zone), which also accepts the legacy names the list leaves out.
    time_zone = forms.CharField(
        max_length=64,
        label="Time zone",
        help_text="Times on the pages are shown in this zone, and the dates you type into "
        "filters are read in it. Exports and the API stay in UTC.",
        widget=forms.Select(choices=[(name, name) for name in time_zone_names()]),
    )
