"""The Merkle tree of the archive log against RFC 6962's published vectors and a plain recursive
reference written straight from the RFC's definitions, on every tree size 1..65 and random
larger ones. No database."""

from __future__ import annotations

import random
from hashlib import sha256

import pytest

from archive.ledger import merkle

# RFC 6962 test vectors (as published with the CT reference implementation and
# transparency-dev/merkle's testonly data): leaf inputs, and the root of each prefix.
RFC_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
RFC_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
RFC_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
RFC_CONSISTENCY = {
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
    (2, 8): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
RFC_HASHES = [merkle.leaf_hash(data) for data in RFC_LEAVES]


# --- The reference: RFC 6962 §2.1 written out recursively, as slowly and plainly as it reads.


def ref_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:])).digest()


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [ref_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, leaves[:k], whole), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]


def synthetic(count: int, seed: int = 0) -> list[bytes]:
    return [merkle.leaf_hash(f"leaf {seed}/{i}".encode()) for i in range(count)]


MANY = synthetic(65)
STRANGER = merkle.leaf_hash(b"a record that is not in the tree")
SIZES = list(range(1, 66))


# --- RFC 6962 vectors


def test_the_hashes_have_rfc_6962s_prefixes():
    assert merkle.leaf_hash(b"") == sha256(b"\x00").digest()
    left, right = RFC_HASHES[0], RFC_HASHES[1]
    assert merkle.node_hash(left, right) == sha256(b"\x01" + left + right).digest()
    assert merkle.EMPTY_ROOT.hex() == RFC_ROOTS[0]


@pytest.mark.parametrize("size", range(0, 9))
def test_roots_match_the_published_vectors(size):
    assert merkle.root(RFC_HASHES[:size]).hex() == RFC_ROOTS[size]
    frontier = merkle.Frontier()
    for leaf in RFC_HASHES[:size]:
        frontier.append(leaf)
    assert frontier.root().hex() == RFC_ROOTS[size]


@pytest.mark.parametrize(("index", "size"), sorted(RFC_INCLUSION))
def test_inclusion_proofs_match_the_published_vectors(index, size):
    path = merkle.inclusion_path(index, size, merkle.subtree_of(RFC_HASHES))
    assert [node.hex() for node in path] == RFC_INCLUSION[(index, size)]
    root = bytes.fromhex(RFC_ROOTS[size])
    assert merkle.verify_inclusion(RFC_HASHES[index], index, size, path, root)


@pytest.mark.parametrize(("first", "second"), sorted(RFC_CONSISTENCY))
def test_consistency_proofs_match_the_published_vectors(first, second):
    path = merkle.consistency_path(first, second, merkle.subtree_of(RFC_HASHES))
    assert [node.hex() for node in path] == RFC_CONSISTENCY[(first, second)]
    old, new = bytes.fromhex(RFC_ROOTS[first]), bytes.fromhex(RFC_ROOTS[second])
    assert merkle.verify_consistency(first, second, old, new, path)


def test_the_split_is_the_largest_power_of_two_below_not_the_midpoint():
    assert [merkle.split_point(n) for n in (2, 3, 4, 5, 6, 8, 9, 1000)] == [
        1,
        2,
        2,
        4,
        4,
        4,
        8,
        512,
    ]


# --- Against the reference, every size 1..65


@pytest.mark.parametrize("size", SIZES)
def test_root_and_frontier_agree_with_the_reference(size):
    leaves = MANY[:size]
    expected = ref_mth(leaves)
    assert merkle.root(leaves) == expected
    frontier = merkle.Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    assert frontier.root() == expected
    restored = merkle.Frontier.from_bytes(frontier.size, frontier.to_bytes())
    assert restored.root() == expected


@pytest.mark.parametrize("size", SIZES)
def test_every_inclusion_proof_is_the_references_and_verifies(size):
    leaves = MANY[:size]
    root = ref_mth(leaves)
    subtree = merkle.subtree_of(leaves)
    for index in range(size):
        path = merkle.inclusion_path(index, size, subtree)
        assert path == ref_path(index, leaves)
        assert merkle.verify_inclusion(leaves[index], index, size, path, root)
        # A wrong leaf, index or root, or a damaged path, proves nothing.
        assert not merkle.verify_inclusion(STRANGER, index, size, path, root)
        if size > 1:
            assert not merkle.verify_inclusion(leaves[index], (index + 1) % size, size, path, root)
            damaged = list(path)
            damaged[-1] = bytes(32)
            assert not merkle.verify_inclusion(leaves[index], index, size, damaged, root)
            assert not merkle.verify_inclusion(leaves[index], index, size, path[:-1], root)
            assert not merkle.verify_inclusion(leaves[index], index, size, [*path, root], root)
        assert not merkle.verify_inclusion(leaves[index], index, size, path, bytes(32))


@pytest.mark.parametrize("second", SIZES)
def test_every_consistency_proof_is_the_references_and_verifies(second):
    leaves = MANY[:second]
    new_root = ref_mth(leaves)
    subtree = merkle.subtree_of(leaves)
    for first in range(1, second + 1):
        old_root = ref_mth(leaves[:first])
        path = merkle.consistency_path(first, second, subtree)
        assert path == ([] if first == second else ref_subproof(first, leaves, True))
        assert merkle.verify_consistency(first, second, old_root, new_root, path)
        if first < second:
            assert not merkle.verify_consistency(first, second, new_root, new_root, path)
            assert not merkle.verify_consistency(first, second, old_root, old_root, path)
            damaged = list(path)
            damaged[0] = bytes(32)
            assert not merkle.verify_consistency(first, second, old_root, new_root, damaged)
            assert not merkle.verify_consistency(first, second, old_root, new_root, path[:-1])


def test_degenerate_consistency_cases():
    root4 = merkle.root(MANY[:4])
    assert merkle.verify_consistency(4, 4, root4, root4, [])
    assert not merkle.verify_consistency(4, 4, root4, merkle.root(MANY[:5]), [])
    assert not merkle.verify_consistency(4, 4, root4, root4, [root4])
    assert merkle.verify_consistency(0, 8, merkle.EMPTY_ROOT, merkle.root(MANY[:8]), [])
    assert not merkle.verify_consistency(6, 4, root4, root4, [])


def test_proofs_outside_the_tree_are_refused():
    subtree = merkle.subtree_of(MANY)
    for index, size in [(8, 8), (-1, 8), (0, 0)]:
        with pytest.raises(merkle.ProofError):
            merkle.inclusion_path(index, size, subtree)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_path(5, 3, subtree)
    assert not merkle.verify_inclusion(MANY[0], 8, 8, [], merkle.root(MANY[:8]))


def test_random_larger_trees_agree_with_the_reference():
    rng = random.Random(6962)
    for _ in range(12):
        size = rng.randint(66, 3000)
        leaves = synthetic(size, seed=size)
        root = merkle.root(leaves)
        assert root == ref_mth(leaves)
        subtree = merkle.subtree_of(leaves)
        for index in rng.sample(range(size), 5):
            path = merkle.inclusion_path(index, size, subtree)
            assert path == ref_path(index, leaves)
            assert merkle.verify_inclusion(leaves[index], index, size, path, root)
        first = rng.randint(1, size)
        path = merkle.consistency_path(first, size, subtree)
        assert merkle.verify_consistency(first, size, merkle.root(leaves[:first]), root, path)


def test_the_frontier_reports_each_stored_subtree_once_with_its_range():
    leaves = synthetic(1100)
    frontier = merkle.Frontier(tile_height=8)
    nodes = {}
    for leaf in leaves:
        for level, index, node in frontier.append(leaf):
            assert (level, index) not in nodes
            nodes[(level, index)] = node
    assert sorted(nodes) == [(8, 0), (8, 1), (8, 2), (8, 3)]
    for (level, index), node in nodes.items():
        width = 1 << level
        assert node == merkle.root(leaves[index * width : (index + 1) * width])
    # ... which is what range_root builds proofs from.
    perfect = {(0, i): leaf for i, leaf in enumerate(leaves)} | nodes

    def perfect_root(level, index):
        if (level, index) in perfect:
            return perfect[(level, index)]
        width = 1 << level
        return merkle.root(leaves[index * width : (index + 1) * width])

    for start, end in [(0, 1100), (1024, 1100), (512, 768), (0, 1), (1088, 1100)]:
        assert merkle.range_root(start, end, perfect_root) == merkle.root(leaves[start:end])
    with pytest.raises(merkle.ProofError):
        merkle.range_root(3, 9, perfect_root)  # not a subtree


def test_a_frontier_with_the_wrong_number_of_hashes_is_refused():
    with pytest.raises(ValueError):
        merkle.Frontier(3, [bytes(32)])


def test_a_million_leaves_take_seconds():
    import time

    leaves = [merkle.leaf_hash(i.to_bytes(8, "big")) for i in range(1_000_000)]
    started = time.perf_counter()
    root = merkle.root(leaves)
    elapsed = time.perf_counter() - started
    assert len(root) == 32
    assert elapsed < 20, f"root of 1M leaves took {elapsed:.1f}s"


def test_the_merkle_module_imports_no_django():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(merkle.__file__).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "django" not in imported
