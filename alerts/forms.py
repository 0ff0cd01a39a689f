"""The queue's filters and the alert page's forms (parse only: the services decide)."""

from __future__ import annotations

from datetime import timedelta

from django import forms

from compliance_hub.accounts.models import User
from compliance_hub.digits import parse_id
from compliance_hub.forms import OptionListSelect, RecordChoiceField
from compliance_hub.tenancy.models import Tenant
from consent.models import Employee, Team
from policies.models import Policy

from .models import Disposition, Level, Status
from .selectors import QueueFilters
from .services import COMMENT_MAX_LENGTH, RATIONALE_MAX_LENGTH, reviewers

STATUS_FILTER = [
    ("", "Still to review (open, in review, escalated)"),
    *Status.choices,
    ("all", "Any status"),
]
SEVERITIES = [
    ("", "Any severity"),
    ("critical", "Critical"),
    ("high", "High"),
    ("medium", "Medium"),
    ("low", "Low"),
]
AGES = [
    ("", "Any age"),
    ("1", "Older than a day"),
    ("3", "Older than 3 days"),
    ("7", "Older than a week"),
    ("30", "Older than a month"),
]
SORT_CHOICES = [
    ("risk", "Riskiest first"),
    ("newest", "Newest first"),
    ("due", "Due soonest first"),
]
UNASSIGNED = "none"


class QueueFilterForm(forms.Form):
    # Every select of the queue's filters writes its options in one pass (OptionListSelect):
    # with hundreds of employees, Django's per-option templates were half of a page's CPU.
    status = forms.ChoiceField(choices=STATUS_FILTER, required=False, widget=OptionListSelect)
    severity = forms.ChoiceField(choices=SEVERITIES, required=False, widget=OptionListSelect)
    policy = RecordChoiceField(
        queryset=Policy.objects.none(), required=False, widget=OptionListSelect
    )
    # Free text, since a firm's own term rules name their own categories; the built-in ones are
    # offered by name (the page's datalist "alert-categories").
    category = forms.CharField(
        max_length=64, required=False, widget=forms.TextInput(attrs={"list": "alert-categories"})
    )
    employee = RecordChoiceField(
        queryset=Employee.objects.none(), required=False, widget=OptionListSelect
    )
    team = RecordChoiceField(queryset=Team.objects.none(), required=False, widget=OptionListSelect)
    assignee = forms.ChoiceField(required=False, widget=OptionListSelect)
    age = forms.ChoiceField(choices=AGES, required=False, widget=OptionListSelect)
    overdue = forms.BooleanField(required=False, label="Overdue only")
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False, widget=OptionListSelect)

    def __init__(self, *args: object, tenant: Tenant, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        choices = {
            "policy": (Policy.objects.filter(tenant=tenant).order_by("name", "id"), "Any policy"),
            "employee": (
                Employee.objects.filter(tenant=tenant).order_by("full_name", "id"),
                "Any employee",
            ),
            "team": (Team.objects.filter(tenant=tenant).order_by("name", "id"), "Any team"),
        }
        for name, (queryset, empty) in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset
            field.empty_label = empty
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ChoiceField)
        assignee.choices = [
            ("", "Anyone or nobody"),
            (UNASSIGNED, "Nobody yet"),
            *[(str(u.pk), u.email) for u in reviewers(tenant)],
        ]

    def filters(self) -> QueueFilters:
        """The filters chosen (call after is_valid())."""
        data = self.cleaned_data
        assignee = data.get("assignee") or ""
        return QueueFilters(
            status=data.get("status") or "",
            severity=data.get("severity") or "",
            policy_id=data["policy"].pk if data.get("policy") else None,
            category=(data.get("category") or "").strip(),
            employee_id=data["employee"].pk if data.get("employee") else None,
            team_id=data["team"].pk if data.get("team") else None,
            unassigned=assignee == UNASSIGNED,
            assignee_id=parse_id(assignee),
            older_than=timedelta(days=int(data["age"])) if data.get("age") else None,
            overdue=bool(data.get("overdue")),
            sort=data.get("sort") or "risk",
        )


class VersionedForm(forms.Form):
    # The alert's version the officer saw: a change made on a stale page is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class TransitionForm(VersionedForm):
    to = forms.ChoiceField(choices=Status.choices, label="Move to")
    disposition = forms.ChoiceField(
        choices=[("", "No disposition (only needed to close)"), *Disposition.choices],
        required=False,
    )
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=RATIONALE_MAX_LENGTH,
        required=False,
        label="Rationale",
        help_text="Why: needed to close (and to reopen a closed alert).",
    )
    with_group = forms.BooleanField(
        required=False,
        label="Also close the other open alerts of this group (same conversation, close in time)",
    )


class ReviewerField(RecordChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.email


class AssignForm(VersionedForm):
    assignee = ReviewerField(queryset=User.objects.none(), required=False, empty_label="Nobody")

    def __init__(
        self, *args: object, tenant: Tenant, level: int = Level.FIRST, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(
            pk__in=[u.pk for u in reviewers(tenant, level=level)]
        ).order_by("email")


class CommentForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=COMMENT_MAX_LENGTH,
        label="Comment",
        help_text="Name a colleague with @ and their email address (@name@firm.example).",
    )
