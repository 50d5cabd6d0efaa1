"""Organiser accounts: who may sign in to the dashboard, and how failed sign-ins are slowed.

Only a salted hash of each password is stored (werkzeug.security). Failed attempts are kept in
the database, so every web worker sees them: after a few failures for one account, or from one
address, each further attempt must wait, and the wait doubles with every failure.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlmodel import Session, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from advent.store.tables import Organiser, SignInFailure

MIN_PASSWORD = 10
# A person mistypes a few times; a script tries thousands. Five free tries, then 2, 4, 8 ... s.
FREE_FAILURES = 5
MAX_WAIT = timedelta(minutes=15)
# Failures older than this are forgotten (and deleted).
REMEMBER_FAILURES = timedelta(hours=1)


class AccountError(Exception):
    """An account cannot be made or changed; the message says why and what to do."""


@dataclass(frozen=True)
class SignIn:
    organiser: Organiser | None  # None: refused
    wait_seconds: int = 0  # > 0: too many failures, try again after this long


def new_password() -> str:
    """A one-time password that is easy to type from a printout: 4 groups of 4 letters/digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: nothing to misread
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is too short: use at least {MIN_PASSWORD} characters")


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 80:
        raise AccountError("an account name needs 1 to 80 characters, e.g. 'sam'")
    return name


def find(session: Session, name: str) -> Organiser | None:
    return session.exec(select(Organiser).where(Organiser.name == name.strip())).first()


def count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Organiser)).one()


def create(session: Session, name: str, password: str, now: datetime) -> Organiser:
    """A new organiser account; the caller commits."""
    name = _check_name(name)
    _check_password(password)
    if find(session, name) is not None:
        raise AccountError(
            f"there is already an account called {name!r}; "
            f"change its password with `advent admin set-password {name}`"
        )
    organiser = Organiser(
        name=name, password_hash=generate_password_hash(password), created_at=now, password_set_at=now
    )
    session.add(organiser)
    session.flush()
    return organiser


def set_password(session: Session, name: str, password: str, now: datetime) -> Organiser:
    organiser = find(session, name)
    if organiser is None:
        raise AccountError(
            f"there is no account called {name!r}; make one with `advent admin create {name.strip()}`"
        )
    _check_password(password)
    organiser.password_hash = generate_password_hash(password)
    organiser.password_set_at = now
    session.add(organiser)
    return organiser


def _wait(session: Session, name: str, address: str, now: datetime) -> int:
    """Seconds before another attempt for this account or from this address is heard."""
    recent = session.exec(
        select(func.count(), func.max(SignInFailure.at)).where(
            or_(SignInFailure.account == name, SignInFailure.address == address),
            SignInFailure.at > now - REMEMBER_FAILURES,
        )
    ).one()
    failures, last = recent
    if failures < FREE_FAILURES or last is None:
        return 0
    wait = min(timedelta(seconds=2 ** (failures - FREE_FAILURES + 1)), MAX_WAIT)
    left = (last + wait - now).total_seconds()
    return max(0, int(left + 0.999))


def sign_in(session: Session, name: str, password: str, address: str, now: datetime) -> SignIn:
    """Check a password, slowing down repeated failures; commits what it records."""
    name = name.strip()[:80]
    address = address[:64]
    session.exec(delete(SignInFailure).where(SignInFailure.at <= now - REMEMBER_FAILURES))
    wait = _wait(session, name, address, now)
    if wait:
        session.commit()
        return SignIn(None, wait)
    organiser = find(session, name)
    if organiser is not None and check_password_hash(organiser.password_hash, password):
        session.exec(delete(SignInFailure).where(SignInFailure.account == name))
        session.commit()
        return SignIn(organiser)
    if organiser is None:
        # Spend the time a real check takes, so a wrong name and a wrong password look alike.
        check_password_hash(generate_password_hash("not a password"), password)
    session.add(SignInFailure(account=name, address=address, at=now))
    session.commit()
    return SignIn(None)
