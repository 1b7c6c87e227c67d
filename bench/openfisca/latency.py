"""Single-case latency of the OpenFisca model, in process (timeit), for the case the opcity
criterion bench uses (`bench/benches/eval.rs`):

- simulate: build a one-person simulation from the parsed case and calculate every programme's
  status, missing facts and figures (a fresh simulation each time: OpenFisca caches results);
- the same with OpenFisca's tracer on (its nearest thing to opcity's explanation);
- end to end: parse the JSON, simulate, serialize the result line.

    python latency.py
"""

from __future__ import annotations

import datetime as dt
import io
import json
import timeit
from collections.abc import Callable

from evaluate import build_simulation, calculate, read_chunk, write_chunk
from opcity_openfisca import OpcityTaxBenefitSystem

CASE = json.dumps({
    "person": {"id": "p1", "birth_date": "1995-03-01", "highest_degree": "doctorate",
               "degree_date": "2023-07-01", "overseas_degree": True,
               "hukou_shenzhen_since": "2026-02-01", "works_in_ai": True, "is_founder": True,
               "kunpeng_selected": True, "high_level_talent": False},
    "enterprise": {"uscc": "91440300708461136T", "registered_date": "2026-03-01",
                   "district": "nanshan", "in_opc_community": True, "ai_business": True,
                   "size": "micro", "gov_deployed_product": False},
    "granted": [{"programme": "sz.housing.transitional", "from": "2026-03-01", "to": None}],
})
AS_OF = dt.date(2026, 6, 1)


def best_per_call(fn: Callable[[], object], number: int = 100, repeat: int = 20) -> float:
    """Seconds per call: the best of `repeat` means over `number` calls (the machine is shared,
    so the best is the least disturbed)."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def main() -> None:
    system = OpcityTaxBenefitSystem()
    chunk = read_chunk([CASE])

    def simulate(trace: bool = False) -> object:
        simulation = build_simulation(system, chunk)
        simulation.trace = trace
        return calculate(simulation, AS_OF)

    def end_to_end() -> str:
        one = read_chunk([CASE])
        out = io.StringIO()
        write_chunk(out, one, calculate(build_simulation(system, one), AS_OF), AS_OF.isoformat())
        return out.getvalue()

    rows = [
        ("simulate one case (build + calculate 21 programmes)", best_per_call(simulate)),
        ("the same with the tracer on", best_per_call(lambda: simulate(trace=True))),
        ("parse + simulate + serialize one case", best_per_call(end_to_end)),
    ]
    for label, seconds in rows:
        print(f"{label}: {seconds * 1e6:.0f} µs")


if __name__ == "__main__":
    main()
