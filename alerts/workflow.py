"""The review workflow's rules as data: which status may follow which, and what each move
needs. Pure (no Django), so the table is read, tested and documented in one place."""

from __future__ import annotations

from dataclasses import dataclass

OPEN, IN_REVIEW, ESCALATED, CLOSED = "open", "in_review", "escalated", "closed"
STATUSES: tuple[str, ...] = (OPEN, IN_REVIEW, ESCALATED, CLOSED)
DISPOSITIONS: tuple[str, ...] = (
    "true_positive_action",
    "true_positive_no_action",
    "false_positive",
    "duplicate",
)


@dataclass(frozen=True)
class Move:
    """One allowed change of status and what it asks of the officer."""

    needs_disposition: bool = False
    needs_reason: bool = False


# The one table of the state machine. A first-level officer may close what they reviewed (most
# alerts are false positives) or escalate it; an escalated alert is for a senior officer to
# close; a closed alert is reopened only with a reason. Anything absent is refused.
MOVES: dict[tuple[str, str], Move] = {
    (OPEN, IN_REVIEW): Move(),
    (OPEN, ESCALATED): Move(),
    (OPEN, CLOSED): Move(needs_disposition=True, needs_reason=True),
    (IN_REVIEW, OPEN): Move(),
    (IN_REVIEW, ESCALATED): Move(),
    (IN_REVIEW, CLOSED): Move(needs_disposition=True, needs_reason=True),
    (ESCALATED, CLOSED): Move(needs_disposition=True, needs_reason=True),
    (CLOSED, OPEN): Move(needs_reason=True),
}

STATUS_WORDS = {
    OPEN: "open",
    IN_REVIEW: "in review",
    ESCALATED: "escalated",
    CLOSED: "closed",
}


class TransitionRefused(ValueError):
    """The move breaks the workflow's rules; the message says why, in the officer's words."""


def check_move(current: str, to: str, *, disposition: str, rationale: str) -> Move:
    """The move from ``current`` to ``to`` if the rules allow it with this disposition and
    rationale; otherwise TransitionRefused with a sentence for the officer."""
    if to not in STATUSES:
        raise TransitionRefused("Choose one of the alert's statuses.")
    if current == to:
        raise TransitionRefused(f"The alert is already {STATUS_WORDS[to]}.")
    move = MOVES.get((current, to))
    if move is None:
        raise TransitionRefused(
            f"An alert that is {STATUS_WORDS[current]} cannot be {STATUS_WORDS[to]} directly."
        )
    if move.needs_disposition:
        if disposition not in DISPOSITIONS:
            raise TransitionRefused("Closing an alert needs a disposition.")
    elif disposition:
        raise TransitionRefused("A disposition is given only when closing an alert.")
    if move.needs_reason and not rationale.strip():
        if to == CLOSED:
            raise TransitionRefused("Closing an alert needs a rationale.")
        raise TransitionRefused("Reopening a closed alert needs a reason.")
    return move


def allowed_targets(current: str) -> list[str]:
    """The statuses an alert in ``current`` may move to, in workflow order."""
    return [to for to in STATUSES if (current, to) in MOVES]
