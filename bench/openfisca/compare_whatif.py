"""Compares the aggregates of two what-ifs: `opcity policy whatif`'s and `whatif.py`'s. The
baseline, scenario and delta of every programme (eligible, maybe, amount_fen, ceiling_fen,
monthly_total_fen), changed_cases and by_district must be equal (a district or programme that
one side leaves out counts as all zeros in by_district). Prints the differences; exits 1 when
there is any.

    python compare_whatif.py OPCITY.json OPENFISCA.json
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

TOTALS = ("eligible", "maybe", "amount_fen", "ceiling_fen", "monthly_total_fen")


def table_diffs(where: str, a: dict[str, Any], b: dict[str, Any], strict: bool) -> list[str]:
    """Differences between two {programme: totals} tables; `strict`: same programmes too."""
    out = []
    if strict and sorted(a) != sorted(b):
        out.append(f"{where}: programmes differ: opcity {sorted(a)} openfisca {sorted(b)}")
    zero = dict.fromkeys(TOTALS, 0)
    for programme in sorted(set(a) | set(b)):
        x, y = a.get(programme, zero), b.get(programme, zero)
        for key in TOTALS:
            if x.get(key, 0) != y.get(key, 0):
                out.append(f"{where} {programme} {key}: opcity {x.get(key)} openfisca {y.get(key)}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("opcity")
    parser.add_argument("openfisca")
    args = parser.parse_args()
    with open(args.opcity, encoding="utf-8") as f:
        ours = json.load(f)
    with open(args.openfisca, encoding="utf-8") as f:
        theirs = json.load(f)
    diffs = []
    for part in ("baseline", "scenario", "delta"):
        diffs += table_diffs(part, ours[part], theirs[part], strict=True)
    if ours["changed_cases"] != theirs["changed_cases"]:
        diffs.append(f"changed_cases: opcity {ours['changed_cases']} "
                     f"openfisca {theirs['changed_cases']}")
    a, b = ours.get("by_district", {}), theirs.get("by_district", {})
    for district in sorted(set(a) | set(b)):
        diffs += table_diffs(f"by_district {district}", a.get(district, {}),
                             b.get(district, {}), strict=False)
    for d in diffs[:40]:
        print(d)
    programmes = len(ours["baseline"])
    print(f"what-if aggregates, {programmes} programmes x baseline/scenario/delta, changed_cases "
          f"({ours['changed_cases']}), by_district: {len(diffs)} differences")
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
