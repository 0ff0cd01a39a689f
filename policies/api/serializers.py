"""Input and output shapes of the policies API (output serializers read rows the views prepared;
input serializers only check types and sizes: the document's rules are the services')."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from archive.models import Direction
from compliance_hub.api.serializers import ApiErrorBodySerializer

from ..documents.schema import SEVERITIES
from ..models import Policy
from ..scope_people import document_as_read
from ..trial import MAX_TRIAL_TEXT

DOCUMENT_HELP = (
    "A policy document: name, description, severity, scope, detect (a detector test, or any / "
    "all / none of them), exceptions, lexicon, action. Checked by the server, which answers each "
    "problem with where it is and what to change"
)


@extend_schema_field({"type": "object", "additionalProperties": True, "description": DOCUMENT_HELP})
class DocumentField(serializers.JSONField):
    """Any JSON: a document that is not an object is the services' problem to explain (in the
    same `problems` as any other mistake), not a bare type error."""


class DocumentAsRead(serializers.Serializer):
    """An answer holding a policy document (``document``) gives its scope's people as the reader
    reads them: the view puts the reader's lens (policies/scope_people.py) in the context."""

    def to_representation(self, instance: object) -> dict[str, object]:
        data: dict[str, object] = super().to_representation(instance)
        lens = self.context.get("lens")
        if lens is not None and "document" in data:
            data["document"] = document_as_read(data["document"], lens)
        return data


class TextField(serializers.CharField):
    """Text only: DRF's CharField would take the number 5 as "5", which is not what was meant.
    A lone UTF-16 surrogate (JSON allows "\\ud800") can be neither kept nor sent back in an
    answer, so it is refused here (DRF's CharField already refuses NUL)."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if any("\ud800" <= ch <= "\udfff" for ch in data):
            raise serializers.ValidationError("This text holds a broken character (a surrogate).")
        return super().to_internal_value(data)


# --- what the server says about a document -----------------------------------------------------


class ProblemSerializer(serializers.Serializer):
    where = serializers.CharField(
        allow_blank=True, help_text="Where in the document, e.g. 'detect > any > 2 > min_score'"
    )
    message = serializers.CharField(help_text="What is wrong, and what to change")
    warning = serializers.BooleanField(help_text="true: suspicious but allowed (kept anyway)")


@extend_schema_field(
    {
        "type": "object",
        "description": "For a document with errors: `problems`, each with where, message and "
        "warning; for other bad input: the fields and what is wrong with each",
        "properties": {
            "problems": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "where": {"type": "string"},
                        "message": {"type": "string"},
                        "warning": {"type": "boolean"},
                    },
                    "required": ["where", "message", "warning"],
                },
            }
        },
        "additionalProperties": True,
    }
)
class ProblemDetailsField(serializers.JSONField):
    pass


class DocumentErrorBodySerializer(ApiErrorBodySerializer):
    details = ProblemDetailsField(required=False)


class DocumentErrorSerializer(serializers.Serializer):
    """The API's one error format; a document with errors lists them in `details.problems`."""

    error = DocumentErrorBodySerializer()


class FindingSerializer(serializers.Serializer):
    """One thing a detector found (policies/detectors/findings.py, Finding.as_dict)."""

    category = serializers.CharField(help_text="off_channel, pii, malicious_link, ... or a rule's")
    detector = serializers.CharField(help_text="lexicon, pii, links, classifier or sampling")
    score = serializers.FloatField(min_value=0, max_value=1)
    spans = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2),
        help_text="[start, end) character offsets in the text",
    )
    explanation = serializers.CharField(help_text="Why, in words an officer understands")
    type = serializers.CharField(required=False, help_text="Personal data: its kind (br_cpf, ...)")
    value = serializers.CharField(required=False, help_text="Personal data: the matched text")
    url = serializers.CharField(required=False, help_text="Links: the link")
    rule = serializers.CharField(required=False, help_text="Lexicon: the rule's name")


# --- policies and their versions ---------------------------------------------------------------


class PolicySerializer(serializers.Serializer):
    """A policy as its latest version says (the view attaches `latest`)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.SerializerMethodField()
    severity = serializers.SerializerMethodField(help_text=f"One of {', '.join(SEVERITIES)}")
    active = serializers.BooleanField(
        help_text="Scanning every new message with its latest version"
    )
    pack = serializers.CharField(
        allow_blank=True, help_text="The built-in pack it was copied from; empty for the firm's own"
    )
    version = serializers.IntegerField(help_text="The latest version's number")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by_label")

    def get_description(self, policy: Policy) -> str:
        return str(policy.latest.document.get("description", ""))  # type: ignore[attr-defined]

    def get_severity(self, policy: Policy) -> str:
        return str(policy.latest.document.get("severity", ""))  # type: ignore[attr-defined]


class PolicyDetailSerializer(DocumentAsRead, PolicySerializer):
    document = serializers.JSONField(source="latest.document", help_text="The latest version's")
    note = serializers.CharField(source="latest.note", help_text="Why the latest version changed")
    changed_at = serializers.DateTimeField(source="latest.created_at")
    changed_by = serializers.CharField(source="latest.created_by_label")


class PolicySavedSerializer(PolicyDetailSerializer):
    """The answer to a create or a save."""

    changed = serializers.BooleanField(
        help_text="false: the document was the same as the latest version's, so none was added"
    )
    message = serializers.CharField(help_text="What happened, in words")
    warnings = ProblemSerializer(many=True, help_text="Suspicious parts of the document, kept")


class PolicyInputSerializer(serializers.Serializer):
    document = DocumentField()
    note = TextField(
        max_length=500, required=False, default="", allow_blank=True,
        help_text="Why it changed, kept with the version",
    )  # fmt: skip


class PolicyPatchSerializer(serializers.Serializer):
    document = DocumentField(
        required=False,
        help_text="Fields of the document to replace in the latest version's (null removes "
        "one); the result is saved as the next version. Left out: nothing changes",
    )
    note = TextField(max_length=500, required=False, default="", allow_blank=True)


class PolicyVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    note = serializers.CharField(allow_blank=True)
    sha256 = serializers.CharField(source="document_sha256", help_text="Of the canonical JSON")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by_label")


class PolicyVersionDetailSerializer(DocumentAsRead, PolicyVersionSerializer):
    policy = serializers.IntegerField(source="policy_id")
    document = serializers.JSONField()


# --- trying a document on a text ---------------------------------------------------------------


class ContextSerializer(serializers.Serializer):
    """What the policy's scope is decided on, as if the text were a captured message."""

    employee = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    team = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    region = serializers.RegexField(
        r"^(?:[A-Z]{2})?$", max_length=2, required=False, default="", allow_blank=True,
        help_text="Two-letter country code in capitals",
    )  # fmt: skip
    # The archive's own choices, so the schema names one enum for both.
    direction = serializers.ChoiceField(
        choices=Direction.choices, required=False, default="", allow_blank=True,
        help_text="Empty: not given (a policy scoped to one direction then stays quiet)",
    )  # fmt: skip
    counterparty_internal = serializers.BooleanField(
        required=False, default=False, help_text="true: the other side is one of the firm's own"
    )


class SavedTrialInputSerializer(serializers.Serializer):
    text = TextField(
        max_length=MAX_TRIAL_TEXT, allow_blank=True, trim_whitespace=False,
        help_text=f"The message to try (at most {MAX_TRIAL_TEXT:,} characters)",
    )  # fmt: skip
    # Named like Field.context, as archive's MessageSerializer: the metaclass moves it aside.
    context = ContextSerializer(required=False)  # type: ignore[assignment]


class TrialInputSerializer(SavedTrialInputSerializer):
    document = DocumentField()


class TrialSerializer(serializers.Serializer):
    runnable = serializers.BooleanField(help_text="false: the document has errors (see problems)")
    fired = serializers.BooleanField(help_text="The policy would have raised an alert")
    reason = serializers.CharField(
        allow_blank=True, help_text="Why it fired or not, in words (e.g. 'out of scope: team')"
    )
    problems = ProblemSerializer(many=True)
    findings = FindingSerializer(
        many=True, help_text="Everything the detectors the policy uses saw, fired or not"
    )


# --- built-in packs ----------------------------------------------------------------------------


class PackSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    documents = serializers.ListField(
        child=DocumentField(), help_text="The policies it copies into the firm"
    )


class PackEnabledSerializer(serializers.Serializer):
    pack = serializers.CharField(help_text="The pack's slug")
    added = PolicySerializer(many=True, help_text="Copied now, switched on")
    switched_on = PolicySerializer(
        many=True, help_text="Earlier copies of this pack that were off: switched on again"
    )
    unchanged = PolicySerializer(
        many=True,
        help_text="Already in the firm under the same name (and on, or the firm's own): left as "
        "they are",
    )


# --- hits --------------------------------------------------------------------------------------


class PolicyHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    message = serializers.IntegerField(source="message_id")
    whatsapp_id = serializers.CharField(source="message.wamid", help_text="The message's wamid")
    policy = serializers.IntegerField(source="policy_id")
    policy_name = serializers.CharField(source="policy.name")
    version = serializers.IntegerField(
        source="policy_version.number", help_text="The policy version that fired"
    )
    severity = serializers.ChoiceField(choices=list(SEVERITIES))
    score = serializers.FloatField(help_text="The highest score among its findings")
    findings = FindingSerializer(many=True)
    explanation = serializers.CharField(allow_blank=True)
    lookback = serializers.BooleanField(help_text="Raised by a run over earlier messages")
    created_at = serializers.DateTimeField()
