"""The 20 programmes of the Shenzhen 2026-2027 AI OPC action plan, and the one Shenzhen's pack
inherits from Guangdong's (`gd.voucher.compute`, listed last as opcity lists it).

Each programme `sz.X.Y` (`gd.X.Y`) has, on its beneficiary entity, with key `X_Y`:
- `X_Y` — the packed outcome of all its conditions (see `tri`): the plan in effect, the scope
  (person: works in AI; enterprise: present and AI business), its own conditions, and the
  granted rules (one-time, active grant, mutual exclusion of the two housing programmes);
- `X_Y_status` (Enum) and `X_Y_missing_facts` (bit set of facts, see `tri.FACTS`);
- one variable per figure it has (`_amount_fen`, `_ceiling_fen`, `_monthly_fen`, `_months`),
  set only when eligible. OpenFisca numbers have no null: NULL (-1) stands for "no figure".

Money: OpenFisca's `int` is int32 and a formula result is cast to it silently, so 30 million
yuan in fen (3,000,000,000) wraps to a negative number. Figures are therefore `float`, OpenFisca's
money type (float32), and `exact` refuses any value float32 cannot hold exactly (all the plan's
figures are round enough; an arbitrary fen amount above 2**24 would not be).

The figures come from dated parameters; an unset (null) parameter gives NULL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from openfisca_core.errors import ParameterNotFoundError
from openfisca_core.indexed_enums import Enum
from openfisca_core.entities import CoreEntity
from openfisca_core.periods import DateUnit, Period
from openfisca_core.populations import Population
from openfisca_core.variables import Variable

from . import tri
from .conditions import Parameters, as_of, optional
from .entities import Enterprise, Person
from .facts import Degree, District, grant_variables

NULL = -1

Figure = Callable[[Population, Period, Parameters], np.ndarray]


class Status(Enum):
    """Indexed like the packed states: FALSE, TRUE, UNKNOWN."""
    ineligible = "ineligible"
    eligible = "eligible"
    undetermined = "undetermined"


@dataclass(frozen=True)
class Programme:
    id: str
    entity: CoreEntity
    kind: str
    conditions: tuple[str, ...] = ()
    one_time: bool = False
    excluded_by: str | None = None  # the other programme of its exclusion group
    figures: dict[str, Figure] = field(default_factory=dict)
    window: str = "eligibility.in_effect"  # the dated boolean parameter of its plan's window

    @property
    def key(self) -> str:
        return self.id.removeprefix("sz.").replace(".", "_")


def const(path: str) -> Figure:
    """A figure read from one parameter, e.g. `funding.personal_loan_ceiling_fen`."""
    group, name = path.split(".")

    def figure(population: Population, period: Period, parameters: Parameters) -> np.ndarray:
        value = optional(parameters(period)[group], name)
        return population.filled_array(NULL if value is None else value, dtype=np.int64)
    return figure


def tiered(fact: str, enum: type[Enum], path: str) -> Figure:
    """A figure by the value of an enum fact, one parameter per value; a value without a set
    parameter, or a missing fact, gives NULL."""
    group, name = path.split(".")

    def figure(population: Population, period: Period, parameters: Parameters) -> np.ndarray:
        node = parameters(period)[group][name]
        values = [optional(node, member.name) for member in enum]
        table = np.array([NULL if v is None else v for v in values], dtype=np.int64)
        by_fact = table[np.asarray(population(fact, period))]
        return np.where(population(f"{fact}_known", period), by_fact, NULL)
    return figure


def housing_subsidy_total(population: Population, period: Period, parameters: Parameters) -> np.ndarray:
    monthly = const("housing.subsidy_monthly_fen")(population, period, parameters)
    months = const("housing.subsidy_max_months")(population, period, parameters)
    return np.where((monthly == NULL) | (months == NULL), NULL, monthly * months)


PERSON_SCOPE = ("cond_works_in_ai",)
ENTERPRISE_SCOPE = ("cond_enterprise_present", "cond_ai_business")

PROGRAMMES: list[Programme] = [
    Programme("sz.talent.hukou_subsidy", Person, "cash",
              ("cond_newly_introduced", "cond_bachelor_or_higher"), one_time=True,
              figures={"amount_fen": tiered("highest_degree", Degree, "talent.hukou_subsidy_fen")}),
    Programme("sz.talent.high_level", Person, "selective", ("cond_high_level_talent",)),
    Programme("sz.talent.open_source", Person, "selective"),
    Programme("sz.space.opc_workspace", Enterprise, "in_kind"),
    Programme("sz.space.young_talent", Person, "in_kind",
              ("cond_young", "cond_not_in_opc_community")),
    Programme("sz.housing.transitional", Person, "in_kind", ("cond_young", "cond_founder"),
              one_time=True, excluded_by="sz.housing.subsidy",
              figures={"months": const("housing.transitional_max_months")}),
    Programme("sz.housing.subsidy", Person, "cash", ("cond_young", "cond_founder"),
              one_time=True, excluded_by="sz.housing.transitional",
              figures={"amount_fen": housing_subsidy_total,
                       "monthly_fen": const("housing.subsidy_monthly_fen"),
                       "months": const("housing.subsidy_max_months")}),
    Programme("sz.funding.kunpeng_reward", Person, "ceiling", ("cond_kunpeng_selected",),
              one_time=True, figures={"ceiling_fen": const("funding.kunpeng_reward_ceiling_fen")}),
    Programme("sz.funding.kunpeng_rnd", Person, "ceiling", ("cond_kunpeng_selected",),
              one_time=True, figures={"ceiling_fen": const("funding.kunpeng_rnd_ceiling_fen")}),
    Programme("sz.funding.overseas_startup", Person, "ceiling",
              ("cond_young", "cond_overseas_degree", "cond_founder"), one_time=True,
              figures={"ceiling_fen": const("funding.overseas_startup_ceiling_fen")}),
    Programme("sz.loan.personal", Person, "loan",
              ("cond_founder", "cond_graduated_within_window"),
              figures={"ceiling_fen": const("funding.personal_loan_ceiling_fen")}),
    Programme("sz.loan.enterprise", Enterprise, "loan",
              ("cond_micro_or_small", "cond_applicant_founder",
               "cond_applicant_graduated_within_window"),
              figures={"ceiling_fen": const("funding.enterprise_loan_ceiling_fen")}),
    Programme("sz.voucher.smart", Enterprise, "voucher", ("cond_in_opc_community",),
              figures={"ceiling_fen": tiered("district", District,
                                             "vouchers.smart_voucher_ceiling_fen")}),
    Programme("sz.voucher.national_compute", Enterprise, "referral"),
    Programme("sz.voucher.training", Enterprise, "voucher",
              figures={"ceiling_fen": const("vouchers.training_voucher_ceiling_fen")}),
    Programme("sz.voucher.model", Enterprise, "voucher",
              figures={"ceiling_fen": const("vouchers.model_voucher_ceiling_fen")}),
    Programme("sz.voucher.data", Enterprise, "voucher",
              figures={"ceiling_fen": const("vouchers.data_voucher_ceiling_fen")}),
    Programme("sz.scenario.gov_deployment", Enterprise, "ceiling", ("cond_gov_deployed_product",),
              figures={"ceiling_fen": const("scenarios.gov_deployment_ceiling_fen")}),
    Programme("sz.scenario.demonstration", Enterprise, "ceiling", ("cond_demonstration_project",),
              figures={"ceiling_fen": const("scenarios.demonstration_ceiling_fen")}),
    Programme("sz.collab.consortium", Enterprise, "ceiling", ("cond_consortium_lead",),
              figures={"ceiling_fen": const("scenarios.consortium_ceiling_fen")}),
    # Guangdong's plan (policies/guangdong-2026/), which Shenzhen's pack extends: its own
    # window, the same enterprise scope; the ceiling is unset, so its figure is NULL.
    Programme("gd.voucher.compute", Enterprise, "voucher", ("cond_startup_stage",),
              figures={"ceiling_fen": const("guangdong.compute_voucher_ceiling_fen")},
              window="guangdong.in_effect"),
]
BY_ID: dict[str, Programme] = {p.id: p for p in PROGRAMMES}
FIGURES = ("amount_fen", "ceiling_fen", "monthly_fen", "months")


def in_effect(p: Programme, population: Population, period: Period,
              parameters: Parameters) -> np.ndarray:
    """The programme's window: its plan's `in_effect` on the date (unset before the plan: false)."""
    group, name = p.window.split(".")
    try:
        on = bool(parameters(period)[group][name])
    except ParameterNotFoundError:
        on = False
    return population.filled_array(int(on), dtype=np.int64)


def granted_rules(p: Programme, population: Population, period: Period) -> list[np.ndarray]:
    """One-time: never granted; otherwise no grant still running on the date (one that starts
    later counts); an exclusion group: no grant at all of the other programme."""
    grants = population(f"{p.key}_grants", period)
    if p.one_time:
        rules = [tri.known(grants == 0)]
    else:
        until = population(f"{p.key}_granted_until", period)
        rules = [tri.known((grants == 0) | (until < np.datetime64(as_of(period), "D")))]
    if p.excluded_by is not None:
        other = BY_ID[p.excluded_by]
        rules.append(tri.known(population(f"{other.key}_grants", period) == 0))
    return rules


def outcome_variable(p: Programme) -> type[Variable]:
    scope = PERSON_SCOPE if p.entity is Person else ENTERPRISE_SCOPE

    def formula(population: Population, period: Period, parameters: Parameters) -> np.ndarray:
        conditions = [in_effect(p, population, period, parameters)]
        conditions += [population(name, period) for name in scope + p.conditions]
        conditions += granted_rules(p, population, period)
        return tri.programme_outcome(*conditions)

    return type(p.key, (Variable,), {
        "value_type": int, "entity": p.entity, "definition_period": DateUnit.DAY,
        "label": f"{p.id}: outcome of all conditions (packed, see tri)",
        "formula": formula,
    })


def status_variable(p: Programme) -> type[Variable]:
    def formula(population: Population, period: Period) -> np.ndarray:
        return tri.state(population(p.key, period))

    return type(f"{p.key}_status", (Variable,), {
        "value_type": Enum, "possible_values": Status, "default_value": Status.ineligible,
        "entity": p.entity, "definition_period": DateUnit.DAY,
        "label": f"{p.id}: eligible, ineligible or undetermined", "formula": formula,
    })


def missing_facts_variable(p: Programme) -> type[Variable]:
    def formula(population: Population, period: Period) -> np.ndarray:
        return tri.missing(population(p.key, period))

    return type(f"{p.key}_missing_facts", (Variable,), {
        "value_type": int, "entity": p.entity, "definition_period": DateUnit.DAY,
        "label": f"{p.id}: missing facts behind unknown conditions (bit set)",
        "formula": formula,
    })


def exact(values: np.ndarray, what: str) -> np.ndarray:
    """`values` as float32, or an error if any would be rounded."""
    out = values.astype(np.float32)
    if not np.array_equal(out.astype(np.int64), values):
        raise ValueError(f"{what}: a figure is not exactly representable as float32")
    return out


def figure_variable(p: Programme, name: str, compute: Figure) -> type[Variable]:
    def formula(population: Population, period: Period, parameters: Parameters) -> np.ndarray:
        eligible = tri.state(population(p.key, period)) == tri.TRUE
        return exact(np.where(eligible, compute(population, period, parameters), NULL),
                     f"{p.key}_{name}")

    return type(f"{p.key}_{name}", (Variable,), {
        "value_type": float, "entity": p.entity, "definition_period": DateUnit.DAY,
        "default_value": NULL, "label": f"{p.id}: {name} when eligible, else NULL (-1)",
        "formula": formula,
    })


def variables() -> list[type[Variable]]:
    out: list[type[Variable]] = []
    for p in PROGRAMMES:
        out += grant_variables(p.key, p.entity)
        out += [outcome_variable(p), status_variable(p), missing_facts_variable(p)]
        out += [figure_variable(p, name, f) for name, f in p.figures.items()]
    return out
