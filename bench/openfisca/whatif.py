"""A what-if with the OpenFisca model: the same population under the baseline legislation and
under a reform that changes parameters from the evaluation date on (OpenFisca's `Reform` and
`modify_parameters`), reduced to the aggregates of `opcity policy whatif`. Prints one JSON
object on stdout, per-phase times on stderr.

    python whatif.py --as-of 2026-06-01 --set housing.subsidy_monthly_fen=150000 IN.jsonl

`--set` names an OpenFisca parameter by its path (here `housing.subsidy_monthly_fen`, opcity's
`housing_subsidy_monthly_fen`); its value is a whole number or `null`. Per programme:
`eligible` (eligible cases), `maybe` (undetermined cases), `amount_fen`, `ceiling_fen` and
`monthly_total_fen` (monthly x months) summed over the eligible cases with a missing figure
counting 0; `delta` is scenario - baseline; `changed_cases` counts the cases in which any
programme's status or figure differs; `by_district` is the delta over the cases whose
enterprise names its district. Cases are read once and simulated in chunks (default 100,000):
for each chunk one simulation under each tax-benefit system.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from typing import Any

import numpy as np
from openfisca_core import periods
from openfisca_core.parameters import ParameterNode
from openfisca_core.reforms import Reform
from openfisca_core.simulations import Simulation
from openfisca_core.taxbenefitsystems import TaxBenefitSystem

from evaluate import build_simulation, chunks, read_chunk
from opcity_openfisca import OpcityTaxBenefitSystem
from opcity_openfisca.facts import District
from opcity_openfisca.programmes import NULL, PROGRAMMES, Status

TOTALS = ("eligible", "maybe", "amount_fen", "ceiling_fen", "monthly_total_fen")
ELIGIBLE = list(Status).index(Status.eligible)
UNDETERMINED = list(Status).index(Status.undetermined)
DISTRICTS = [member.name for member in District]


def parameter_reform(changes: dict[str, int | None], start: dt.date) -> type[Reform]:
    """A reform giving each parameter (by path) its new value from `start` on."""

    def modifier(parameters: ParameterNode) -> ParameterNode:
        for path, value in changes.items():
            node: Any = parameters
            for part in path.split("."):
                node = node.children[part]
            node.update(start=periods.instant(start.isoformat()), value=value)
        return parameters

    class WhatIf(Reform):
        name = "what-if: " + ", ".join(f"{k}={v}" for k, v in changes.items())

        def apply(self) -> None:
            self.modify_parameters(modifier_function=modifier)

    return WhatIf


class Outcomes:
    """One chunk's statuses and figures, per programme (catalogue order)."""

    def __init__(self, simulation: Simulation, day: periods.Period) -> None:
        self.status: list[np.ndarray] = []
        self.figures: list[dict[str, np.ndarray]] = []
        for p in PROGRAMMES:
            self.status.append(np.asarray(simulation.calculate(f"{p.key}_status", day)))
            self.figures.append({name: simulation.calculate(f"{p.key}_{name}", day)
                                 .astype(np.int64) for name in p.figures})

    def totals(self, k: int, where: np.ndarray | None = None) -> dict[str, int]:
        """The five totals of programme `k` over the cases `where` (all when None)."""
        status = self.status[k]
        if where is not None:
            status = status[where]
        eligible = status == ELIGIBLE

        def figure(name: str) -> np.ndarray:
            values = self.figures[k].get(name)
            if values is None:
                return np.zeros(status.shape, dtype=np.int64)
            if where is not None:
                values = values[where]
            return np.where(eligible & (values != NULL), values, 0)

        return {"eligible": int(eligible.sum()),
                "maybe": int((status == UNDETERMINED).sum()),
                "amount_fen": int(figure("amount_fen").sum()),
                "ceiling_fen": int(figure("ceiling_fen").sum()),
                "monthly_total_fen": int((figure("monthly_fen") * figure("months")).sum())}


def changed(a: Outcomes, b: Outcomes) -> np.ndarray:
    """Cases in which any programme's status or figure differs."""
    out = np.zeros(a.status[0].shape, dtype=bool)
    for k in range(len(PROGRAMMES)):
        out |= a.status[k] != b.status[k]
        for name, values in a.figures[k].items():
            out |= values != b.figures[k][name]
    return out


def add(into: dict[str, int], totals: dict[str, int], sign: int = 1) -> None:
    for key in TOTALS:
        into[key] += sign * totals[key]


def zero() -> dict[str, int]:
    return dict.fromkeys(TOTALS, 0)


def parse_set(text: str) -> tuple[str, int | None]:
    name, _, value = text.partition("=")
    if not name or not value:
        raise argparse.ArgumentTypeError(f"--set {text!r}: expected PATH=VALUE")
    return name, None if value == "null" else int(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--set", type=parse_set, action="append", required=True,
                        metavar="PATH=VALUE")
    parser.add_argument("--chunk", type=int, default=100_000)
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    day = periods.period(args.as_of)
    baseline_system: TaxBenefitSystem = OpcityTaxBenefitSystem()
    reform_system = parameter_reform(dict(args.set), as_of)(baseline_system)

    baseline = {p.id: zero() for p in PROGRAMMES}
    scenario = {p.id: zero() for p in PROGRAMMES}
    by_district = {d: {p.id: zero() for p in PROGRAMMES} for d in DISTRICTS}
    changed_cases = cases = 0
    spent = dict.fromkeys(["read", "build", "calculate", "aggregate"], 0.0)
    with open(args.input, encoding="utf-8") as inp:
        for lines in chunks(inp, args.chunk):
            t0 = time.perf_counter()
            chunk = read_chunk(lines)
            t1 = time.perf_counter()
            simulations = [build_simulation(system, chunk)
                           for system in (baseline_system, reform_system)]
            t2 = time.perf_counter()
            before, after = (Outcomes(s, day) for s in simulations)
            t3 = time.perf_counter()
            district = chunk.enterprise["district"]
            named = np.array([isinstance(v, str) for v in district], dtype=bool)
            codes = np.array([DISTRICTS.index(v) if isinstance(v, str) else -1 for v in district])
            differs = changed(before, after)
            changed_cases += int(differs.sum())
            for k, p in enumerate(PROGRAMMES):
                add(baseline[p.id], before.totals(k))
                add(scenario[p.id], after.totals(k))
            # Per district only where something changed: elsewhere the difference is zero.
            for code in np.unique(codes[named & differs]):
                where = differs & (codes == code)
                for k, p in enumerate(PROGRAMMES):
                    add(by_district[DISTRICTS[code]][p.id], after.totals(k, where))
                    add(by_district[DISTRICTS[code]][p.id], before.totals(k, where), -1)
            t4 = time.perf_counter()
            for key, seconds in zip(spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                spent[key] += seconds
            cases += chunk.size

    delta = {p: {k: scenario[p][k] - baseline[p][k] for k in TOTALS} for p in baseline}
    json.dump({"baseline": baseline, "scenario": scenario, "delta": delta,
               "changed_cases": changed_cases, "by_district": by_district}, sys.stdout)
    sys.stdout.write("\n")
    print(f"openfisca what-if: {cases} cases; "
          + ", ".join(f"{k} {v:.2f}s" for k, v in spent.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
