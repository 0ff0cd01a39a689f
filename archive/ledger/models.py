"""The tables of each tenant's Merkle log (models of the ``archive`` app, imported by
archive/models.py).

How a record gets into the log:

1. The transaction that archives a record also hashes it (canonical.py) and inserts a
   :class:`PendingLeaf`: no lock, no counter, nothing shared with other transactions.
2. The checkpoint task, per tenant, locks the tenant's :class:`LogHead` (the one ordering point),
   gives each pending leaf the next index (:class:`LogLeaf`), stores the completed subtrees
   (:class:`LogNode`), signs the new tree head (:class:`LogCheckpoint`) with the tenant's key
   (:class:`LogSigningKey`) and copies it to the anchors outside the database.

Leaves, nodes, checkpoints, keys and tombstones are append-only (grants and triggers). A
:class:`Tombstone` lets retention disposition replace a record's content later: the log keeps
the record's leaf hash, and verification checks that hash instead of recomputing it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from compliance_hub.tenancy.models import TenantOwnedModel

from .canonical import FORM


class LogHead(TenantOwnedModel):
    """The ordering point of a tenant's log, as of its latest checkpoint: how many leaves it has
    and its right edge (the perfect subtree roots, 32 bytes each, largest first). Only the
    checkpoint task writes it, under ``SELECT ... FOR UPDATE``; nothing on the archive's hot
    path touches it. Not evidence: verification recomputes it and reports any difference."""

    size = models.BigIntegerField(default=0)
    frontier = models.BinaryField(default=b"")
    anchored_checkpoint_id = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="log_head_per_tenant")]

    def __str__(self) -> str:
        return f"log of tenant {self.tenant_id}: {self.size} leaves"


class PendingLeaf(TenantOwnedModel):
    """A record hashed by the transaction that archived it, waiting for its index. Deleted when
    the checkpoint task turns it into a :class:`LogLeaf` (a queue, hence not append-only)."""

    record_table = models.CharField(max_length=64)
    record_id = models.BigIntegerField()
    leaf_hash = models.BinaryField()
    form = models.PositiveSmallIntegerField(default=FORM)
    queued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "record_table", "record_id"], name="pending_leaf_once"
            )
        ]

    def __str__(self) -> str:
        return f"pending {self.record_table} {self.record_id}"


class LogLeaf(TenantOwnedModel):
    """Leaf ``leaf_index`` of the tenant's log: which record, and the hash of its canonical bytes
    (in ``form``) when it was archived."""

    leaf_index = models.BigIntegerField()
    record_table = models.CharField(max_length=64)
    record_id = models.BigIntegerField()
    leaf_hash = models.BinaryField()
    form = models.PositiveSmallIntegerField(default=FORM)
    queued_at = models.DateTimeField()
    appended_at = models.DateTimeField(default=timezone.now)

    append_only = True

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "leaf_index"], name="log_leaf_index_once"),
            models.UniqueConstraint(
                fields=["tenant", "record_table", "record_id"], name="log_leaf_record_once"
            ),
        ]

    def __str__(self) -> str:
        return f"leaf {self.leaf_index}: {self.record_table} {self.record_id}"


class LogNode(TenantOwnedModel):
    """A perfect subtree of the log whose height is a multiple of 8 (a tile of 256 below it):
    the root of leaves [node_index·2^level, (node_index+1)·2^level). Lets proofs read a few
    hundred hashes instead of the whole log."""

    level = models.PositiveSmallIntegerField()
    node_index = models.BigIntegerField()
    hash = models.BinaryField()

    append_only = True

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "level", "node_index"], name="log_node_once")
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.node_index}"


class LogSigningKey(TenantOwnedModel):
    """An Ed25519 key of the tenant for checkpoints; the newest (highest ``sequence``) signs.
    Key 0 is created on first use; each later key is introduced by a rotation statement signed
    with the key before it (``endorsement``, over signing.rotation_note), so the keys form a
    chain that anyone holding the first public key can follow. The private key is encrypted at
    rest (compliance_hub.crypto); the public key is exported with every anchored checkpoint and
    by ``verify_archive SLUG --public-key``."""

    sequence = models.PositiveIntegerField(default=0)
    public_key = models.BinaryField()  # 32 raw bytes
    private_key = models.TextField()  # Fernet token of the 32 raw private bytes, base64
    key_id = models.CharField(max_length=64)  # SHA-256 of the public key, hex
    created_at = models.DateTimeField(default=timezone.now)
    # Key 1 onwards: the previous key's signature over the rotation note introducing this one.
    endorsement = models.BinaryField(default=b"", blank=True)

    append_only = True

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sequence"], name="log_key_sequence")
        ]

    def __str__(self) -> str:
        return f"Ed25519 #{self.sequence} {self.key_id[:16]}"


class LogCheckpoint(TenantOwnedModel):
    """A signed tree head: the tenant's log had ``size`` leaves with root ``root_hash`` at
    ``signed_at``. The signature covers :func:`archive.ledger.signing.checkpoint_note`."""

    tenant_slug = models.CharField(max_length=50)
    size = models.BigIntegerField()
    root_hash = models.BinaryField()
    signed_at = models.DateTimeField()
    key = models.ForeignKey(LogSigningKey, on_delete=models.PROTECT, related_name="+")
    signature = models.BinaryField()

    append_only = True

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [
            models.Index(fields=["tenant", "signed_at"], name="log_checkpoint_time"),
            models.Index(fields=["tenant", "size"], name="log_checkpoint_size"),
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.size} @ {self.signed_at:%Y-%m-%d %H:%M:%S}"


class Tombstone(TenantOwnedModel):
    """Retention disposition replaced (or removed) the content of the record at leaf
    ``leaf_index``; its leaf hash stays here and in the log, so the log still verifies. A
    tombstone is itself a record of the log."""

    leaf_index = models.BigIntegerField()
    record_table = models.CharField(max_length=64)
    record_id = models.BigIntegerField()
    leaf_hash = models.BinaryField()
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    append_only = True

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "leaf_index"], name="tombstone_once")
        ]
        # Disposition and its blanking function look a record's tombstone up by the record.
        indexes = [
            models.Index(fields=["tenant", "record_table", "record_id"], name="tombstone_record")
        ]

    def __str__(self) -> str:
        return f"tombstone of leaf {self.leaf_index}"
