"""Mail in the demo's boxes: what an agent sees on the first morning.

A few French messages reach the demo accounts' INBOX through the real path (the
delivery pipeline, the group commit), and the teacher's answer to a parent goes
to the outbound queue, which the demo captures (``queue.capture``): the
administrator reads it in the console, and nothing leaves the machine. Done once;
``<data>/demo/courrier.json`` remembers it.
"""

from __future__ import annotations

import datetime as dt
import email.message
import email.policy
import email.utils
import json
import secrets
from pathlib import Path

from academail.core.offload import off_loop
from academail.delivery import Incoming
from academail.mail import parse_message
from academail.runtime.demo import DemoAccounts
from academail.runtime.platform import Platform

__all__ = ["seed_demo_mail"]


def _message(
    sender: str, to: str, subject: str, body: str, when: dt.datetime, domain: str
) -> bytes:
    message = email.message.EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(when)
    message["Message-ID"] = f"<{secrets.token_hex(10)}@{domain}>"
    message.set_content(body, charset="utf-8", cte="quoted-printable")
    return message.as_bytes()


async def seed_demo_mail(platform: Platform, accounts: DemoAccounts, folder: Path) -> int:
    """Delivers the demo messages once; returns how many were sent now."""
    marker = folder / "courrier.json"
    if marker.exists():
        return 0
    domain = platform.settings.academie.domain
    address = {}
    for login in (accounts.teacher, accounts.director, accounts.admin):
        address[login] = (await platform.accounts.show(login)).record.address
    teacher, director, admin = (
        address[x] for x in (accounts.teacher, accounts.director, accounts.admin)
    )
    now = platform.clock.now()
    letters = [
        (
            f"Rectorat de l'académie d'Amiens <dsi@{domain}>",
            [teacher, director, admin],
            "Bienvenue dans votre messagerie académique",
            "Bonjour,\n\nVotre messagerie académique est active. Vous pouvez la lire dans "
            "le webmail du portail ou dans votre logiciel de messagerie (IMAP, envoi par "
            "SMTP sur le port 587 avec STARTTLS).\n\nLa DSI de l'académie d'Amiens",
            dt.timedelta(days=2),
        ),
        (
            director,
            [teacher],
            "Conseil des maîtres jeudi à 17 h",
            "Bonjour à toutes et à tous,\n\nLe conseil des maîtres aura lieu jeudi à 17 h "
            "en salle 3. Ordre du jour : sorties de fin d'année, APC, projet d'école.\n\n"
            "Bien cordialement,",
            dt.timedelta(hours=20),
        ),
        (
            "Famille Lefèvre <parents.lefevre@example.org>",
            [teacher],
            "Absence de Léa lundi matin",
            "Bonjour,\n\nLéa aura un rendez-vous médical lundi matin et arrivera vers "
            "10 h 30.\n\nMerci, bonne journée.\nMme Lefèvre",
            dt.timedelta(hours=3),
        ),
        (
            f"DSDEN de la Somme <ce.dsden80@{domain}>",
            [director, admin],
            "Enquête de rentrée : à retourner avant le 5 décembre",
            "Madame, Monsieur,\n\nMerci de compléter l'enquête de rentrée (effectifs, "
            "répartition des classes) avant le 5 décembre.\n\nLe service de la vie scolaire",
            dt.timedelta(hours=1),
        ),
    ]
    sent = 0
    for sender, recipients, subject, body, ago in letters:
        raw = _message(sender, ", ".join(recipients), subject, body, now - ago, domain)
        parsed = await off_loop(parse_message, raw)
        envelope = email.utils.parseaddr(sender)[1]  # our own literal text, not network input
        await platform.router.route_addresses(Incoming(raw, parsed, envelope), recipients)
        sent += 1
    # The teacher answers the parent: external, so the outbound queue captures it.
    reply = _message(
        teacher,
        "parents.lefevre@example.org",
        "Re: Absence de Léa lundi matin",
        "Bonjour Madame,\n\nC'est noté, merci de nous avoir prévenus.\n\nBien cordialement,",
        now,
        domain,
    )
    parsed = await off_loop(parse_message, reply)
    teacher_id = (await platform.accounts.show(accounts.teacher)).record.account_id
    await platform.router.route_addresses(
        Incoming(reply, parsed, teacher, account_id=teacher_id), ["parents.lefevre@example.org"]
    )
    marker.write_text(json.dumps({"messages": sent + 1}), encoding="utf-8")
    return sent + 1
