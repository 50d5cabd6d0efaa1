"""Schedules: which campaign goes out, on which days, at what local time, on which channels.

One TOML file per schedule in the schedules folder. Pure: no database, no Flask.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from advent.content.promises import button_asks
from advent.people.keywords import HELP_WORDS, JOIN_WORDS, STOP_WORDS, TIME_WORDS, classify

Channel = Literal["sms", "whatsapp"]

# WhatsApp broadcast lists hold at most 256 people; a small, personal list is the point.
DEFAULT_LIST_CAP = 256
# Meta's limit for a reply button's title (docs/whatsapp-template-rules.md); emoji allowed.
MAX_QUICK_REPLY = 20


class ScheduleError(Exception):
    """A schedule file that cannot be used; the message names the file, the field and the fix."""


class Schedule(BaseModel):
    # `send_at` is the file's word; `timing` the attribute, as send_at() says when a day is due.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(description="The file's stem; filled in by the loader.")
    campaign: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1, max_length=40, description="The programme's name in texts.")
    content: str = Field(min_length=1, description="Content folder under the messages folder.")
    first_day: date
    last_day: date
    send_time: time
    timezone: str
    channels: list[Channel] = Field(min_length=1)
    join_keyword: str = Field(pattern=r"^[A-Za-z0-9]{2,20}$")
    list_cap: int = Field(DEFAULT_LIST_CAP, ge=1, le=100_000)
    late_joiners: Literal["today", "tomorrow"] = "tomorrow"
    # "schedule": everyone at send_time in the schedule's timezone; "friend": each friend at
    # send_time (or the hour they chose with TIME) in their own timezone (advent.sending.mornings).
    timing: Literal["schedule", "friend"] = Field("schedule", alias="send_at")
    # A friend's night, in their own time: nothing starts in it but an answer to their own text.
    quiet_hours: tuple[time, time] = (time(21, 0), time(8, 0))
    # The evening before each day, at this time in `timezone`, the organiser's own phone gets
    # the day's post as friends will (advent.organiser.canary): a typo is caught, HOLD holds it.
    canary_time: time = time(18, 0)
    # WhatsApp, outside a person's 24-hour window, only allows an approved template.
    whatsapp_template_sid: str | None = Field(None, pattern=r"^HX[0-9a-fA-F]{32}$")
    whatsapp_template_variables: dict[str, str] = Field(default_factory=dict)
    # A WhatsApp invitation starts a conversation, which Meta allows only with its own template.
    whatsapp_invite_template_sid: str | None = Field(None, pattern=r"^HX[0-9a-fA-F]{32}$")
    whatsapp_invite_template_variables: dict[str, str] = Field(default_factory=dict)
    # One quick-reply button on each WhatsApp post, e.g. "Thanks ❤️": a tap is a message from the
    # friend, so it reopens their 24-hour window and tomorrow's post can go free-form.
    whatsapp_quick_reply: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r}; use a name like 'Europe/London'") from None
        return value

    @field_validator("campaign")
    @classmethod
    def _not_the_organisers(cls, value: str) -> str:
        # The organiser's own phone is a row of the campaign "organiser" (advent.organiser.own_phone).
        if value == "organiser":
            raise ValueError(
                '"organiser" is kept for the organiser\'s own phone; name the campaign, such as "advent-2026"'
            )
        return value

    @field_validator("content")
    @classmethod
    def _inside_the_messages_folder(cls, value: str) -> str:
        # A schedule is content, edited freely; it must not be a way to read files from elsewhere
        # on the machine (content = "../../etc") into texts sent to friends.
        folder = PurePosixPath(value.replace("\\", "/"))
        if folder.is_absolute() or ".." in folder.parts or PureWindowsPath(value).drive:
            raise ValueError(
                f"{value!r} is outside the messages folder; name a folder inside it, "
                'such as content = "advent-2026"'
            )
        return value

    @field_validator("join_keyword")
    @classmethod
    def _upper_keyword(cls, value: str) -> str:
        if value.upper() in STOP_WORDS | HELP_WORDS | JOIN_WORDS | TIME_WORDS:
            raise ValueError(
                f"{value!r} already means STOP, HELP, JOIN or TIME; pick a word of your own, such as HAPPY"
            )
        return value.upper()

    @field_validator("channels")
    @classmethod
    def _no_repeated_channel(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a channel is listed twice")
        return value

    @field_validator("whatsapp_quick_reply")
    @classmethod
    def _a_button_that_only_answers(cls, value: str | None) -> str | None:
        if value is None:
            return None
        title = " ".join(value.split())
        if not title:
            raise ValueError('the button has no title; write one, such as "Thanks ❤️", or remove the line')
        if len(title) > MAX_QUICK_REPLY:
            raise ValueError(
                f"{title!r} is {len(title)} characters; WhatsApp shows at most {MAX_QUICK_REPLY} on a "
                'button: shorten it, such as "Thanks ❤️"'
            )
        asked = button_asks(title)
        if asked:
            raise ValueError(
                f"{title!r} asks something of your friends ({asked!r}); the confirmation promises "
                'nothing will ever be asked of them, so a button may only answer, such as "Thanks ❤️"'
            )
        return title

    @model_validator(mode="after")
    def _days_in_order(self) -> Schedule:
        if self.last_day < self.first_day:
            raise ValueError("last_day is before first_day")
        return self

    @model_validator(mode="after")
    def _sends_outside_the_night(self) -> Schedule:
        start, end = self.quiet_hours
        if start == end:
            raise ValueError(
                f'quiet_hours starts and ends at {start:%H:%M}; give a night such as ["21:00", "08:00"]'
            )
        if self.timing == "friend" and self.is_quiet(self.send_time):
            raise ValueError(
                f"send_time {self.send_time:%H:%M} is inside quiet_hours ({start:%H:%M} to "
                f"{end:%H:%M}), so no post could ever go; choose a time from {end:%H:%M} to "
                f"{start:%H:%M}"
            )
        return self

    @model_validator(mode="after")
    def _button_is_not_a_keyword(self) -> Schedule:
        # A tap sends the title as a text: a title that reads as STOP, HELP or a join word would
        # act on the friend's subscription instead of being the reply it is.
        title = self.whatsapp_quick_reply
        if title and classify(title, {self.join_keyword}).kind != "reply":
            raise ValueError(
                f"whatsapp_quick_reply {title!r} would be read as the keyword "
                f"{classify(title, {self.join_keyword}).word} when tapped; use words that are not "
                'STOP, HELP, TIME, a join word or the join keyword, such as "Thanks ❤️"'
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def number_of_days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.number_of_days)]

    def runs_on(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def day_number(self, day: date) -> int:
        """1 for the first day; the number of the post file (01.md) for that date."""
        if not self.runs_on(day):
            raise ValueError(f"{day} is outside {self.campaign} ({self.first_day} to {self.last_day})")
        return (day - self.first_day).days + 1

    def send_at(self, day: date) -> datetime:
        """The aware moment the post for `day` is due, in the schedule's own timezone."""
        return datetime.combine(day, self.send_time, tzinfo=self.tz)

    @property
    def for_each_friend(self) -> bool:
        """True when each friend gets the post at send_time in their own timezone."""
        return self.timing == "friend"

    def is_quiet(self, clock_time: time) -> bool:
        """True when `clock_time` (a friend's local time) falls in the quiet hours."""
        start, end = self.quiet_hours
        moment = clock_time.replace(tzinfo=None)
        if start < end:
            return start <= moment < end
        return moment >= start or moment < end  # a night across midnight

    def local_date(self, moment: datetime) -> date:
        """The calendar date at `moment` where the organiser lives."""
        return moment.astimezone(self.tz).date()


def _describe(error: ValidationError, path: Path) -> str:
    lines = [f"{path}: invalid schedule"]
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "(file)"
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"  {field}: {message}")
    return "\n".join(lines)


def load_schedule(path: Path) -> Schedule:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ScheduleError(f"{path}: not valid TOML ({error}); check quotes and brackets") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScheduleError(f"{path}: cannot be read ({error})") from None
    raw.setdefault("name", path.stem)
    try:
        return Schedule.model_validate(raw)
    except ValidationError as error:
        raise ScheduleError(_describe(error, path)) from None


def load_schedules(folder: Path) -> list[Schedule]:
    """Every schedule in the folder, sorted by name; one error message listing every bad file."""
    if not folder.is_dir():
        raise ScheduleError(f"{folder}: schedules folder not found; set ADVENT_SCHEDULES_DIR")
    schedules, problems = [], []
    for path in sorted(folder.glob("*.toml")):
        try:
            schedules.append(load_schedule(path))
        except ScheduleError as error:
            problems.append(str(error))
    if problems:
        raise ScheduleError("\n".join(problems))
    campaigns = [s.campaign for s in schedules]
    repeated = sorted({c for c in campaigns if campaigns.count(c) > 1})
    if repeated:
        raise ScheduleError(f"{folder}: campaign {', '.join(repeated)} is in more than one schedule")
    keywords = [s.join_keyword for s in schedules]
    clashing = sorted({k for k in keywords if keywords.count(k) > 1})
    if clashing:
        raise ScheduleError(f"{folder}: join keyword {', '.join(clashing)} is used by two schedules")
    return schedules


def default_schedule(schedules: list[Schedule], name: str | None = None) -> Schedule | None:
    """The schedule a plain join word joins: the one named in settings, or the only one."""
    if name:
        for schedule in schedules:
            if name in (schedule.name, schedule.campaign):
                return schedule
        raise ScheduleError(f"ADVENT_DEFAULT_SCHEDULE: no schedule named {name!r}")
    return schedules[0] if len(schedules) == 1 else None


def find_schedule(schedules: list[Schedule], campaign: str) -> Schedule:
    for schedule in schedules:
        if campaign in (schedule.campaign, schedule.name):
            return schedule
    known = ", ".join(s.campaign for s in schedules) or "none"
    raise ScheduleError(f"no schedule for campaign {campaign!r} (known: {known})")
