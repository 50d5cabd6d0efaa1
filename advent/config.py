"""Settings: one object, read from the environment and `.env`, validated once at start-up.

Every setting's environment name is the public contract (README, `.env.example`); bad values stop
start-up with one message naming each bad key, never a traceback.
"""

from __future__ import annotations

import difflib
import os
import re
import secrets
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import phonenumbers
from dotenv import dotenv_values
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(Exception):
    """Configuration that cannot work; `str()` is the message to show, one line per bad key."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    provider: Literal["simulator", "twilio"] = Field("simulator", validation_alias="ADVENT_PROVIDER")
    instance_dir: Path = Field(Path("instance"), validation_alias="ADVENT_INSTANCE_DIR")
    database_url: str = Field("", validation_alias="DATABASE_URL")
    messages_dir: Path = Field(Path("messages"), validation_alias="ADVENT_MESSAGES_DIR")
    schedules_dir: Path = Field(Path("schedules"), validation_alias="ADVENT_SCHEDULES_DIR")
    default_schedule: str | None = Field(None, validation_alias="ADVENT_DEFAULT_SCHEDULE")
    public_base_url: str = Field("http://127.0.0.1:5000", validation_alias="PUBLIC_BASE_URL")
    secret_key: str = Field("", validation_alias="ADVENT_SECRET_KEY")
    # A read-only token for GET /api/stats from scripts (Authorization: Bearer ...); empty: off.
    api_token: str = Field("", validation_alias="ADVENT_API_TOKEN")
    trusted_proxies: int = Field(0, ge=0, le=5, validation_alias="ADVENT_TRUSTED_PROXIES")
    # How long a SQLite write waits for another process's lock before saying so; well under the
    # 30 s a command would otherwise hang, and under Twilio's 15 s webhook timeout.
    db_lock_seconds: float = Field(10.0, gt=0, le=300, validation_alias="ADVENT_DB_LOCK_SECONDS")
    # How long a webhook's write may wait for the database before the request is kept in the
    # journal instead and answered: well under the 15 s Twilio waits for an answer.
    webhook_write_seconds: float = Field(5.0, gt=0, le=12, validation_alias="ADVENT_WEBHOOK_WRITE_SECONDS")

    # Sending. A US long code takes one message a second; faster senders can raise this.
    send_rate_per_second: float = Field(1.0, gt=0, le=1000, validation_alias="ADVENT_SEND_RATE")
    send_max_attempts: int = Field(5, ge=1, le=20, validation_alias="ADVENT_SEND_MAX_ATTEMPTS")
    retry_base_seconds: float = Field(2.0, ge=0, le=600, validation_alias="ADVENT_RETRY_BASE_SECONDS")
    retry_max_seconds: float = Field(300.0, ge=0, le=3600, validation_alias="ADVENT_RETRY_MAX_SECONDS")
    # A claim older than this, with no provider id, is treated as a crashed send and reconciled.
    claim_timeout_seconds: float = Field(
        120.0, ge=0, le=86400, validation_alias="ADVENT_CLAIM_TIMEOUT_SECONDS"
    )
    # A check outside the service (healthchecks.io or a self-hosted peer) that the clock pings,
    # so the organiser hears when the clock itself has stopped. Empty: no pings.
    heartbeat_url: str = Field("", validation_alias="ADVENT_HEARTBEAT_URL")
    misfire_grace_minutes: int = Field(180, ge=0, le=1440, validation_alias="ADVENT_MISFIRE_GRACE_MINUTES")

    # The built-in phone network.
    simulator_path: Path | None = Field(None, validation_alias="ADVENT_SIMULATOR_PATH")
    simulator_delay_seconds: float = Field(
        2.0, ge=0, le=3600, validation_alias="ADVENT_SIMULATOR_DELAY_SECONDS"
    )
    simulator_failure_rate: float = Field(0.0, ge=0, le=1, validation_alias="ADVENT_SIMULATOR_FAILURE_RATE")
    simulator_error_rate: float = Field(0.0, ge=0, le=1, validation_alias="ADVENT_SIMULATOR_ERROR_RATE")
    # How long simulated WhatsApp approval takes on the simulator's clock, and what it decides,
    # so a rehearsal can wait for a template (or be refused one) as with Meta.
    simulator_approval_seconds: float = Field(
        60.0, ge=0, le=30 * 86400, validation_alias="ADVENT_SIMULATOR_APPROVAL_SECONDS"
    )
    simulator_template_verdict: Literal["approve", "reject"] = Field(
        "approve", validation_alias="ADVENT_SIMULATOR_TEMPLATE_VERDICT"
    )
    simulator_rejection_reason: str = Field(
        "the template is too generic: say more about what the friend receives and why",
        validation_alias="ADVENT_SIMULATOR_REJECTION_REASON",
    )

    # People and replies.
    default_region: str = Field("GB", validation_alias="ADVENT_DEFAULT_REGION")
    organiser_name: str = Field("the organiser", validation_alias="ADVENT_ORGANISER_NAME")
    organiser_contact: str = Field("", validation_alias="ADVENT_ORGANISER_CONTACT")
    support_line: str = Field("", validation_alias="ADVENT_SUPPORT_LINE")
    # The organiser's own phone: what needs them now (a failed day, a reply that may signal
    # distress) is texted there, through the same sender as the posts (advent.organiser.own_phone).
    organiser_phone: str = Field("", validation_alias="ADVENT_ORGANISER_PHONE")
    organiser_channel: Literal["sms", "whatsapp"] = Field("sms", validation_alias="ADVENT_ORGANISER_CHANNEL")
    # The watchdog (advent.organiser.watchdog): a post not handed over this long after its
    # friend's time, beyond what the send rate needs for the day's list, is texted to them.
    watchdog_minutes: int = Field(30, ge=1, le=1440, validation_alias="ADVENT_WATCHDOG_MINUTES")
    # ... and so is a day on which less than this share had arrived an hour after going out.
    watchdog_delivered_share: float = Field(
        0.8, ge=0, le=1, validation_alias="ADVENT_WATCHDOG_DELIVERED_SHARE"
    )
    # The daily digest (advent.organiser.digest): "HH:MM" on the organiser's own clock; empty: off.
    digest_time: str = Field("", validation_alias="ADVENT_DIGEST_TIME")
    twilio_handles_sms_opt_out: bool = Field(True, validation_alias="ADVENT_TWILIO_HANDLES_SMS_OPT_OUT")
    invite_cooldown_days: int = Field(30, ge=0, le=3650, validation_alias="ADVENT_INVITE_COOLDOWN_DAYS")
    stuck_after_minutes: int = Field(30, ge=1, le=10080, validation_alias="ADVENT_STUCK_AFTER_MINUTES")
    # The language WhatsApp templates are made in (`advent templates create`): en, en_GB, es, ...
    whatsapp_language: str = Field("en", validation_alias="ADVENT_WHATSAPP_LANGUAGE")

    # Twilio (only read when ADVENT_PROVIDER=twilio).
    twilio_account_sid: str = Field("", validation_alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str = Field("", validation_alias="TWILIO_AUTH_TOKEN")
    twilio_api_key: str = Field("", validation_alias="TWILIO_API_KEY")
    twilio_api_secret: str = Field("", validation_alias="TWILIO_API_SECRET")
    twilio_from: str = Field("", validation_alias="TWILIO_FROM")
    twilio_whatsapp_from: str = Field("", validation_alias="TWILIO_WHATSAPP_FROM")
    twilio_messaging_service_sid: str = Field("", validation_alias="TWILIO_MESSAGING_SERVICE_SID")
    twilio_api_base_url: str = Field("https://api.twilio.com", validation_alias="TWILIO_API_BASE_URL")
    twilio_timeout_seconds: float = Field(10.0, gt=0, le=120, validation_alias="TWILIO_TIMEOUT_SECONDS")

    @field_validator("public_base_url", "twilio_api_base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for local use)")
        return value.rstrip("/")

    @field_validator("heartbeat_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (the check's ping URL), or be empty for no pings")
        return value.strip()

    @field_validator("digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"([01]?[0-9]|2[0-3]):[0-5][0-9]", value):
            raise ValueError("a time on your own clock as HH:MM (e.g. 08:30), or empty for no digest")
        return value.zfill(5) if value else ""

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.strip().upper()
        if region in phonenumbers.SUPPORTED_REGIONS:
            return region
        # "UK" is what most people type; phonenumbers (like ISO 3166) says GB.
        hint = "GB for the United Kingdom" if region == "UK" else "e.g. GB, IE or US"
        raise ValueError(f"not a region code phonenumbers knows; use a two-letter ISO code, {hint}")

    @field_validator("whatsapp_language")
    @classmethod
    def _language_code(cls, value: str) -> str:
        # WhatsApp names a template's language by code: "en", or with a region, "en_GB".
        if not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", value.strip()):
            raise ValueError("a language code as WhatsApp spells it, such as en, en_GB or es")
        return value.strip()

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite://", "postgresql", "postgres://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        # Hosting platforms hand out postgres://, which SQLAlchemy no longer accepts; a plain
        # postgresql:// would ask for psycopg2, while the driver we install is psycopg 3.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                value = "postgresql+psycopg://" + value.removeprefix(prefix)
        return value

    @model_validator(mode="after")
    def _fill_defaults_and_check_twilio(self) -> Settings:
        if not self.database_url:
            # A rehearsal keeps its own file, so going live never inherits its test numbers
            # or the days it tried out (see README, "Going live").
            name = "rehearsal.db" if self.provider == "simulator" else "advent.db"
            self.database_url = f"sqlite:///{self.instance_dir / name}"
        if self.simulator_path is None:
            self.simulator_path = self.instance_dir / "phone-network.db"
        self.organiser_phone = _phone_in_full(self.organiser_phone, self.default_region)
        if self.provider == "twilio":
            problems = twilio_problems(self)
            if problems:
                raise ValueError("; ".join(problems))
        return self


def _phone_in_full(value: str, region: str) -> str:
    """ADVENT_ORGANISER_PHONE as E.164 (+447911123456), from however it was typed."""
    if not value.strip():
        return ""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    # "Possible", not "valid": the simulator's drama numbers (+44 7700 900xxx) are possible only.
    if number is None or not phonenumbers.is_possible_number(number):
        raise ValueError(
            f"ADVENT_ORGANISER_PHONE: {value.strip()[:30]!r} is not a phone number; write it in full "
            "with the country code, such as +447911123456"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def twilio_problems(settings: Settings) -> list[str]:
    """What is missing for ADVENT_PROVIDER=twilio, one phrase per key."""
    problems = []
    if not settings.twilio_account_sid.startswith("AC"):
        problems.append("TWILIO_ACCOUNT_SID: required, starts with AC (Twilio console, Account Info)")
    has_key = settings.twilio_api_key and settings.twilio_api_secret
    if not settings.twilio_auth_token:
        # Webhook signatures are made with the Auth Token, so an API key alone is not enough.
        why = "also needed to check webhook signatures" if has_key else "required"
        problems.append(f"TWILIO_AUTH_TOKEN: {why} (Twilio console, Account Info)")
    if not (settings.twilio_from or settings.twilio_whatsapp_from or settings.twilio_messaging_service_sid):
        problems.append(
            "TWILIO_FROM: a sender is required: TWILIO_FROM, TWILIO_WHATSAPP_FROM "
            "or TWILIO_MESSAGING_SERVICE_SID"
        )
    if settings.twilio_whatsapp_from and not settings.twilio_whatsapp_from.startswith("whatsapp:+"):
        problems.append("TWILIO_WHATSAPP_FROM: must look like whatsapp:+14155238886")
    return list(dict.fromkeys(problems))


# A setting whose name says it holds a secret is never echoed back, even when it is invalid.
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|KEY", re.IGNORECASE)
# user:password@ in any URL (mysql://admin:S3cret@db/advent): the password part is hidden.
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]*):[^@\s]*@", re.IGNORECASE)


def redacted(key: str, value: Any) -> str:
    """How a bad setting's value may be shown in an error: never a password or a token."""
    if _SECRET_NAME.search(key):
        return "the value, hidden because it is a secret"
    shown = repr(value)
    return _URL_PASSWORD.sub(r"\g<scheme>:***@", shown)


def _describe(error: ValidationError) -> str:
    lines = ["Configuration error (fix these settings in the environment or .env):"]
    for problem in error.errors():
        key = str(problem["loc"][0]) if problem["loc"] else ""
        message = problem["msg"].removeprefix("Value error, ")
        if key:
            lines.append(f"  {key}: {message} (got {redacted(key, problem.get('input'))})")
        else:
            lines.extend(f"  {part}" for part in message.split("; "))
    return "\n".join(lines)


def setting_names() -> list[str]:
    """Every environment name a setting is read from."""
    return [str(field.validation_alias) for field in Settings.model_fields.values()]


def unknown_setting_warnings(names: Iterable[str]) -> list[str]:
    """One sentence per name that looks like a setting of ours but is not one.

    Every ADVENT_* name is ours; another name is only mentioned when it is a near miss of a
    real one (DATABSE_URL), since the environment holds plenty of other programs' settings.
    """
    known = setting_names()
    # Names are matched without regard to case, as pydantic-settings reads them; overrides in
    # code may also use the field names.
    accepted = {name.upper() for name in known} | {name.upper() for name in Settings.model_fields}
    found = []
    for name in dict.fromkeys(names):
        if name.upper() in accepted:
            continue
        close = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.75)
        if close:
            found.append(f"{name} is not a setting advent knows, so it is ignored; did you mean {close[0]}?")
        elif name.upper().startswith("ADVENT_"):
            found.append(
                f"{name} is not a setting advent knows, so it is ignored; "
                "see the README's Configuration table for the names"
            )
    return found


_warned: set[str] = set()


def _warn_about_unknown_names(
    environ: Mapping[str, str], env_file: Any, overrides: Mapping[str, Any]
) -> None:
    names = [name for name in environ if name.upper().startswith("ADVENT_")]
    if env_file is not None and Path(env_file).is_file():
        names += [name for name in dotenv_values(env_file) if name]
    names += [name for name in overrides if not name.startswith("_")]
    for warning in unknown_setting_warnings(names):
        # Once per process: settings are read by several layers, the warning is worth one line.
        if warning not in _warned:
            _warned.add(warning)
            print(f"advent: warning: {warning}", file=sys.stderr)


def local_secret_key(settings: Settings) -> str:
    """ADVENT_SECRET_KEY, or for local use a random one kept in the instance folder.

    It signs the dashboard's sessions and, on the simulator, the webhooks: one secret per
    instance, made on first use so a fresh clone needs no set-up.
    """
    if settings.secret_key:
        return settings.secret_key
    path = settings.instance_dir / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and `.env`, with `overrides` (by setting name) on top."""
    env_file = overrides.get("_env_file", ".env")
    try:
        _warn_about_unknown_names(os.environ, env_file, overrides)
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None
    except UnicodeDecodeError as error:
        raise ConfigError(_not_utf8(env_file, error)) from None


def _not_utf8(env_file: Any, error: UnicodeDecodeError) -> str:
    # Often a file saved as Latin-1 or UTF-16 by an editor on Windows; naming the line helps.
    where = Path(env_file).resolve() if env_file is not None else ".env"
    line = error.object[: error.start].count(b"\n") + 1
    return (
        f"the settings file {where} is not UTF-8 text (byte 0x{error.object[error.start]:02x} on "
        f"line {line}); save it as UTF-8 in your editor, or retype that line"
    )
