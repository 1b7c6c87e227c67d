"""Evaluates a JSON Lines file of cases with the OpenFisca model and writes one result object a
line, in the shape of `opcity policy eval --format jsonl --detail brief` (without its `note` and
`parameters`, which the comparison does not use).

Cases are read and simulated in chunks (default 100,000): one vectorised OpenFisca simulation per
chunk, which is how OpenFisca is run on survey-sized populations.

    python evaluate.py --as-of 2026-06-01 IN.jsonl OUT.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np
from openfisca_core import periods
from openfisca_core.simulations import Simulation, SimulationBuilder

from opcity_openfisca import OpcityTaxBenefitSystem, tri
from opcity_openfisca.facts import ENTERPRISE_FACTS, ENUMS, OPEN_END, PERSON_FACTS
from opcity_openfisca.programmes import FIGURES, NULL, PROGRAMMES, Status

MISSING = object()
NO_DATE = "1970-01-01"
ETERNITY = periods.period(periods.DateUnit.ETERNITY)
STATUS_NAMES = [s.name for s in Status]
ENUM_INDEX: dict[str, dict[str, int]] = {
    name: {member.name: i for i, member in enumerate(enum)} for name, enum in ENUMS.items()
}
PROGRAMME_INDEX: dict[str, int] = {p.id: i for i, p in enumerate(PROGRAMMES)}


@dataclass
class Chunk:
    """The cases of one chunk as columns: fact values (MISSING when absent) and grants."""
    size: int
    ids: list[str | None] = field(default_factory=list)
    person: dict[str, list[Any]] = field(default_factory=dict)
    enterprise: dict[str, list[Any]] = field(default_factory=dict)
    enterprise_present: list[bool] = field(default_factory=list)
    grants: np.ndarray = field(default_factory=lambda: np.zeros(0))
    granted_until: np.ndarray = field(default_factory=lambda: np.zeros(0))


def read_chunk(lines: list[str]) -> Chunk:
    n = len(lines)
    chunk = Chunk(size=n,
                  person={name: [] for name in PERSON_FACTS},
                  enterprise={name: [] for name in ENTERPRISE_FACTS},
                  grants=np.zeros((len(PROGRAMMES), n), dtype=np.int32),
                  granted_until=np.full((len(PROGRAMMES), n), OPEN_END, dtype="datetime64[D]"))
    no_enterprise: dict[str, Any] = {}
    for i, line in enumerate(lines):
        case = json.loads(line)
        person = case.get("person") or {}
        chunk.ids.append(person.get("id"))
        for name, column in chunk.person.items():
            column.append(person.get(name, MISSING))
        enterprise = case.get("enterprise")
        chunk.enterprise_present.append(enterprise is not None)
        enterprise = enterprise if enterprise is not None else no_enterprise
        for name, column in chunk.enterprise.items():
            column.append(enterprise.get(name, MISSING))
        for grant in case.get("granted") or ():
            add_grant(chunk, i, grant)
    return chunk


def add_grant(chunk: Chunk, i: int, grant: dict[str, Any]) -> None:
    k = PROGRAMME_INDEX[grant["programme"]]
    end = np.datetime64(grant.get("to") or OPEN_END, "D")
    if chunk.grants[k, i] == 0 or end > chunk.granted_until[k, i]:
        chunk.granted_until[k, i] = end
    chunk.grants[k, i] += 1


def fact_arrays(name: str, value_type: type, column: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(values, known) for one fact column."""
    n = len(column)
    known = np.fromiter((v is not MISSING for v in column), dtype=bool, count=n)
    if value_type is bool:
        values = np.fromiter((v is True for v in column), dtype=bool, count=n)
    elif value_type is dt.date:
        values = np.array([v if isinstance(v, str) else NO_DATE for v in column],
                          dtype="datetime64[D]")
    else:
        index = ENUM_INDEX[name]
        values = np.fromiter((index.get(v, 0) for v in column), dtype=np.int16, count=n)
    return values, known


def build_simulation(system: OpcityTaxBenefitSystem, chunk: Chunk) -> Simulation:
    """One person per case, the single applicant of the case's enterprise group."""
    n = chunk.size
    builder = SimulationBuilder()
    builder.create_entities(system)
    builder.declare_person_entity("person", np.arange(n))
    enterprises = builder.declare_entity("enterprise", np.arange(n))
    builder.join_with_persons(enterprises, np.arange(n), np.full(n, "applicant"))
    simulation = builder.build(system)
    for facts, columns in ((PERSON_FACTS, chunk.person), (ENTERPRISE_FACTS, chunk.enterprise)):
        for name, value_type in facts.items():
            values, known = fact_arrays(name, value_type, columns[name])
            if value_type not in (bool, dt.date):
                values = ENUMS[name].encode(values)
            simulation.set_input(name, ETERNITY, values)
            simulation.set_input(f"{name}_known", ETERNITY, known)
    hukou = chunk.person["hukou_shenzhen_since"]
    simulation.set_input("has_shenzhen_hukou", ETERNITY,
                         np.fromiter((isinstance(v, str) for v in hukou), dtype=bool, count=n))
    simulation.set_input("enterprise_present", ETERNITY, np.array(chunk.enterprise_present))
    for k, p in enumerate(PROGRAMMES):
        simulation.set_input(f"{p.key}_grants", ETERNITY, chunk.grants[k])
        simulation.set_input(f"{p.key}_granted_until", ETERNITY, chunk.granted_until[k])
    return simulation


@dataclass
class Results:
    """Per programme (catalogue order): status index, missing-fact mask, figures (NULL = none)."""
    status: list[list[int]]
    missing: list[list[int]]
    figures: list[dict[str, list[int]]]


def calculate(simulation: Simulation, as_of: dt.date) -> Results:
    day = periods.period(as_of.isoformat())
    status, missing, figures = [], [], []
    for p in PROGRAMMES:
        status.append(np.asarray(simulation.calculate(f"{p.key}_status", day)).tolist())
        missing.append(simulation.calculate(f"{p.key}_missing_facts", day).tolist())
        figures.append({name: simulation.calculate(f"{p.key}_{name}", day).astype(np.int64).tolist()
                        for name in p.figures})
    return Results(status, missing, figures)


def write_chunk(out: TextIO, chunk: Chunk, results: Results, as_of: str) -> None:
    names: dict[int, list[str]] = {}
    for i in range(chunk.size):
        entries = []
        for k, p in enumerate(PROGRAMMES):
            mask = results.missing[k][i]
            if mask not in names:
                names[mask] = tri.fact_names(mask)
            entry: dict[str, Any] = {"programme": p.id,
                                     "status": STATUS_NAMES[results.status[k][i]],
                                     "kind": p.kind}
            for figure in FIGURES:
                column = results.figures[k].get(figure)
                value = NULL if column is None else column[i]
                entry[figure] = None if value == NULL else value
            entry["missing_facts"] = names[mask]
            entries.append(entry)
        out.write(json.dumps({"id": chunk.ids[i], "as_of": as_of, "results": entries},
                             separators=(",", ":")))
        out.write("\n")


def chunks(lines: Iterator[str], size: int) -> Iterator[list[str]]:
    cases = (line for line in lines if line.strip())
    while batch := list(itertools.islice(cases, size)):
        yield batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--chunk", type=int, default=100_000)
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    system = OpcityTaxBenefitSystem()
    spent = dict.fromkeys(["read", "build", "calculate", "write"], 0.0)
    cases = 0
    with open(args.input, encoding="utf-8") as inp, open(args.output, "w", encoding="utf-8") as out:
        for lines in chunks(inp, args.chunk):
            t0 = time.perf_counter()
            chunk = read_chunk(lines)
            t1 = time.perf_counter()
            simulation = build_simulation(system, chunk)
            t2 = time.perf_counter()
            results = calculate(simulation, as_of)
            t3 = time.perf_counter()
            write_chunk(out, chunk, results, args.as_of)
            t4 = time.perf_counter()
            for key, seconds in zip(spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                spent[key] += seconds
            cases += chunk.size
    print(f"openfisca: {cases} cases; " + ", ".join(f"{k} {v:.2f}s" for k, v in spent.items()),
          file=sys.stderr)


if __name__ == "__main__":
    main()
