"""Entities: a person, and the enterprise the person applies with.

Every case is one person who is the single `applicant` of one enterprise group. OpenFisca puts
every person in a group of each kind, so a case without a company still has an enterprise group;
its input variable `enterprise_present` is then false and every enterprise fact is unknown.
"""

from openfisca_core.entities import build_entity

Person = build_entity(
    key="person",
    plural="persons",
    label="A person (founder, graduate, talent)",
    is_person=True,
)

Enterprise = build_entity(
    key="enterprise",
    plural="enterprises",
    label="The enterprise of the case's person, if any",
    roles=[
        {
            "key": "applicant",
            "plural": "applicants",
            "label": "The case's person",
            "max": 1,
        },
    ],
)

entities = [Person, Enterprise]
