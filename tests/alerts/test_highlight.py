"""The flagged message's pieces: matched spans marked (overlaps merged), and spans that do not
fit the text clipped or skipped instead of breaking the page."""

from __future__ import annotations

from alerts.highlight import Piece, highlighted


def test_matched_spans_are_marked_in_order():
    text = "I guarantee it, no risk"
    findings = [
        {"category": "promise", "spans": [[2, 11]]},
        {"category": "risk", "spans": [[19, 23]]},
    ]
    assert highlighted(text, findings) == [
        Piece("I ", False),
        Piece("guarantee", True, ("promise",)),
        Piece(" it, no ", False),
        Piece("risk", True, ("risk",)),
    ]


def test_overlapping_spans_become_one_mark_with_both_categories():
    pieces = highlighted("abcdefgh", [
        {"category": "b", "spans": [[1, 4]]},
        {"category": "a", "spans": [[3, 6]]},
    ])  # fmt: skip
    assert pieces == [Piece("a", False), Piece("bcdef", True, ("a", "b")), Piece("gh", False)]


def test_spans_that_do_not_fit_are_clipped_or_skipped():
    findings = [
        {"category": "x", "spans": [[-3, 2], [5, 99], [7, 7], "bad", [1]]},
        {"category": "y", "spans": None},
        {"category": "z"},
    ]
    assert highlighted("abcdef", findings) == [
        Piece("ab", True, ("x",)),
        Piece("abc"[2:] + "de", False),
        Piece("f", True, ("x",)),
    ]
    assert highlighted("", findings) == []
