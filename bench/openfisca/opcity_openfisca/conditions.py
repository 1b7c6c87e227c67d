"""Conditions shared by several programmes, as DAY variables holding packed three-valued
outcomes (see `tri`). The evaluation date is the period's start."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
from openfisca_core.errors import ParameterNotFoundError
from openfisca_core.parameters import ParameterNodeAtInstant
from openfisca_core.periods import DateUnit, Period
from openfisca_core.populations import GroupPopulation, Population
from openfisca_core.variables import Variable

from . import dates, tri
from .entities import Enterprise, Person
from .facts import Degree, Size

Parameters = Callable[[Period], ParameterNodeAtInstant]

HUKOU_NEW_SINCE = np.datetime64("2026-01-01", "D")  # measure 2: "newly introduced" from the plan's start


def as_of(period: Period) -> dt.date:
    return period.start.date


def optional(node: ParameterNodeAtInstant, name: str) -> int | None:
    """A parameter's value, or None when it is unset (null, or before its first date)."""
    try:
        return int(node[name])
    except (ParameterNotFoundError, AttributeError, KeyError):
        return None


def fact(population: Population, name: str, qualified: str, period: Period,
         test: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """A condition on one fact: `test(value)` (the value itself for a bool) where known."""
    value = population(name, period)
    holds = value if test is None else test(value)
    return tri.of_fact(holds, population(f"{name}_known", period), qualified)


# ---- person ----

class cond_works_in_ai(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.DAY
    label = "Works in AI innovation or entrepreneurship in Shenzhen (scope of person programmes)"

    def formula(person: Population, period: Period) -> np.ndarray:
        return fact(person, "works_in_ai", "person.works_in_ai", period)


class cond_young(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.DAY
    label = "Aged youth_max_age or under on the evaluation date"

    def formula(person: Population, period: Period,
                parameters: Parameters) -> np.ndarray:
        limit = optional(parameters(period).eligibility, "youth_max_age")
        if limit is None:
            return tri.unknown_param(person("birth_date_known", period), "person.birth_date")
        return fact(person, "birth_date", "person.birth_date", period,
                    lambda birth: dates.age_on(birth, as_of(period)) <= limit)


class cond_founder(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.DAY
    label = "Founder (legal representative or controlling shareholder)"

    def formula(person: Population, period: Period) -> np.ndarray:
        return fact(person, "is_founder", "person.is_founder", period)


class cond_graduated_within_window(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.DAY
    label = "Has a degree awarded within graduate_window_years of the evaluation date"

    def formula(person: Population, period: Period,
                parameters: Parameters) -> np.ndarray:
        years = optional(parameters(period).eligibility, "graduate_window_years")
        has_degree = fact(person, "highest_degree", "person.highest_degree", period,
                          lambda degree: degree != Degree.none)
        if years is None:
            recent = tri.unknown_param(person("degree_date_known", period), "person.degree_date")
        else:
            recent = fact(person, "degree_date", "person.degree_date", period,
                          lambda d: dates.within_years(d, years, as_of(period)))
        return tri.all_of(has_degree, recent)


class cond_newly_introduced(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.DAY
    label = "Shenzhen hukou since the plan's start, not after the evaluation date"

    def formula(person: Population, period: Period) -> np.ndarray:
        day = np.datetime64(as_of(period), "D")
        has_hukou = person("has_shenzhen_hukou", period)
        return fact(person, "hukou_shenzhen_since", "person.hukou_shenzhen_since", period,
                    lambda since: has_hukou & (HUKOU_NEW_SINCE <= since) & (since <= day))


class cond_bachelor_or_higher(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.DAY
    label = "Highest degree bachelor, master or doctorate"

    def formula(person: Population, period: Period) -> np.ndarray:
        return fact(person, "highest_degree", "person.highest_degree", period,
                    lambda degree: (degree == Degree.bachelor) | (degree == Degree.master)
                    | (degree == Degree.doctorate))


class cond_not_in_opc_community(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.DAY
    label = "Not sited in an OPC community (true without an enterprise)"

    def formula(person: Population, period: Period) -> np.ndarray:
        company = person.enterprise
        no_enterprise = tri.known(np.logical_not(company("enterprise_present", period)))
        in_community = tri.of_fact(company("in_opc_community", period),
                                   company("in_opc_community_known", period),
                                   "enterprise.in_opc_community")
        return tri.any_of(no_enterprise, tri.negate(in_community))


class cond_high_level_talent(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.DAY
    label = "Selected as a municipal-level high-level talent"

    def formula(person: Population, period: Period) -> np.ndarray:
        return fact(person, "high_level_talent", "person.high_level_talent", period)


class cond_kunpeng_selected(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.DAY
    label = "Project selected as a Kunpeng Youth Innovation and Entrepreneurship Project"

    def formula(person: Population, period: Period) -> np.ndarray:
        return fact(person, "kunpeng_selected", "person.kunpeng_selected", period)


class cond_overseas_degree(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.DAY
    label = "Highest degree earned abroad"

    def formula(person: Population, period: Period) -> np.ndarray:
        return fact(person, "overseas_degree", "person.overseas_degree", period)


# ---- enterprise ----

class cond_enterprise_present(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "The case has an enterprise (without one, enterprise programmes are ineligible)"

    def formula(enterprise: GroupPopulation, period: Period) -> np.ndarray:
        return tri.known(enterprise("enterprise_present", period))


class cond_ai_business(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "Main business is AI (scope of enterprise programmes)"

    def formula(enterprise: GroupPopulation, period: Period) -> np.ndarray:
        return fact(enterprise, "ai_business", "enterprise.ai_business", period)


class cond_micro_or_small(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "Micro or small enterprise (national SME classification)"

    def formula(enterprise: GroupPopulation, period: Period) -> np.ndarray:
        return fact(enterprise, "size", "enterprise.size", period,
                    lambda size: (size == Size.micro) | (size == Size.small))


class cond_in_opc_community(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "Sited in a recognised OPC community"

    def formula(enterprise: GroupPopulation, period: Period) -> np.ndarray:
        return fact(enterprise, "in_opc_community", "enterprise.in_opc_community", period)


class cond_gov_deployed_product(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "Has an AI product deployed in a government service"

    def formula(enterprise: GroupPopulation, period: Period) -> np.ndarray:
        return fact(enterprise, "gov_deployed_product", "enterprise.gov_deployed_product", period)


class cond_demonstration_project(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "Runs a demonstration application project"

    def formula(enterprise: GroupPopulation, period: Period) -> np.ndarray:
        return fact(enterprise, "demonstration_project", "enterprise.demonstration_project",
                    period)


class cond_consortium_lead(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "Leads an innovation consortium project"

    def formula(enterprise: GroupPopulation, period: Period) -> np.ndarray:
        return fact(enterprise, "consortium_lead", "enterprise.consortium_lead", period)


class cond_startup_stage(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "Registered within guangdong.startup_stage_years of the evaluation date (Guangdong)"

    def formula(enterprise: GroupPopulation, period: Period,
                parameters: Parameters) -> np.ndarray:
        years = optional(parameters(period).guangdong, "startup_stage_years")
        if years is None:
            return tri.unknown_param(enterprise("registered_date_known", period),
                                     "enterprise.registered_date")
        return fact(enterprise, "registered_date", "enterprise.registered_date", period,
                    lambda d: dates.within_years(d, years, as_of(period)))


class cond_applicant_founder(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "The case's person is a founder"

    def formula(enterprise: GroupPopulation, period: Period) -> np.ndarray:
        return enterprise.value_from_person(enterprise.members("cond_founder", period),
                                            role=Enterprise.APPLICANT)


class cond_applicant_graduated_within_window(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "The case's person graduated within graduate_window_years"

    def formula(enterprise: GroupPopulation, period: Period) -> np.ndarray:
        return enterprise.value_from_person(
            enterprise.members("cond_graduated_within_window", period),
            role=Enterprise.APPLICANT)


def variables() -> list[type[Variable]]:
    return [v for name, v in globals().items()
            if name.startswith("cond_") and isinstance(v, type) and issubclass(v, Variable)]
