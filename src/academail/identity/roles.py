"""Who may have an account: the staff roles of mission.md, by HR code.

The HR export carries a ``fonction`` code. Staff codes map to a :class:`Role`;
pupils, students and parents are known codes that are refused on purpose (they
never get an account); any other code is refused as unknown, so that a new code in
the HR export is looked at by a person rather than silently given mail.
"""

from __future__ import annotations

import enum

__all__ = ["INELIGIBLE_CODES", "Role", "role_from_code"]


class Role(enum.Enum):
    """A staff role; ``value`` is the HR code, ``label`` the French wording."""

    ENS1D = "ENS1D"
    ENS2D = "ENS2D"
    CPE = "CPE"
    PSYEN = "PSYEN"
    DIR_ECOLE = "DIR_ECOLE"
    PERDIR = "PERDIR"
    IEN = "IEN"
    IA_IPR = "IA_IPR"
    ADM = "ADM"
    TECH = "TECH"
    AESH = "AESH"
    CONTRACTUEL = "CONTRACTUEL"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: dict[Role, str] = {
    Role.ENS1D: "Professeur des écoles",
    Role.ENS2D: "Enseignant du second degré",
    Role.CPE: "Conseiller principal d'éducation",
    Role.PSYEN: "Psychologue de l'Éducation nationale",
    Role.DIR_ECOLE: "Directeur d'école",
    Role.PERDIR: "Personnel de direction",
    Role.IEN: "Inspecteur de l'Éducation nationale",
    Role.IA_IPR: "Inspecteur d'académie – inspecteur pédagogique régional",
    Role.ADM: "Personnel administratif",
    Role.TECH: "Personnel technique",
    Role.AESH: "Accompagnant d'élèves en situation de handicap",
    Role.CONTRACTUEL: "Agent contractuel",
}

INELIGIBLE_CODES: dict[str, str] = {
    "ELEVE": "les élèves n'ont pas de compte de messagerie académique",
    "ETUDIANT": "les étudiants n'ont pas de compte de messagerie académique",
    "PARENT": "les parents d'élèves n'ont pas de compte de messagerie académique",
}


def role_from_code(code: str) -> Role | str:
    """The role for an HR code, or the French reason why the code gets no account."""
    key = code.strip().upper().replace("-", "_").replace(" ", "_")
    try:
        return Role(key)
    except ValueError:
        pass
    return INELIGIBLE_CODES.get(key, f"fonction inconnue « {code.strip()[:30]} »")
