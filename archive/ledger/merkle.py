"""Merkle trees as Certificate Transparency defines them (RFC 6962 §2.1, RFC 9162 §2.1).

Pure functions and one small class; no Django, no database. Hashes are 32-byte ``bytes``.

- leaf hash  = SHA-256(0x00 || data)
- node hash  = SHA-256(0x01 || left || right)
- the root of n > 1 leaves splits at k, the largest power of two smaller than n (not the
  midpoint): MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n])); the empty tree's root is SHA-256("").

Everything here is iterative (no recursion per node), so a million leaves take seconds. The
proof generators take a ``subtree(start, end)`` function that returns MTH(D[start:end]): a list of
leaves in tests, the stored tree nodes of a tenant's log in production.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from hashlib import sha256

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

Subtree = Callable[[int, int], bytes]
PerfectRoot = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof was asked for outside the tree (an index or size that does not exist)."""


def leaf_hash(data: bytes) -> bytes:
    return sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """k of RFC 6962: the largest power of two smaller than ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the given leaf hashes, level by level. Promoting an odd last node to the next level
    unchanged builds exactly RFC 6962's tree (its left subtrees are the perfect ones)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    prefix = NODE_PREFIX
    while len(level) > 1:
        paired = [
            sha256(prefix + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


class Frontier:
    """The right edge of a growing tree: the roots of its perfect subtrees, largest first (one
    per bit set in ``size``). Enough to append leaves and to compute the root of the tree so far,
    in O(log n) memory: what the checkpoint task keeps between runs, and what verification
    streams a tenant's whole log through.

    With ``tile_height`` h, :meth:`append` reports each completed perfect subtree whose height is
    a multiple of h, as ``(level, index, hash)`` (it covers leaves [index·2^level,
    (index+1)·2^level)); the log stores those so proofs never need to reread every leaf.
    """

    __slots__ = ("hashes", "size", "tile_height")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = (), tile_height: int = 0) -> None:
        self.size = size
        self.hashes = list(hashes)
        self.tile_height = tile_height
        if size < 0 or len(self.hashes) != size.bit_count():
            raise ValueError(f"a frontier of size {size} has {size.bit_count()} hashes")

    @classmethod
    def from_bytes(cls, size: int, packed: bytes, tile_height: int = 0) -> Frontier:
        hashes = [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]
        return cls(size, hashes, tile_height)

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; returns the stored-level subtrees it completed (usually none)."""
        completed: list[tuple[int, int, bytes]] = []
        hashes = self.hashes
        carry = self.size
        level = 0
        node = leaf
        # Each trailing 1 bit of the old size is a perfect subtree of that height to merge with.
        while carry & 1:
            node = sha256(NODE_PREFIX + hashes.pop() + node).digest()
            carry >>= 1
            level += 1
            if self.tile_height and level % self.tile_height == 0:
                completed.append((level, ((self.size + 1) >> level) - 1, node))
        hashes.append(node)
        self.size += 1
        return completed

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        hashes = self.hashes
        node = hashes[-1]
        for left in reversed(hashes[:-1]):
            node = sha256(NODE_PREFIX + left + node).digest()
        return node

    def copy(self) -> Frontier:
        return Frontier(self.size, self.hashes, self.tile_height)


def range_root(start: int, end: int, perfect_root: PerfectRoot) -> bytes:
    """MTH(D[start:end]) from perfect subtree roots, for the ranges that RFC 9162's proofs ask
    about: ``start`` is a multiple of a power of two at least ``end - start`` (every subtree
    in the recursion is). ``perfect_root(level, index)`` returns the root of leaves
    [index·2^level, (index+1)·2^level)."""
    if not 0 <= start < end:
        raise ProofError(f"empty or negative range [{start}, {end})")
    pieces: list[bytes] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start & ((1 << level) - 1):
            raise ProofError(f"range [{start}, {end}) is not a subtree of an RFC 6962 tree")
        pieces.append(perfect_root(level, start >> level))
        start += 1 << level
    node = pieces[-1]
    for left in reversed(pieces[:-1]):
        node = node_hash(left, node)
    return node


def inclusion_path(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1: the audit path of leaf ``index`` in the tree of the
    first ``size`` leaves, nearest sibling first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_path(first: int, second: int, subtree: Subtree) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1: proves the tree of ``first`` leaves is a prefix of the
    tree of ``second`` leaves. Empty when first is 0 or equals second."""
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    if first == 0 or first == second:
        return []
    path: list[bytes] = []
    start, end, m = 0, second, first
    whole = True  # SUBPROOF's b: the old tree is still the whole left part
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
            m -= k
            whole = False
    if not whole:
        path.append(subtree(start, end))
    path.reverse()
    return path


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``path`` prove leaf hash ``leaf`` at ``index`` in the tree of
    ``size`` leaves whose root is ``expected_root``?"""
    if not 0 <= index < size or len(leaf) != HASH_SIZE or len(expected_root) != HASH_SIZE:
        return False
    fn, sn = index, size - 1
    node = leaf
    for sibling in path:
        if sn == 0 or len(sibling) != HASH_SIZE:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node == expected_root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does ``path`` prove the tree of ``first`` leaves (``first_root``) is a
    prefix of the tree of ``second`` leaves (``second_root``)?"""
    if not 0 <= first <= second:
        return False
    if any(len(h) != HASH_SIZE for h in (first_root, second_root, *path)):
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path and first_root == EMPTY_ROOT
    if not path:
        return False
    hashes = list(path)
    if first & (first - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        hashes.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = hashes[0]
    for node in hashes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(node, fr)
            sr = node_hash(node, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, node)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def subtree_of(leaf_hashes: Sequence[bytes]) -> Subtree:
    """A ``subtree`` function over leaf hashes held in memory (small trees, tests, exports)."""
    return lambda start, end: root(leaf_hashes[start:end])
