"""The one catalogue of what sign-in and self-service pages tell people.

Non-enumeration is structural (style.md §5): every outcome that could reveal
whether an account exists — unknown identifier, wrong password, locked, suspended,
disabled — maps to the *same* text, so no page can tell them apart.
"""

from __future__ import annotations

__all__ = [
    "CODE_SENT",
    "LOGIN_FAILED",
    "RESET_SENT",
    "SELF_SERVICE_FAILED",
    "THROTTLED",
]

LOGIN_FAILED = (
    "Identifiant ou mot de passe incorrect. Après plusieurs erreurs, le compte est "
    "verrouillé 30 minutes et son titulaire en est averti par courriel."
)
THROTTLED = "Trop de tentatives depuis votre connexion : réessayez dans quelques minutes."
RESET_SENT = (
    "Si un compte correspond et qu'une adresse de secours vérifiée y est enregistrée, "
    "un lien valable 30 minutes vient d'y être envoyé."
)
SELF_SERVICE_FAILED = (
    "Les informations saisies ne permettent pas de vous identifier. Vérifiez votre "
    "NUMEN, votre date de naissance et les caractères de l'image."
)
CODE_SENT = "Un code de confirmation vient d'être envoyé."
