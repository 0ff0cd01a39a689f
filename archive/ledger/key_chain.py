"""The tenant's checkpoint keys as verification sees them: a chain 0, 1, 2 ... each endorsed by
the one before, each signing from its creation until the next key's."""

from __future__ import annotations

from collections.abc import Iterable

from .models import LogCheckpoint, LogSigningKey
from .report import Problem, ProblemKind, Verification
from .signing import checkpoint_note, endorsement_is_valid, signature_is_valid


class KeyChain:
    def __init__(self, *, tenant_id: int, keys: Iterable[LogSigningKey]) -> None:
        """``keys`` in order of sequence."""
        self.tenant_id = tenant_id
        self._by_pk: dict[int, LogSigningKey] = {}
        self._by_key_id: dict[str, LogSigningKey] = {}  # the key id is a hash of the public key
        self._by_sequence: dict[int, LogSigningKey] = {}
        for key in keys:
            self._by_pk[key.pk] = key
            self._by_key_id[key.key_id] = key
            self._by_sequence[key.sequence] = key

    @classmethod
    def load(cls, *, tenant_id: int) -> KeyChain:
        """The keys of the tenant in scope."""
        return cls(tenant_id=tenant_id, keys=LogSigningKey.objects.order_by("sequence"))

    def __bool__(self) -> bool:
        return bool(self._by_pk)

    def check_endorsements(self, report: Verification) -> None:
        """Each key after the first must be endorsed by the one before; key 0 must be there."""
        for sequence, key in self._by_sequence.items():
            if sequence == 0:
                continue
            previous = self._by_sequence.get(sequence - 1)
            if previous is None or not endorsement_is_valid(
                tenant_id=self.tenant_id, sequence=sequence, public_key=bytes(key.public_key),
                created_at=key.created_at, endorsement=bytes(key.endorsement),
                previous_key_id=previous.key_id, previous_public_key=bytes(previous.public_key),
            ):  # fmt: skip
                report.add(
                    Problem(
                        ProblemKind.KEY,
                        f"checkpoint key #{sequence} ({key.key_id[:16]}…) is not endorsed by key "
                        f"#{sequence - 1}: a key was inserted or replaced",
                    )
                )
        if self._by_sequence and 0 not in self._by_sequence:
            report.add(Problem(ProblemKind.KEY, "the tenant's first checkpoint key (#0) is gone"))

    def key_of(self, checkpoint: LogCheckpoint) -> LogSigningKey | None:
        return self._by_pk.get(checkpoint.key_id)

    def previous(self, key: LogSigningKey) -> LogSigningKey | None:
        return self._by_sequence.get(key.sequence - 1)

    def holds(self, *, key_id: str, public_key: bytes) -> bool:
        known = self._by_key_id.get(key_id)
        return known is not None and bytes(known.public_key) == public_key

    def describe(self) -> str:
        """``#0 1a2b…, #1 3c4d…``: the keys as the report names them."""
        return ", ".join(f"#{k.sequence} {k.key_id[:16]}…" for k in self._by_pk.values())

    def signature_ok(self, checkpoint: LogCheckpoint) -> bool:
        key = self.key_of(checkpoint)
        if key is None:
            return False
        note = checkpoint_note(
            tenant_id=self.tenant_id, tenant_slug=checkpoint.tenant_slug,
            size=checkpoint.size, root=bytes(checkpoint.root_hash), signed_at=checkpoint.signed_at,
        )  # fmt: skip
        return signature_is_valid(bytes(key.public_key), note, bytes(checkpoint.signature))

    def was_current(self, checkpoint: LogCheckpoint) -> bool:
        """A key signs from its creation until the next key's: never before, never after."""
        key = self.key_of(checkpoint)
        if key is None:
            return True  # reported as a bad signature
        following = self._by_sequence.get(key.sequence + 1)
        # Key 0 is created by the first checkpoint, a moment after that one took its time.
        started = key.sequence == 0 or key.created_at <= checkpoint.signed_at
        return started and (following is None or checkpoint.signed_at < following.created_at)
