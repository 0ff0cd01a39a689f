"""Input and output serializers of the consent API: inputs are parsed and checked here, outputs
only describe; the rules live in consent/employee_rules.py and consent/services/."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from compliance_hub.digits import parse_id

from .. import employee_rules
from ..models import ConsentEvent, ConsentNotice, ConsentState, Language, Team
from ..notice_templates import LANGUAGES

# --- employees -------------------------------------------------------------------------------


class EmployeeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    email = serializers.EmailField()
    employee_id = serializers.CharField()
    team = serializers.CharField(source="team.name", allow_null=True, help_text="Team name")
    team_id = serializers.IntegerField(
        allow_null=True, help_text="The team's id in /api/v1/teams/ (stays when it is renamed)"
    )
    region = serializers.CharField(help_text="ISO 3166-1 alpha-2, or empty")
    language = serializers.ChoiceField(choices=Language.choices)
    phone_number = serializers.CharField(help_text="E.164, e.g. +5511987654321")
    whatsapp_phone_number_id = serializers.CharField(
        help_text="The id Meta sends as metadata.phone_number_id; empty until connected"
    )
    active = serializers.BooleanField()
    deactivated_at = serializers.DateTimeField(allow_null=True)
    consent_state = serializers.ChoiceField(choices=ConsentState.choices)
    created_at = serializers.DateTimeField()


class EmployeeInputSerializer(serializers.Serializer):
    """Create (all required fields) or partial update (any subset). ``team`` is a team name,
    any case (one of /api/v1/teams/; null or empty for none)."""

    full_name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254)
    employee_id = serializers.CharField(max_length=64)
    team = serializers.CharField(
        max_length=100, required=False, allow_blank=True, allow_null=True, help_text="Team name"
    )
    region = serializers.CharField(max_length=2, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=Language.choices, required=False, allow_blank=True)
    phone_number = serializers.CharField(
        max_length=40, help_text="With the country code, or national with `region`"
    )
    whatsapp_phone_number_id = serializers.CharField(
        max_length=32, required=False, allow_blank=True
    )

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            # The employee rules, beside the fields' own checks, so every problem shows at once
            # (when all fields pass, the service applies the rules). A partial update is checked
            # by the service against the employee's other values.
            if not self.partial and isinstance(data, Mapping) and isinstance(error.detail, dict):
                values = {name: str(data.get(name) or "") for name in employee_rules.FIELDS}
                _clean, problems = employee_rules.check_employee(values)
                for name, message in problems.items():
                    error.detail.setdefault(name, [ErrorDetail(message, code="invalid")])
            raise

    def validate_team(self, value: str | None) -> Team | None:
        name = (value or "").strip()
        if not name:
            return None
        team = Team.objects.filter(tenant=self.context["tenant"], name__iexact=name).first()
        if team is None:
            raise serializers.ValidationError("Unknown team.")
        return team


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class DeactivateInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


# --- consent history -------------------------------------------------------------------------


class ConsentEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ConsentEvent.Kind.choices)
    occurred_at = serializers.DateTimeField()
    method = serializers.ChoiceField(choices=ConsentEvent.Method.choices)
    notice_version = serializers.IntegerField(allow_null=True)
    notice_sha256 = serializers.CharField()
    language = serializers.CharField()
    signature_name = serializers.CharField()
    ip_address = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    evidence_sha256 = serializers.CharField()
    evidence_size = serializers.IntegerField(allow_null=True)
    evidence_content_type = serializers.CharField()
    evidence_reference = serializers.CharField()
    reason = serializers.CharField()
    recorded_by = serializers.EmailField(source="recorded_by.email", allow_null=True)
    recorded_at = serializers.DateTimeField()


CURRENT_NOTICE = "current"


class ConsentRecordInputSerializer(serializers.Serializer):
    """An opt-in given on paper or elsewhere: the signed form as ``evidence`` (multipart) or
    ``evidence_reference`` text saying where the evidence is kept; at least one of the two."""

    evidence = serializers.FileField(
        required=False, help_text="PDF, PNG or JPEG of the signed form, at most 10 MB"
    )
    evidence_reference = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )
    notice = serializers.CharField(
        required=False,
        default=CURRENT_NOTICE,
        help_text="Id of a published notice version, or 'current' (the latest published one)",
    )
    occurred_at = serializers.DateTimeField(
        required=False, help_text="When the employee consented; defaults to now"
    )
    signature_name = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate_notice(self, value: str) -> str:
        value = value.strip().lower()
        if value != CURRENT_NOTICE and parse_id(value) is None:
            raise serializers.ValidationError(
                "Give the id of a published notice version, or 'current'."
            )
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs.get("evidence") is None and not attrs.get("evidence_reference", "").strip():
            raise serializers.ValidationError(
                {
                    "evidence": "Attach the signed form as 'evidence' (PDF, PNG or JPEG), or "
                    "say where the evidence is kept in 'evidence_reference'."
                }
            )
        return attrs


# --- notices ---------------------------------------------------------------------------------


class NoticeTextSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, allow_blank=True)
    body = serializers.CharField(max_length=50_000, allow_blank=True, trim_whitespace=False)


class ConsentNoticeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ConsentNotice.Status.choices)
    version = serializers.IntegerField(allow_null=True, help_text="Set when published")
    texts = serializers.DictField(
        child=NoticeTextSerializer(), help_text="By language: en, pt-br, es"
    )
    content_sha256 = serializers.CharField(
        help_text="What each consent records; set when published"
    )
    reconsent_deadline = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    created_by = serializers.EmailField(source="created_by.email", allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    published_by = serializers.EmailField(source="published_by.email", allow_null=True)


NOTICE_TEXT_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 300},
        "body": {"type": "string", "maxLength": 50_000},
    },
    "required": ["title", "body"],
    "additionalProperties": False,
}


@extend_schema_field(
    {
        "type": "object",
        "properties": {language: NOTICE_TEXT_SCHEMA for language in LANGUAGES},
        "additionalProperties": False,
    }
)
class NoticeTextsField(serializers.DictField):
    """The texts by language: the schema names the languages, as the service refuses others."""


class NoticeDraftInputSerializer(serializers.Serializer):
    texts = NoticeTextsField(
        child=NoticeTextSerializer(),
        help_text='By language (en, pt-br, es): {"en": {"title": "...", "body": "..."}}',
    )


class NoticePublishInputSerializer(serializers.Serializer):
    reconsent_deadline = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Consents to earlier versions stop covering capture at this moment",
    )

    def validate_reconsent_deadline(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("The re-consent deadline must be in the future.")
        return value


# --- import ----------------------------------------------------------------------------------


class ImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV, UTF-8, at most 5 MB and 10,000 rows")
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Only check the file (also as ?dry_run=1)"
    )
    create_teams = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Create the teams the file names that do not exist yet (default: their rows "
        "are refused)",
    )


class ImportRowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line in the file; 0 for the whole file")
    column = serializers.CharField()
    value = serializers.CharField()
    message = serializers.CharField()


class ImportCheckSerializer(serializers.Serializer):
    rows = serializers.IntegerField(help_text="Employee rows in the file")
    valid_rows = serializers.IntegerField(help_text="Rows without errors")
    # A field named like Serializer.errors: SerializerMetaclass moves declared fields into
    # _declared_fields, so it never shadows the property; the DRF stubs see one that does.
    errors = ImportRowErrorSerializer(many=True)  # type: ignore[assignment]
    ok = serializers.BooleanField(help_text="True when the file can be imported as it is")
    new_teams = serializers.ListField(
        child=serializers.CharField(),
        help_text="With create_teams: the teams that importing the file will create",
    )


class ImportResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField()
