"""Posts: one Markdown file a day, messages/<content folder>/NN.md, YAML front matter on top.

Pure: parse and validate, no database, no Flask. `read_post_file` gathers every problem in
a file without raising (the content check lists them all); `load_post` raises on the first
bad file so nothing half-valid is ever sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from frontmatter import YAMLHandler
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from advent.content.replies import closing_line
from advent.content.schedules import Schedule

# Twilio refuses a body longer than 1,600 characters.
MAX_TEXT_CHARACTERS = 1600
# Twilio's ContentVariables takes at most 100 pairs.
MAX_TEMPLATE_VARIABLES = 100
KNOWN_FIELDS = ("day", "title", "media_url", "template_sid", "template_variables")
TEMPLATE_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")


class ContentError(Exception):
    """A post that cannot be sent; the message names the file, the field and the fix."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {problem}" for problem in problems))


def _text_pairs(value: dict[Any, Any]) -> dict[str, str]:
    """Template variables as Twilio wants them: text keys, text values."""
    if len(value) > MAX_TEMPLATE_VARIABLES:
        raise ValueError(f"Twilio takes at most {MAX_TEMPLATE_VARIABLES} variables")
    not_text = [
        str(key)
        for key, item in value.items()
        if isinstance(item, bool) or not isinstance(item, str | int | float)
    ]
    if not_text:
        raise ValueError(f'variable {", ".join(not_text)} must be text, such as "Day 3"')
    # YAML reads `{1: Day 3}` with a number for a key; Twilio wants "1", so say it as text.
    return {str(key): str(item) for key, item in value.items()}


class FrontMatter(BaseModel):
    """The fields an author may set above a post's text."""

    model_config = ConfigDict(extra="forbid")

    day: int
    title: str | None = None
    media_url: str | None = None
    template_sid: str | None = None
    template_variables: dict[str, str] = Field(default_factory=dict)

    @field_validator("day", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        # YAML reads `day: 08` as the string "08" (it is not valid octal), so accept digits.
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"must be the day number (1 for the first day), not {value!r}")
        return value

    @field_validator("title", mode="before")
    @classmethod
    def _plain_title(cls, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return (value or "").strip() or None
        # ValueError, not TypeError: pydantic turns only ValueError into a readable problem.
        raise ValueError("must be text; put it in quotes")

    @field_validator("media_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is not None:
            check_media_url(value)
        return value

    @field_validator("template_sid")
    @classmethod
    def _content_sid(cls, value: str | None) -> str | None:
        if value is not None and not TEMPLATE_SID.match(value):
            raise ValueError(
                f"{value!r} is not a Twilio Content SID; copy the HX... SID (34 characters) "
                "from Twilio's Content Template Builder"
            )
        return value

    @field_validator("template_variables", mode="before")
    @classmethod
    def _text_pairs(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, dict):
            return _text_pairs(value)
        raise ValueError('must be a mapping such as {"1": "Day 3"}')


class Post(BaseModel):
    """One day's message, ready to send."""

    model_config = ConfigDict(frozen=True)

    campaign: str
    day: int
    title: str | None = None
    text: str
    media_url: str | None = None
    template_sid: str | None = None
    template_variables: dict[str, str] = Field(default_factory=dict)
    path: Path
    # The last day's closing line, already at the end of `text` (see with_closing).
    closing: str | None = None

    @property
    def own_text(self) -> str:
        """The text as written in the post's file, without the closing line."""
        return self.text.removesuffix(f"\n\n{self.closing}") if self.closing else self.text


@dataclass
class PostFile:
    """What could be read from one post file, with every problem found in it."""

    path: Path
    text: str | None = None
    day: int | None = None
    post: Post | None = None
    problems: list[str] = field(default_factory=list)


def check_media_url(url: str) -> None:
    """Raise ValueError unless `url` is an absolute https URL Twilio can fetch."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https":
        raise ValueError(f"{url!r} must start with https:// (Twilio fetches media only over https)")
    # A host without a dot (or none at all) cannot be fetched from the public internet.
    if not parts.hostname or "." not in parts.hostname or any(c.isspace() for c in url.strip()):
        raise ValueError(f"{url!r} is not a complete web address; use https://host.example/image.jpg")


def post_file_name(day_number: int) -> str:
    return f"{day_number:02d}.md"


def day_mismatch(claimed: int, file_name: str, day_number: int) -> str:
    return (
        f"day: {claimed} does not match the file name {file_name}; "
        f"set 'day: {day_number}' or rename the file to {post_file_name(claimed)}"
    )


def post_path(messages_dir: Path, schedule: Schedule, day_number: int) -> Path:
    return messages_dir / schedule.content / post_file_name(day_number)


def _describe(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "front matter"
        if item["type"] == "missing":
            problems.append(f"{name}: required; add '{name}: N' to the front matter")
        else:
            problems.append(f"{name}: {item['msg'].removeprefix('Value error, ')}")
    return problems


def _split(path: Path, result: PostFile) -> dict[str, Any] | None:
    """Fill in the text and return the front matter, noting what is wrong with either."""
    try:
        # utf-8-sig: some editors on Windows put a byte-order mark before the first ---.
        raw = path.read_text(encoding="utf-8-sig").lstrip()
    except (OSError, UnicodeDecodeError) as error:
        result.problems.append(f"cannot be read ({error}); save it as UTF-8 text")
        return None
    handler = YAMLHandler()
    if not handler.detect(raw):
        result.text = raw.strip()
        result.problems.append("no front matter; start the file with '---', 'day: N', '---'")
        return None
    try:
        front, body = handler.split(raw)
    except ValueError:
        result.problems.append("front matter is not closed; add a line '---' after the last field")
        return None
    result.text = body.strip()
    try:
        metadata = handler.load(front)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" near line {where.line + 2}" if where else ""
        result.problems.append(
            f"front matter is not valid YAML{line}; check the lines between the --- markers"
        )
        return None
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        result.problems.append("front matter must be 'field: value' lines, such as 'day: 3'")
        return None
    return metadata


def _check_text(text: str | None) -> list[str]:
    if not text:
        return ["the message text is empty; write it below the closing ---"]
    if len(text) > MAX_TEXT_CHARACTERS:
        return [
            (
                f"the message text is {len(text)} characters; Twilio sends at most "
                f"{MAX_TEXT_CHARACTERS}, so shorten it"
            )
        ]
    return []


def _check_fields(metadata: dict[str, Any], result: PostFile) -> FrontMatter | None:
    unknown = [str(name) for name in metadata if name not in KNOWN_FIELDS]
    for name in unknown:
        result.problems.append(
            f"{name}: unknown front matter field; known fields are {', '.join(KNOWN_FIELDS)}"
        )
    known = {name: value for name, value in metadata.items() if name in KNOWN_FIELDS}
    # Note the claimed day even if another field is bad, so duplicates are still found.
    day = known.get("day")
    if isinstance(day, int) and not isinstance(day, bool) and day >= 1:
        result.day = day
    try:
        front = FrontMatter.model_validate(known)
    except ValidationError as error:
        result.problems.extend(_describe(error))
        return None
    result.day = front.day
    return None if unknown else front


def read_post_file(path: Path, campaign: str) -> PostFile:
    """Everything readable in one post file and every problem with it; never raises."""
    result = PostFile(path=path)
    metadata = _split(path, result)
    front = _check_fields(metadata, result) if metadata is not None else None
    if result.text is not None:  # None: the file could not be split, already reported
        result.problems.extend(_check_text(result.text))
    if front is not None and result.text and not result.problems:
        result.post = Post(
            campaign=campaign,
            day=front.day,
            title=front.title,
            text=result.text,
            media_url=front.media_url.strip() if front.media_url else None,
            template_sid=front.template_sid,
            template_variables=front.template_variables,
            path=path,
        )
    return result


def with_closing(found: PostFile, closing: str) -> PostFile:
    """The last day's post as it goes out: its text, then the closing line, in one message.

    One message, not a second one after it: it rides on that post's delivery, so exactly-once
    holds for it with nothing new to claim, and every count (segments, cost, preview, the
    WhatsApp variable) sees the text the friend really gets."""
    if not found.text:
        return found
    text = f"{found.text}\n\n{closing}"
    problems = list(found.problems)
    if not problems and len(text) > MAX_TEXT_CHARACTERS:
        problems.append(
            f"with the closing line (replies.toml) the message is {len(text)} characters; Twilio "
            f"sends at most {MAX_TEXT_CHARACTERS}, so shorten the post or the closing line"
        )
    post = found.post.model_copy(update={"text": text, "closing": closing}) if found.post else None
    return PostFile(found.path, text, found.day, None if problems else post, problems)


def read_day_file(messages_dir: Path, schedule: Schedule, path: Path, day_number: int) -> PostFile:
    """`read_post_file` for day `day_number` of the schedule: the last day's with its closing."""
    found = read_post_file(path, schedule.campaign)
    if day_number == schedule.number_of_days:
        found = with_closing(found, closing_line(messages_dir, schedule))
    return found


def read_post(path: Path, campaign: str, day_number: int, found: PostFile | None = None) -> Post:
    """The post in `path` (or as already read, `found`), which must be the one for
    `day_number`; raises ContentError."""
    result = found or read_post_file(path, campaign)
    if result.day is not None and result.day != day_number:
        result.problems.append(day_mismatch(result.day, path.name, day_number))
    if result.problems or result.post is None:
        raise ContentError(path, result.problems)
    return result.post


def load_post(messages_dir: Path, schedule: Schedule, day: date) -> Post:
    """The post for a calendar date; raises ContentError if it is missing or invalid."""
    if not schedule.runs_on(day):
        folder = messages_dir / schedule.content
        raise ContentError(
            folder,
            [
                (
                    f"{day} is outside {schedule.campaign} ({schedule.first_day} to {schedule.last_day}); "
                    "there is no post for it"
                )
            ],
        )
    number = schedule.day_number(day)
    path = post_path(messages_dir, schedule, number)
    if not path.is_file():
        raise ContentError(
            path,
            [
                (
                    f"no post for {schedule.campaign} day {number} ({day}): expected {path}; "
                    f"create it with 'day: {number}' in its front matter"
                )
            ],
        )
    return read_post(path, schedule.campaign, number, read_day_file(messages_dir, schedule, path, number))


def load_posts(messages_dir: Path, schedule: Schedule) -> list[Post]:
    """Every post of the schedule in day order; raises ContentError on the first bad file."""
    return [load_post(messages_dir, schedule, day) for day in schedule.days()]
