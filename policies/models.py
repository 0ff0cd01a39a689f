"""A firm's policies: a named policy and its versions. A version is never changed (the alerts it
raised remember it), so every save adds one; the policy's latest version is the one that scans."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

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
        # The dashboard's coverage (alerts/stats_days.py) finds the days a late scan changed.
        indexes = [models.Index(fields=["tenant", "scanned_at"], name="messagescan_recent")]


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


class ScanJob(TenantOwnedModel):
    """A run of a policy over a date range of earlier messages, prepared by a worker: a backtest
    (a draft document, nothing raised: what it would have alerted on) or a lookback (a saved
    version, raising real hits marked lookback).

    One model for both kinds: they share the range, the status, the progress, cancelling and the
    rule of one run of a kind per policy at a time; only the document and the results differ.
    """

    class Kind(models.TextChoices):
        BACKTEST = "backtest", "Backtest"
        LOOKBACK = "lookback", "Lookback"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Running"
        DONE = "done", "Finished"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    OPEN = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(max_length=8, choices=Kind.choices)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="scan_jobs")
    # Lookback: the version it runs. Backtest: the policy's latest version when asked, which
    # the draft is compared with (None when the draft is the first).
    version = models.ForeignKey(
        PolicyVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    document = models.JSONField(default=dict, blank=True)  # backtest: the draft, not a version
    # The days the person picked, both included, in the time zone they picked them in; the
    # instants are what the messages are selected by: [starts_at, ends_at).
    date_from = models.DateField()
    date_to = models.DateField()
    time_zone = models.CharField(max_length=64, default="UTC")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    results = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)  # why it failed, in the requester's words
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_label = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # The worker's last sign of life (claimed, or a batch done): a running job whose heartbeat
    # stopped lost its worker, and the beat's sweeper fails it (runs.fail_stale_jobs).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open run of a kind per policy: a second request is refused, not queued.
            models.UniqueConstraint(
                fields=["tenant", "policy", "kind"],
                condition=models.Q(status__in=["queued", "running"]),
                name="scanjob_one_open",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "policy", "-created_at"], name="scanjob_policy"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.policy} ({self.date_from} to {self.date_to})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)


class FirmModel(TenantOwnedModel):
    """A classifier model trained for one firm from its officers' decisions (the learning loop:
    policies/learning.py), its comparison with the model in use, and whether it is in use.

    The model's bytes live here, not under MODELS_DIR: the worker that trains is rarely the one
    that scans (N workers on N machines share the database, not a folder), and the firm's model
    then follows the firm's data (RLS, backups, erasure of the firm). The bytes are a pickle, so
    before they are unpickled their sha256 must match `artifact_sha256` and that hash's HMAC
    under the deployment's secret key must match `signature`: whoever can write this table but
    does not hold the key cannot make a worker run code."""

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        FAILED = "failed", "Training failed"
        CANDIDATE = "candidate", "Trained, not in use"
        PROMOTED = "promoted", "In use"
        RETIRED = "retired", "No longer in use"

    status = models.CharField(max_length=9, choices=Status.choices, default=Status.TRAINING)
    version = models.CharField(max_length=64, blank=True)
    artifact = models.BinaryField(null=True, blank=True, editable=False)
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    signature = models.CharField(max_length=128, blank=True)
    sklearn_version = models.CharField(max_length=32, blank=True)
    # What the candidate was measured against (a firm model's version or the built-in one's),
    # both reports on the same held-out lines, and the verdict (may it be promoted, and why not).
    baseline_version = models.CharField(max_length=64, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_label = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    promoted_by_label = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One training at a time per firm, and at most one model in use.
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(status="training"),
                name="firmmodel_one_training",
            ),
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(status="promoted"),
                name="firmmodel_one_promoted",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="firmmodel_recent")]

    def __str__(self) -> str:
        return f"Firm model {self.version or self.pk}"
