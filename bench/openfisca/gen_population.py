"""Seeded synthetic population of evaluation cases, as JSON Lines in the spec's case format.

Deterministic: the same seed and size always give the same file. The variety is aimed at the
rules: missing facts, cases without an enterprise, grants (one-time, active, ended, future),
and boundary dates around the evaluation date (36th birthday, 5th graduation anniversary,
29 February, hukou on 2026-01-01 and on the evaluation date).

    python gen_population.py --size 10000 --seed 1 --as-of 2026-06-01 OUT.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from typing import Any

PROGRAMMES: list[str] = [
    "sz.talent.hukou_subsidy", "sz.talent.high_level", "sz.talent.open_source",
    "sz.space.opc_workspace", "sz.space.young_talent", "sz.housing.transitional",
    "sz.housing.subsidy", "sz.funding.kunpeng_reward", "sz.funding.kunpeng_rnd",
    "sz.funding.overseas_startup", "sz.loan.personal", "sz.loan.enterprise",
    "sz.voucher.smart", "sz.voucher.national_compute", "sz.voucher.training",
    "sz.voucher.model", "sz.voucher.data", "sz.scenario.gov_deployment",
    "sz.scenario.demonstration", "sz.collab.consortium",
]
DEGREES = ["none", "associate", "bachelor", "master", "doctorate"]
DEGREE_WEIGHTS = [5, 10, 45, 28, 12]
DISTRICTS = ["futian", "luohu", "yantian", "nanshan", "baoan", "longgang", "longhua",
             "pingshan", "guangming", "dapeng"]
SIZES = ["micro", "small", "medium", "large"]
SIZE_WEIGHTS = [55, 30, 10, 5]

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]

# Probability that a given fact is left out of a case (it is then "missing").
P_MISSING = 0.06


def add_years(d: dt.date, years: int) -> dt.date:
    """Same month and day `years` later; 29 February rolls to 28 February."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def iso(d: dt.date) -> str:
    return d.isoformat()


def uscc(rng: random.Random) -> str:
    """A valid Unified Social Credit Code (GB 32100-2015), Shenzhen division 440300."""
    while True:
        body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
        org_sum = sum((int(c) if c.isdigit() else ord(c) - ord("A") + 10) * w
                      for c, w in zip(body, ORG_WEIGHTS, strict=True))
        org = {10: "X", 11: "0"}.get(11 - org_sum % 11, str(11 - org_sum % 11))
        if org == "X":  # outside the USCC alphabet: no valid code has this body
            continue
        first17 = "91440300" + body + org
        total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
        return first17 + USCC_ALPHABET[(31 - total % 31) % 31]


class Generator:
    """Draws cases around a fixed evaluation date."""

    def __init__(self, seed: int, as_of: dt.date) -> None:
        self.rng = random.Random(seed)
        self.as_of = as_of

    def day_between(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))

    def birth_date(self) -> dt.date:
        r = self.rng.random()
        age36 = add_years(self.as_of, -36)
        if r < 0.04:  # the 36th birthday falls on the evaluation date, or a day either side
            return age36 + dt.timedelta(days=self.rng.choice([-1, 0, 1]))
        if r < 0.07:  # 29 February birthdays
            return dt.date(self.rng.choice([1988, 1990 - 2, 1992, 1996, 2000]), 2, 29)
        return self.day_between(add_years(self.as_of, -60), add_years(self.as_of, -20))

    def degree_date(self) -> dt.date:
        r = self.rng.random()
        fifth = add_years(self.as_of, -5)
        if r < 0.05:  # the 5th anniversary is the evaluation date, or a day either side
            return fifth + dt.timedelta(days=self.rng.choice([-1, 0, 1]))
        if r < 0.07:
            return dt.date(self.rng.choice([2020, 2024]), 2, 29)
        if r < 0.09:  # awarded after the evaluation date
            return self.as_of + dt.timedelta(days=self.rng.randrange(1, 200))
        return self.day_between(add_years(self.as_of, -15), self.as_of)

    def hukou(self) -> str | None:
        r = self.rng.random()
        if r < 0.35:
            return None  # known: not Shenzhen hukou
        if r < 0.45:
            return self.rng.choice(["2025-12-31", "2026-01-01", iso(self.as_of),
                                    iso(self.as_of + dt.timedelta(days=1))])
        if r < 0.75:
            return iso(self.day_between(dt.date(2026, 1, 1), self.as_of))
        return iso(self.day_between(dt.date(2005, 1, 1), dt.date(2025, 12, 31)))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def keep(self, facts: dict[str, Any]) -> dict[str, Any]:
        """Drops each fact with probability P_MISSING (ids are kept)."""
        return {k: v for k, v in facts.items()
                if k in ("id", "uscc") or self.rng.random() >= P_MISSING}

    def person(self, index: int) -> dict[str, Any]:
        rng = self.rng
        return self.keep({
            "id": f"p{index:07d}",
            "birth_date": iso(self.birth_date()),
            "highest_degree": rng.choices(DEGREES, DEGREE_WEIGHTS)[0],
            "degree_date": iso(self.degree_date()),
            "overseas_degree": self.chance(0.2),
            "hukou_shenzhen_since": self.hukou(),
            "works_in_ai": self.chance(0.8),
            "is_founder": self.chance(0.6),
            "kunpeng_selected": self.chance(0.1),
            "high_level_talent": self.chance(0.05),
        })

    def enterprise(self) -> dict[str, Any]:
        rng = self.rng
        facts = self.keep({
            "registered_date": iso(self.day_between(dt.date(2015, 1, 1), self.as_of)),
            "district": rng.choice(DISTRICTS),
            "in_opc_community": self.chance(0.4),
            "ai_business": self.chance(0.8),
            "size": rng.choices(SIZES, SIZE_WEIGHTS)[0],
            "gov_deployed_product": self.chance(0.1),
            "demonstration_project": self.chance(0.1),
            "consortium_lead": self.chance(0.03),
        })
        if self.chance(0.7):
            facts = {"uscc": uscc(rng), **facts}
        return facts

    def grant(self) -> dict[str, Any]:
        rng = self.rng
        start = self.day_between(dt.date(2024, 1, 1), self.as_of + dt.timedelta(days=60))
        grant: dict[str, Any] = {"programme": rng.choice(PROGRAMMES), "from": iso(start)}
        r = rng.random()
        if r < 0.3:
            grant["to"] = None
        elif r < 0.4:
            pass  # `to` absent: open-ended as well
        elif r < 0.5:
            grant["to"] = iso(max(start, self.as_of - dt.timedelta(days=1)))  # ended yesterday
        elif r < 0.6:
            grant["to"] = iso(max(start, self.as_of))  # ends on the evaluation date
        else:
            grant["to"] = iso(start + dt.timedelta(days=rng.randrange(0, 700)))
        return grant

    def case(self, index: int) -> dict[str, Any]:
        case: dict[str, Any] = {"person": self.person(index)}
        if self.chance(0.7):
            case["enterprise"] = self.enterprise()
        r = self.rng.random()
        if r < 0.3:
            case["granted"] = [self.grant() for _ in range(self.rng.randint(1, 3))]
        elif r < 0.35:
            case["granted"] = []
        return case


def write_population(path: str, size: int, seed: int, as_of: dt.date) -> None:
    gen = Generator(seed, as_of)
    with open(path, "w", encoding="utf-8") as out:
        for i in range(size):
            out.write(json.dumps(gen.case(i), separators=(",", ":")))
            out.write("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default="2026-06-01")
    args = parser.parse_args()
    write_population(args.out, args.size, args.seed, dt.date.fromisoformat(args.as_of))


if __name__ == "__main__":
    main()
