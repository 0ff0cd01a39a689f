"""A firm's policies: a named policy and its versions. A version is never changed (the alerts it
raised remember it), so every save adds one; the policy's latest version is the one that scans."""

from __future__ import annotations

from django.db import models

from compliance_hub.tenancy.models import TenantOwnedModel


class Policy(TenantOwnedModel):
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=False)  # scanning with its latest version
    # The built-in pack a policy was copied from ("financial_services"), "" for the firm's own.
    pack = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)  # the latest version's number
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_label = models.CharField(max_length=254)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="policy_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class PolicyVersion(TenantOwnedModel):
    """One state of a policy's document, never changed."""

    append_only = True

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    # SHA-256 of the document's canonical JSON: the compiled detectors are cached by it, and a
    # save that changes nothing adds no version.
    document_sha256 = models.CharField(max_length=64)
    note = models.CharField(max_length=500, blank=True)  # why it changed, in the author's words
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_label = models.CharField(max_length=254)

    class Meta:
        ordering = ["policy", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "policy", "number"], name="policy_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document.get('name', 'policy')} (version {self.number})"


class MessageScan(TenantOwnedModel):
    """That a message was scanned, when, and by which policy versions: the sweeper looks for
    messages without one, and a lookback for versions not listed."""

    message = models.ForeignKey("archive.Message", on_delete=models.PROTECT, related_name="+")
    version_ids = models.JSONField(default=list)  # PolicyVersion ids it was scanned with
    # Why nothing was checked, if so: the subject's processing is restricted (GDPR Art. 18), or
    # the record holds no text.
    skipped = models.CharField(max_length=32, blank=True)
    scanned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "message"], name="messagescan_unique"),
        ]


class PolicyHit(TenantOwnedModel):
    """A policy version fired on a message: the findings behind it (spans, scores, explanations)
    for the alert that follows. Never twice for one message and version."""

    message = models.ForeignKey("archive.Message", on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="hits")
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    severity = models.CharField(max_length=16)
    score = models.FloatField()  # the highest score among its findings
    findings = models.JSONField(default=list)  # Finding.as_dict() of each
    explanation = models.TextField()
    lookback = models.BooleanField(default=False)  # raised by a run over earlier messages
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "message", "policy_version"], name="policyhit_unique"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "created_at"], name="policyhit_created")]
