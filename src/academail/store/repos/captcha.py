"""Captcha challenges of the self-service pages: created with the page, used once.

The answer is kept in clear: it is not a secret (it is drawn on a picture anyone
may fetch) and the page must be able to draw it again. :func:`take` deletes the
challenge whatever the visitor typed, so each challenge gets exactly one guess,
even when two requests race (only the one whose DELETE removed the row wins).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from academail.store.tables import captcha_challenges

__all__ = ["add", "answer_of", "take"]


def add(
    conn: sa.Connection, challenge_id: str, answer: str, now: dt.datetime, expires_at: dt.datetime
) -> None:
    """Stores a new challenge, and drops the expired ones (the table stays small)."""
    conn.execute(captcha_challenges.delete().where(captcha_challenges.c.expires_at <= now))
    conn.execute(
        captcha_challenges.insert().values(id=challenge_id, answer=answer, expires_at=expires_at)
    )


def answer_of(conn: sa.Connection, challenge_id: str, now: dt.datetime) -> str | None:
    """The answer of a live challenge, to draw or speak it; None when gone or expired."""
    row = conn.execute(
        sa.select(captcha_challenges.c.answer).where(
            captcha_challenges.c.id == challenge_id,
            captcha_challenges.c.used_at.is_(None),
            captcha_challenges.c.expires_at > now,
        )
    ).first()
    return str(row.answer) if row else None


def take(conn: sa.Connection, challenge_id: str, now: dt.datetime) -> str | None:
    """Removes a challenge and returns its answer if it was live (single use)."""
    answer = answer_of(conn, challenge_id, now)
    done = conn.execute(captcha_challenges.delete().where(captcha_challenges.c.id == challenge_id))
    return answer if answer is not None and done.rowcount == 1 else None
