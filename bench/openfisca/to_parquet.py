"""Converts a JSON Lines file of cases to Apache Parquet for `opcity policy whatif`, and writes
the JSON Lines the two engines read beside it, so that both see the same population.

In Parquet a null is a missing fact (docs/policy-pack.md, "Parquet"): a known "not Shenzhen
hukou" (`"hukou_shenzhen_since": null` in JSON) cannot be written. Both outputs therefore leave
such a hukou out (the fact is missing); everything else is as in the input.

One row a case: `person` and `enterprise` structs with the spec's field names (dates as
date32), `granted` a list of `{programme, from, to}` structs. Row groups of `--rows` cases
(default 100,000), snappy-compressed (pyarrow's default).

    python to_parquet.py IN.jsonl OUT.jsonl OUT.parquet
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from opcity_openfisca.facts import ENTERPRISE_FACTS, PERSON_FACTS


def arrow_type(value_type: type) -> pa.DataType:
    if value_type is bool:
        return pa.bool_()
    if value_type is dt.date:
        return pa.date32()
    return pa.string()  # enums


PERSON = pa.struct([pa.field("id", pa.string())]
                   + [pa.field(n, arrow_type(t)) for n, t in PERSON_FACTS.items()])
ENTERPRISE = pa.struct([pa.field("uscc", pa.string())]
                       + [pa.field(n, arrow_type(t)) for n, t in ENTERPRISE_FACTS.items()])
GRANT = pa.struct([pa.field("programme", pa.string()), pa.field("from", pa.date32()),
                   pa.field("to", pa.date32())])
SCHEMA = pa.schema([pa.field("person", PERSON), pa.field("enterprise", ENTERPRISE),
                    pa.field("granted", pa.list_(GRANT))])
DATES = {"person": [n for n, t in PERSON_FACTS.items() if t is dt.date],
         "enterprise": [n for n, t in ENTERPRISE_FACTS.items() if t is dt.date]}


def date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def row(case: dict[str, Any]) -> dict[str, Any]:
    """The case as a Parquet row: ISO dates as dates (a key left out is a null)."""
    out: dict[str, Any] = {}
    for entity in ("person", "enterprise"):
        facts = case.get(entity)
        if facts is not None:
            facts = dict(facts)
            for name in DATES[entity]:
                if name in facts:
                    facts[name] = date(facts[name])
        out[entity] = facts
    granted = case.get("granted")
    out["granted"] = None if granted is None else [
        {"programme": g["programme"], "from": date(g["from"]), "to": date(g.get("to"))}
        for g in granted]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("jsonl")
    parser.add_argument("parquet")
    parser.add_argument("--rows", type=int, default=100_000, help="cases a row group")
    args = parser.parse_args()
    stripped = 0
    with (open(args.input, encoding="utf-8") as inp, open(args.jsonl, "w", encoding="utf-8") as out,
          pq.ParquetWriter(args.parquet, SCHEMA) as writer):
        lines = (line for line in inp if line.strip())
        while batch := list(itertools.islice(lines, args.rows)):
            rows = []
            for line in batch:
                case = json.loads(line)
                person = case.get("person") or {}
                if "hukou_shenzhen_since" in person and person["hukou_shenzhen_since"] is None:
                    del person["hukou_shenzhen_since"]
                    stripped += 1
                out.write(json.dumps(case, separators=(",", ":")))
                out.write("\n")
                rows.append(row(case))
            writer.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))
    print(f"to_parquet: {stripped} known-null hukou dates left out (missing in both files)")


if __name__ == "__main__":
    main()
