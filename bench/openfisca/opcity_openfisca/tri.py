"""Three-valued (Kleene) conditions with the missing facts behind them, vectorised.

An OpenFisca variable holds one array, so a condition's outcome is packed into one int64:
bits 0-1 hold the state (FALSE, TRUE, UNKNOWN) and the bits from 2 up the set of missing
facts that made it unknown (one bit per fact, in name order, so a set sorts like its names).
A known outcome carries no missing facts.

For a programme the packed state reads as its status: FALSE ineligible, TRUE eligible,
UNKNOWN undetermined.
"""

from __future__ import annotations

import numpy as np

FALSE, TRUE, UNKNOWN = 0, 1, 2
SHIFT = 2

# Every fact of the spec's vocabulary (person.id and enterprise.uscc identify, they are not facts).
FACTS: list[str] = sorted([
    "person.birth_date", "person.highest_degree", "person.degree_date",
    "person.overseas_degree", "person.hukou_shenzhen_since", "person.works_in_ai",
    "person.is_founder", "person.kunpeng_selected", "person.high_level_talent",
    "enterprise.registered_date", "enterprise.district", "enterprise.in_opc_community",
    "enterprise.ai_business", "enterprise.size", "enterprise.gov_deployed_product",
    "enterprise.demonstration_project", "enterprise.consortium_lead",
])
BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(FACTS)}


def state(t: np.ndarray) -> np.ndarray:
    return t & 3


def missing(t: np.ndarray) -> np.ndarray:
    return t >> SHIFT


def known(holds: np.ndarray) -> np.ndarray:
    """A condition that no missing fact can affect."""
    return holds.astype(np.int64)


def of_fact(holds: np.ndarray, is_known: np.ndarray, fact: str) -> np.ndarray:
    """A condition on one fact: its value where the fact is known, else unknown."""
    return np.where(is_known, holds, UNKNOWN | (BIT[fact] << SHIFT)).astype(np.int64)


def unknown_param(is_known: np.ndarray, fact: str) -> np.ndarray:
    """A condition on one fact and a parameter that is unset on the date: unknown, naming the
    fact only where it is missing too."""
    return (UNKNOWN | (np.where(is_known, 0, BIT[fact]) << SHIFT)).astype(np.int64)


def negate(t: np.ndarray) -> np.ndarray:
    """`not`: swaps TRUE and FALSE, keeps UNKNOWN with its missing facts."""
    s = state(t)
    return np.where(s == UNKNOWN, t, 1 - s)


def _kleene(items: tuple[np.ndarray, ...], decisive: int) -> np.ndarray:
    """One decisive operand settles it; else any unknown makes it unknown (union of missing)."""
    settled = np.zeros(items[0].shape, dtype=bool)
    unknown = np.zeros(items[0].shape, dtype=bool)
    lost = np.zeros(items[0].shape, dtype=np.int64)
    for t in items:
        s = state(t)
        settled |= s == decisive
        is_unknown = s == UNKNOWN
        unknown |= is_unknown
        lost |= np.where(is_unknown, missing(t), 0)
    undecided = np.where(unknown, UNKNOWN | (lost << SHIFT), 1 - decisive)
    return np.where(settled, decisive, undecided).astype(np.int64)


def all_of(*items: np.ndarray) -> np.ndarray:
    """Kleene `and`."""
    return _kleene(items, FALSE)


def any_of(*items: np.ndarray) -> np.ndarray:
    """Kleene `or`."""
    return _kleene(items, TRUE)


def programme_outcome(*conditions: np.ndarray) -> np.ndarray:
    """A programme's status over its conditions: FALSE (ineligible) if any fails, even with
    others unknown; else UNKNOWN (undetermined) if any is unknown; else TRUE (eligible).
    Unlike `and` the missing facts of every unknown condition are kept, whatever the status."""
    failed = np.zeros(conditions[0].shape, dtype=bool)
    unknown = np.zeros(conditions[0].shape, dtype=bool)
    lost = np.zeros(conditions[0].shape, dtype=np.int64)
    for t in conditions:
        s = state(t)
        failed |= s == FALSE
        unknown |= s == UNKNOWN
        lost |= missing(t)
    status = np.where(failed, FALSE, np.where(unknown, UNKNOWN, TRUE))
    return (status | (lost << SHIFT)).astype(np.int64)


def fact_names(mask: int) -> list[str]:
    """The missing facts of a mask, sorted by name."""
    return [name for name in FACTS if mask & BIT[name]]
