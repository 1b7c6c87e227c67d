"""A small OpenFisca country-package-like model of Shenzhen's 2026-2027 AI OPC action plan,
the same 20 programmes as opcity's policy pack, for a like-for-like benchmark."""

from __future__ import annotations

from pathlib import Path

from openfisca_core.taxbenefitsystems import TaxBenefitSystem

from . import conditions, facts, programmes
from .entities import entities

PARAMETERS = Path(__file__).parent / "parameters"


class OpcityTaxBenefitSystem(TaxBenefitSystem):
    def __init__(self) -> None:
        super().__init__(entities)
        self.load_parameters(str(PARAMETERS))
        for variable in [*facts.variables(), *conditions.variables(), *programmes.variables()]:
            self.add_variable(variable)


CountryTaxBenefitSystem = OpcityTaxBenefitSystem
