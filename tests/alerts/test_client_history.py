"""The alert page lists the earlier alerts with the same client, whichever of the firm's
employees or numbers the client talked to (issue 12: "earlier alerts of the same employee and
counterparty"; the page listed the employee's only), under the second-level rule."""

from __future__ import annotations

from django.urls import reverse

from alerts.models import Alert, Status
from alerts.services import transition_alert
from archive.models import Conversation
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope


def _client_section(client, alert: Alert) -> str:
    page = client.get(reverse("alerts:alert", args=[alert.pk])).content.decode()
    return page.split("Earlier alerts with this client", 1)[-1].split("</ul>", 1)[0]


def _move(alert: Alert, *, counterparty: str) -> None:
    """Put ``alert`` on another conversation of its employee (another business number)."""
    with tenant_scope(alert.tenant_id):
        other = Conversation.objects.create(
            tenant_id=alert.tenant_id, employee_id=alert.employee_id,
            business_phone_number_id="999000", counterparty_key=counterparty,
            counterparty_wa_id=counterparty,
        )  # fmt: skip
        Alert.objects.filter(pk=alert.pk).update(conversation=other)


def test_the_clients_earlier_alerts_are_listed_across_conversations(alerts, login_as, oscar):
    first, second = alerts
    client = login_as(oscar)
    link = reverse("alerts:alert", args=[first.pk])
    assert f'<a href="{link}">Alert {first.pk}</a>' in _client_section(client, second)

    _move(first, counterparty=first.conversation.counterparty_key)  # same client, other number
    assert f'<a href="{link}">Alert {first.pk}</a>' in _client_section(client, second)
    # Only earlier ones: the first alert's page does not list the second.
    assert (
        "No earlier alerts with this client"
        in client.get(reverse("alerts:alert", args=[first.pk])).content.decode()
    )


def test_another_clients_alerts_are_not_listed(alerts, login_as, oscar):
    first, second = alerts
    _move(first, counterparty="5511888")
    page = login_as(oscar).get(reverse("alerts:alert", args=[second.pk])).content.decode()
    assert "No earlier alerts with this client" in page


def test_a_plain_officer_is_not_shown_a_second_level_alert_of_the_client(
    alerts, login_as, oscar, alice
):
    first, second = alerts
    transition_alert(alert=first, actor=Actor.for_user(oscar.user), to=Status.ESCALATED,
                     expected_version=None)  # fmt: skip
    link = reverse("alerts:alert", args=[first.pk])
    page = login_as(oscar).get(reverse("alerts:alert", args=[second.pk])).content.decode()
    assert link not in page and "No earlier alerts with this client" in page
    assert f'<a href="{link}">' in _client_section(login_as(alice), second)
