"""The log files of an export bag: the checkpoint it proves against (``log/checkpoint.json``) and
one RFC 9162 inclusion proof per exported record (``log/proofs.jsonl``), computed in one batch.

:func:`archive.ledger.services.inclusion_proof` answers one record with a few queries per tree
level; an export proves up to millions. Here the tree above the stored tiles (level 8 and up) is
built once in memory from the level-8 nodes (size/256 hashes), and each 256-leaf tile holding
exported records is read once (tiles in groups per query), so the whole batch reads every
needed stored hash once: O(size/256 + tiles touched x 256) hashes, not O(records x log size)
queries. Every proof is checked against the checkpoint's root before it is written.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
import numpy.typing as npt
from django.db.models import Q

from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from ..export.bag import SegmentedWriter
from ..ledger import merkle
from ..ledger.models import LogCheckpoint, LogLeaf, LogNode, LogSigningKey
from ..ledger.services import TILE_HEIGHT, LogIntegrityError, checkpoint_document
from ..ledger.signing import checkpoint_note, signature_is_valid
from ..models import Message
from .feed import MESSAGE, STORED_FILE, TABLES, ProvenRecords

TILE = 1 << TILE_HEIGHT
TILES_PER_QUERY = 32


def checkpoint_json(*, tenant: Tenant, checkpoint: LogCheckpoint) -> bytes:
    """The checkpoint as signed (its note, exactly), with the key that signed it: the same
    document the log's anchors hold (:func:`checkpoint_document`)."""
    with tenant_scope(tenant):
        key = checkpoint.key
        previous = (
            LogSigningKey.objects.filter(tenant=tenant, sequence=key.sequence - 1).first()
            if key.sequence
            else None
        )
        note = checkpoint_note(
            tenant_id=checkpoint.tenant_id, tenant_slug=checkpoint.tenant_slug,
            size=checkpoint.size, root=bytes(checkpoint.root_hash), signed_at=checkpoint.signed_at,
        )  # fmt: skip
        if not signature_is_valid(bytes(key.public_key), note, bytes(checkpoint.signature)):
            raise LogIntegrityError(f"checkpoint {checkpoint.pk} does not carry a valid signature")
        document = checkpoint_document(checkpoint, key, previous)
    return (json.dumps(document, sort_keys=True, indent=2) + "\n").encode("ascii")


def proof_groups(proven: ProvenRecords) -> int:
    """How many groups of proofs (segments of ``log/proofs.jsonl``) the records make: one per
    TILES_PER_QUERY tiles of the log holding exported records, in leaf order."""
    tiles = len(np.unique(np.frombuffer(proven.indexes, dtype=np.int64) >> TILE_HEIGHT))
    return -(-tiles // TILES_PER_QUERY)


def write_proofs(
    *,
    tenant: Tenant,
    checkpoint: LogCheckpoint,
    proven: ProvenRecords,
    out: SegmentedWriter,
    groups: range | None = None,
) -> int:
    """One JSON line per exported record, in leaf order: ``table``, ``id``, ``leaf_index``,
    ``leaf_hash``, ``path`` (hex, nearest sibling first); a message's also ``message_id`` (its
    wamid, read per group of tiles: a million wamids are not held in memory), a stored file's
    ``record`` (its canonical bytes, whose leaf hash verify.py recomputes). Returns the number
    of proofs.

    Written a segment per group of tiles (:func:`proof_groups`); ``groups`` (all when None)
    picks a range of them, so processes can share the work: the segments, and so the file and
    its deflate, are the same however the groups are shared out."""
    size, root = checkpoint.size, bytes(checkpoint.root_hash)
    written = 0
    # numpy, not lists: a million records' order as Python ints took ~80 MB (docs/benchmarks.md).
    indexes = np.frombuffer(proven.indexes, dtype=np.int64)
    order = np.argsort(indexes, kind="stable")
    ordered = indexes[order]
    if groups is not None:
        tiles = np.unique(ordered >> TILE_HEIGHT)
        chosen = tiles[groups.start * TILES_PER_QUERY : groups.stop * TILES_PER_QUERY]
        if not len(chosen):
            return 0
        low = int(np.searchsorted(ordered, int(chosen[0]) << TILE_HEIGHT))
        high = int(np.searchsorted(ordered, (int(chosen[-1]) + 1) << TILE_HEIGHT))
        order, ordered = order[low:high], ordered[low:high]
    with tenant_scope(tenant):
        tree = _Tree(tenant, size)
        for group in tree.proofs(ordered, order):
            message_ids = [
                proven.ids[p] for p, _, _ in group if TABLES[proven.tables[p]] == MESSAGE
            ]
            wamids = dict(
                Message.objects.filter(tenant=tenant, pk__in=message_ids).values_list("pk", "wamid")
            )
            out.segment(
                functools.partial(
                    _write_group,
                    group=group,
                    wamids=wamids,
                    proven=proven,
                    size=size,
                    root=root,
                    slug=tenant.slug,
                )
            )
            written += len(group)
    return written


def _write_group(
    out: IO[bytes],
    *,
    group: list[tuple[int, bytes, list[bytes]]],
    wamids: dict[int, str],
    proven: ProvenRecords,
    size: int,
    root: bytes,
    slug: str,
) -> None:
    for position, leaf_hash, path in group:
        index = proven.indexes[position]
        if not merkle.verify_inclusion(leaf_hash, index, size, path, root):
            raise LogIntegrityError(f"the stored tree of {slug} does not prove leaf {index}")
        table, record_id = TABLES[proven.tables[position]], proven.ids[position]
        line: dict[str, Any] = {
            "table": table,
            "id": record_id,
            "leaf_index": index,
            "leaf_hash": leaf_hash.hex(),
            "path": [node.hex() for node in path],
        }
        if table == MESSAGE:
            line["message_id"] = wamids[record_id]
        elif table == STORED_FILE:
            line["record"] = proven.records[record_id]
        out.write(json.dumps(line, sort_keys=True, separators=(",", ":")).encode() + b"\n")


class _Tree:
    """The tenant's tree of ``size`` leaves: levels >= TILE_HEIGHT in memory, the tiles below
    read on demand (the current one and the last, partial one, kept)."""

    def __init__(self, tenant: Tenant, size: int) -> None:
        self.tenant = tenant
        self.size = size
        complete = size >> TILE_HEIGHT
        nodes = [
            bytes(h)
            for h in LogNode.objects.filter(
                tenant=tenant, level=TILE_HEIGHT, node_index__lt=complete
            )
            .order_by("node_index")
            .values_list("hash", flat=True)
        ]
        if len(nodes) != complete:
            raise LogIntegrityError(f"the log of {tenant.slug} lacks stored nodes of its tiles")
        self.upper: dict[int, list[bytes]] = {TILE_HEIGHT: nodes}
        level = TILE_HEIGHT
        while len(self.upper[level]) > 1:
            below = self.upper[level]
            self.upper[level + 1] = [
                merkle.node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)
            ]
            level += 1
        self.tiles: dict[int, list[list[bytes]]] = {}
        if size % TILE:
            last = complete
            self.tiles[last] = self._levels(self._read([last])[last])

    def proofs(
        self, indexes: npt.NDArray[np.int64], positions: npt.NDArray[np.intp]
    ) -> Iterator[list[tuple[int, bytes, list[bytes]]]]:
        """(position, leaf hash, path) for each leaf index (sorted ascending), a list per group
        of tiles read together."""
        subtree = lambda start, end: merkle.range_root(start, end, self._perfect)  # noqa: E731
        wanted: list[int] = np.unique(indexes >> TILE_HEIGHT).tolist()
        cursor = 0
        for group_start in range(0, len(wanted), TILES_PER_QUERY):
            group = wanted[group_start : group_start + TILES_PER_QUERY]
            leaves = self._read([t for t in group if t not in self.tiles])
            done: list[tuple[int, bytes, list[bytes]]] = []
            for tile in group:
                if tile in leaves:
                    levels = self._levels(leaves[tile])
                    if len(leaves[tile]) == TILE and levels[-1][0] != self.upper[TILE_HEIGHT][tile]:
                        raise LogIntegrityError(
                            f"the leaves of tile {tile} of {self.tenant.slug}'s log disagree "
                            "with its stored node"
                        )
                    self.tiles[tile] = levels
                while cursor < len(indexes) and int(indexes[cursor]) >> TILE_HEIGHT == tile:
                    index = int(indexes[cursor])
                    leaf = self.tiles[tile][0][index - (tile << TILE_HEIGHT)]
                    done.append(
                        (
                            int(positions[cursor]),
                            leaf,
                            merkle.inclusion_path(index, self.size, subtree),
                        )
                    )
                    cursor += 1
                if tile != self.size >> TILE_HEIGHT:
                    del self.tiles[tile]  # keep the partial last tile, drop the others
            yield done

    def _perfect(self, level: int, index: int) -> bytes:
        if level >= TILE_HEIGHT:
            return self.upper[level][index]
        tile = index >> (TILE_HEIGHT - level)
        return self.tiles[tile][level][index - (tile << (TILE_HEIGHT - level))]

    def _read(self, tiles: list[int]) -> dict[int, list[bytes]]:
        if not tiles:
            return {}
        ranges = Q()
        for tile in tiles:
            start = tile << TILE_HEIGHT
            ranges |= Q(leaf_index__gte=start, leaf_index__lt=min(start + TILE, self.size))
        found: dict[int, list[bytes]] = {tile: [] for tile in tiles}
        rows = (
            LogLeaf.objects.filter(ranges, tenant=self.tenant)
            .order_by("leaf_index")
            .values_list("leaf_index", "leaf_hash")
        )
        for index, leaf_hash in rows:
            hashes = found[index >> TILE_HEIGHT]
            if index - ((index >> TILE_HEIGHT) << TILE_HEIGHT) != len(hashes):
                raise LogIntegrityError(f"the log of {self.tenant.slug} lacks leaf {index - 1}")
            hashes.append(bytes(leaf_hash))
        for tile, hashes in found.items():
            expected = min(TILE, self.size - (tile << TILE_HEIGHT))
            if len(hashes) != expected:
                raise LogIntegrityError(
                    f"the log of {self.tenant.slug} lacks leaves of tile {tile}"
                )
        return found

    @staticmethod
    def _levels(leaves: list[bytes]) -> list[list[bytes]]:
        """Level 0 (the leaves) up to the highest perfect level of the tile."""
        levels = [leaves]
        while len(levels[-1]) > 1:
            below = levels[-1]
            levels.append(
                [merkle.node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )
        return levels
