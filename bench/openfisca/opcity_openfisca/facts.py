"""Input variables: the spec's facts, each with a `<fact>_known` flag (false = the fact is
missing from the case), the enterprise's presence, and the benefits already granted.

Facts describe the case as it stands, so they are ETERNITY variables; the evaluation date is
the DAY period the programmes are computed for.
"""

from __future__ import annotations

import datetime as dt

from openfisca_core.entities import CoreEntity
from openfisca_core.indexed_enums import Enum
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from .entities import Enterprise, Person

OPEN_END = dt.date(9999, 12, 31)


class Degree(Enum):
    none = "none"
    associate = "associate"
    bachelor = "bachelor"
    master = "master"
    doctorate = "doctorate"


class District(Enum):
    futian = "futian"
    luohu = "luohu"
    yantian = "yantian"
    nanshan = "nanshan"
    baoan = "baoan"
    longgang = "longgang"
    longhua = "longhua"
    pingshan = "pingshan"
    guangming = "guangming"
    dapeng = "dapeng"


class Size(Enum):
    micro = "micro"
    small = "small"
    medium = "medium"
    large = "large"


ENUMS: dict[str, type[Enum]] = {"highest_degree": Degree, "district": District, "size": Size}

# name -> value type (bool, date or an Enum), per entity, in the spec's order.
PERSON_FACTS: dict[str, type] = {
    "birth_date": dt.date,
    "highest_degree": Enum,
    "degree_date": dt.date,
    "overseas_degree": bool,
    # The date; a known "not Shenzhen hukou" (null in the case) is `has_shenzhen_hukou` false.
    "hukou_shenzhen_since": dt.date,
    "works_in_ai": bool,
    "is_founder": bool,
    "kunpeng_selected": bool,
    "high_level_talent": bool,
}
ENTERPRISE_FACTS: dict[str, type] = {
    "registered_date": dt.date,
    "district": Enum,
    "in_opc_community": bool,
    "ai_business": bool,
    "size": Enum,
    "gov_deployed_product": bool,
    "demonstration_project": bool,
    "consortium_lead": bool,
}


def input_variable(name: str, entity: CoreEntity, value_type: type, label: str,
                   **extra: object) -> type[Variable]:
    """An ETERNITY input variable (a class, as OpenFisca declares them)."""
    attrs: dict[str, object] = {
        "value_type": value_type,
        "entity": entity,
        "label": label,
        "definition_period": DateUnit.ETERNITY,
        **extra,
    }
    return type(name, (Variable,), attrs)


def fact_variables(entity: CoreEntity, facts: dict[str, type]) -> list[type[Variable]]:
    out: list[type[Variable]] = []
    for name, value_type in facts.items():
        extra: dict[str, object] = {}
        if value_type is Enum:
            enum = ENUMS[name]
            extra = {"possible_values": enum, "default_value": list(enum)[0]}
        out.append(input_variable(name, entity, value_type, f"Fact {entity.key}.{name}", **extra))
        out.append(input_variable(f"{name}_known", entity, bool,
                                  f"{entity.key}.{name} is given in the case"))
    return out


def grant_variables(programme_key: str, entity: CoreEntity) -> list[type[Variable]]:
    """What the case's `granted` list says about one programme: how many grants, and the
    latest end among them (OPEN_END for an open-ended grant)."""
    return [
        input_variable(f"{programme_key}_grants", entity, int,
                       f"Grants of {programme_key} already made"),
        input_variable(f"{programme_key}_granted_until", entity, dt.date,
                       f"Latest end of a grant of {programme_key}", default_value=OPEN_END),
    ]


def variables() -> list[type[Variable]]:
    return [
        *fact_variables(Person, PERSON_FACTS),
        input_variable("has_shenzhen_hukou", Person, bool,
                       "Shenzhen hukou (false: hukou_shenzhen_since is a known null)"),
        *fact_variables(Enterprise, ENTERPRISE_FACTS),
        input_variable("enterprise_present", Enterprise, bool,
                       "The case has an enterprise"),
    ]
