"""Numbers on pages read as people write them: "+55 11 98765-4321", never bare WhatsApp ids."""

from __future__ import annotations

import pytest

from compliance_hub.phones import phone_for_display


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("5511987654321", "+55 11 98765-4321"),  # a WhatsApp id: digits, no "+"
        ("+5511987654321", "+55 11 98765-4321"),  # E.164, as employees are kept
        ("15550783882", "+1 555-078-3882"),
        ("+91 98765 43210", "+91 98765 43210"),
        ("", ""),
        ("12", "+12"),  # too short to be a number: shown as given, still marked international
        ("not a number", "not a number"),
        ("٥٥١١٩٨٧٦٥٤٣٢١", "٥٥١١٩٨٧٦٥٤٣٢١"),  # not ASCII digits: never given a "+"
    ],
)
def test_a_number_is_shown_in_international_format(stored, shown):
    assert phone_for_display(stored) == shown


def test_labels_built_in_python_use_the_same_format():
    # Labels that never pass through the template filter: an erasure request's subject, a
    # conversation offered to a legal hold, a capture notice's number.
    from archive.holds.forms import ConversationChoiceField
    from archive.models import Conversation
    from archive.retention.models import ErasureRequest, SubjectKind
    from consent.models import Employee

    request = ErasureRequest(
        subject_kind=SubjectKind.COUNTERPARTY, counterparty_wa_id="5511987654321"
    )
    assert request.subject_label == "Client +55 11 98765-4321"
    conversation = Conversation(
        employee=Employee(full_name="Ana Souza"), counterparty_wa_id="5511987654321"
    )
    label = ConversationChoiceField(queryset=Conversation.objects.none()).label_from_instance(
        conversation
    )
    assert label == "Ana Souza with +55 11 98765-4321"
