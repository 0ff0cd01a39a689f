"""The queue's filter form, as each reader kind gets it: the same choices as before its selects
wrote their options in one pass (compliance_hub/forms.py, OptionListSelect): every employee,
team, policy and reviewer, labelled as that reader may see them (pseudonyms and only the named
teams for a masked officer), names as text, the chosen value kept, a plain GET form that works
without JavaScript."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from alerts.masking import SMALL_TEAM, employee_pseudonym
from alerts.review_settings import update_review_settings
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from consent import services as consent
from consent.models import Employee, Team
from policies.models import Policy

SCRIPT_NAME = "<script>alert('x')</script>"


class Selects(HTMLParser):
    """Each <select> of a page by name: its options as (value, label, selected)."""

    def __init__(self) -> None:
        super().__init__()
        self.selects: dict[str, list[tuple[str, str, bool]]] = {}
        self.forms: list[dict[str, str | None]] = []
        self._select: str | None = None
        self._option: list | None = None

    def handle_starttag(self, tag, attrs):
        named = dict(attrs)
        if tag == "form":
            self.forms.append(named)
        elif tag == "select":
            self._select = named["name"]
            self.selects[self._select] = []
        elif tag == "option" and self._select is not None:
            self._option = [named.get("value"), "", "selected" in named]

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None and self._select is not None:
            self.selects[self._select].append(tuple(self._option))
            self._option = None
        elif tag == "select":
            self._select = None


def _selects(page: str) -> Selects:
    parser = Selects()
    parser.feed(page)
    return parser


def _people(tenant) -> tuple[Team, Team]:
    """A team big enough to be named to a masked officer, a small one, and an employee whose
    name is markup."""
    actor = Actor.system()
    big = consent.create_team(tenant=tenant, name="Equities <Sales>", actor=actor)
    small = consent.create_team(tenant=tenant, name="Desk Zeta", actor=actor)
    for n in range(SMALL_TEAM + 1):
        consent.create_employee(
            tenant=tenant,
            data=consent.EmployeeData(
                full_name=SCRIPT_NAME if n == 0 else f"Trader {n}",
                email=f"trader{n}@firm-a.example",
                employee_id=f"T-{n}",
                phone_number=f"+55 11 98800-{n:04d}",
                team=small if n == SMALL_TEAM else big,
            ),
            actor=actor,
        )
    return big, small


def _expected(tenant, *, masked: bool, reviewers: list[str]) -> dict[str, list[tuple[str, str]]]:
    """The choices as the form offered them before: straight from the database."""
    with tenant_scope(tenant):
        if masked:
            employees = [
                (str(pk), employee_pseudonym(tenant.pk, pk))
                for pk in Employee.objects.order_by("pk").values_list("pk", flat=True)
            ]
            teams = [
                (str(t.pk), t.name)
                for t in Team.objects.order_by("name", "id")
                if t.employees.filter(active=True).count() >= SMALL_TEAM
            ]
        else:
            employees = [(str(e.pk), str(e)) for e in Employee.objects.order_by("full_name", "id")]
            teams = [(str(t.pk), t.name) for t in Team.objects.order_by("name", "id")]
        policies = [(str(p.pk), p.name) for p in Policy.objects.order_by("name", "id")]
    return {
        "employee": [("", "Any employee"), *employees],
        "team": [("", "Any team"), *teams],
        "policy": [("", "Any policy"), *policies],
        "assignee": [("", "Anyone or nobody"), ("none", "Nobody yet"), *reviewers],
        "severity": [
            ("", "Any severity"),
            ("critical", "Critical"),
            ("high", "High"),
            ("medium", "Medium"),
            ("low", "Low"),
        ],
        "sort": [
            ("risk", "Riskiest first"),
            ("newest", "Newest first"),
            ("due", "Due soonest first"),
        ],
    }


@pytest.mark.parametrize(
    ("reader", "masked"),
    [("oscar", False), ("oscar", True), ("alice", False), ("alice", True), ("audrey", True)],
)
def test_each_reader_gets_the_same_choices_labelled_for_them(
    request, alerts, tenant_a, alice, oscar, audrey, login_as, reader, masked
):
    _people(tenant_a)
    update_review_settings(tenant=tenant_a, actor=Actor.system(), pseudonymise=masked, sla_hours={})
    person = request.getfixturevalue(reader)
    # Reviewers (officers and admins) review under pseudonyms where the firm chose it; auditors
    # examine the review and read names (alerts/masking.py).
    sees_pseudonyms = masked and reader != "audrey"
    with tenant_scope(tenant_a):
        employee = Employee.objects.filter(tenant=tenant_a).order_by("pk").last()
    assert employee is not None
    page = login_as(person).get(reverse("alerts:queue"), {"employee": employee.pk})
    assert page.status_code == 200
    html = page.content.decode()
    found = _selects(html)
    reviewers = sorted([(str(p.user.pk), p.email) for p in (alice, oscar)], key=lambda r: r[1])
    for name, choices in _expected(tenant_a, masked=sees_pseudonyms, reviewers=reviewers).items():
        assert [(v, label) for v, label, _ in found.selects[name]] == choices, name
    # The chosen employee stays chosen, and only it.
    assert [v for v, _, chosen in found.selects["employee"] if chosen] == [str(employee.pk)]
    # Markup in a name is text; a masked officer sees neither the name nor the small team.
    assert "<script>alert(" not in html
    if sees_pseudonyms:
        assert "&lt;script&gt;" not in html and "Desk Zeta" not in html
    else:
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; (T-0)" in html
        assert "Desk Zeta" in html
    assert "Equities &lt;Sales&gt;" in html
    # A plain GET form: the filters work without JavaScript.
    assert any((f.get("method") or "get").lower() == "get" for f in found.forms)


def test_a_masked_officer_is_refused_an_employee_by_a_name_order_guess(
    alerts, tenant_a, oscar, login_as
):
    """The filter still validates against the same choices: an id that is not a choice is
    refused with the form's words, not applied."""
    update_review_settings(tenant=tenant_a, actor=Actor.system(), pseudonymise=True, sla_hours={})
    _, small = _people(tenant_a)
    page = login_as(oscar).get(reverse("alerts:queue"), {"team": small.pk}).content.decode()
    assert "Select a valid choice" in page
    assert [v for v, _, chosen in _selects(page).selects["team"] if chosen] == []
