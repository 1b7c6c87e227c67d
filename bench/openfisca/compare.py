"""Compares two result files case by case: opcity's (`--format jsonl --detail brief`) and the
OpenFisca model's. For every case and programme the status, the four figures and the missing
facts must be equal. Prints the count of mismatches and the first few with their case; exits 1
when there is any.

    python compare.py CASES.jsonl OPCITY.jsonl OPENFISCA.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

FIELDS = ("status", "amount_fen", "ceiling_fen", "monthly_fen", "months", "missing_facts")


def field_value(entry: dict[str, Any], name: str) -> Any:
    return sorted(entry[name]) if name == "missing_facts" else entry[name]


def diff_case(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """Human-readable differences between two output objects of the same case."""
    if ours.get("id") != theirs.get("id"):
        return [f"id {ours.get('id')!r} != {theirs.get('id')!r}"]
    if "results" not in ours or "results" not in theirs:
        return [f"no results: opcity {ours.get('error')}, openfisca {theirs.get('error')}"]
    a = {e["programme"]: e for e in ours["results"]}
    b = {e["programme"]: e for e in theirs["results"]}
    if list(a) != list(b):
        return [f"programmes differ: {list(a)} != {list(b)}"]
    out = []
    for programme, entry in a.items():
        other = b[programme]
        fields = [f for f in FIELDS if field_value(entry, f) != field_value(other, f)]
        if fields:
            detail = "; ".join(f"{f}: opcity {entry[f]!r} openfisca {other[f]!r}" for f in fields)
            out.append(f"{programme}: {detail}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases")
    parser.add_argument("opcity")
    parser.add_argument("openfisca")
    parser.add_argument("--show", type=int, default=5, help="mismatching cases to print")
    args = parser.parse_args()
    cases = mismatched = 0
    programmes = 0
    by_programme: Counter[str] = Counter()
    with (open(args.cases, encoding="utf-8") as inputs, open(args.opcity, encoding="utf-8") as a,
          open(args.openfisca, encoding="utf-8") as b):
        for case_line, line_a, line_b in zip(inputs, a, b, strict=True):
            cases += 1
            ours = json.loads(line_a)
            programmes = max(programmes, len(ours.get("results", ())))
            diffs = diff_case(ours, json.loads(line_b))
            if not diffs:
                continue
            mismatched += 1
            by_programme.update(d.split(":")[0] for d in diffs)
            if mismatched <= args.show:
                print(f"case {cases}: {case_line.strip()}")
                for d in diffs:
                    print(f"  {d}")
    print(f"compared {cases} cases x {programmes} programmes: {mismatched} mismatching cases"
          + (f" ({dict(by_programme)})" if by_programme else ""))
    sys.exit(1 if mismatched else 0)


if __name__ == "__main__":
    main()
