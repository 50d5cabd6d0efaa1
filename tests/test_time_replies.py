"""The answers to TIME are the organiser's words like every reply: checked by `advent content
check`, and given built-in words when an older replies file has none."""

from __future__ import annotations

import re

from advent.content.replies import TIME_DEFAULTS, load_replies
from advent.content.replies_check import check_replies
from tests.helpers import send_at


def replies_file(project):
    return project / "messages" / "advent-2026" / "replies.toml"


def warnings(settings, schedule, name: str) -> list[str]:
    reports = check_replies(settings.messages_dir, schedule)
    return next(r.warnings for r in reports if r.reply == name)


def test_the_shipped_time_texts_say_what_they_must_within_two_segments(runtime, settings) -> None:
    schedule = send_at(runtime, "friend")
    reports = {r.reply: r for r in check_replies(settings.messages_dir, schedule)}
    for name in [*TIME_DEFAULTS, "help"]:
        assert reports[name].warnings == [] and reports[name].errors == [], name
        assert reports[name].segments <= 2, name


def test_help_that_does_not_mention_time_is_warned_of_where_each_friend_has_their_own(
    runtime, settings, project
) -> None:
    path = replies_file(project)
    mention = "Reply TIME and your city to change when it comes, STOP"
    path.write_text(path.read_text().replace(mention, "Reply STOP"))
    lacks = "help: lacks TIME, which this reply must include"
    assert lacks in warnings(settings, send_at(runtime, "friend"), "help")
    assert warnings(settings, send_at(runtime, "schedule"), "help") == []


def test_a_time_text_without_the_next_post_is_warned_of(runtime, settings, project) -> None:
    path = replies_file(project)
    path.write_text(path.read_text().replace("{next_post} Reply STOP to stop.", "Reply STOP to stop."))
    assert "time_changed: lacks {next_post}, which this reply must include" in warnings(
        settings, send_at(runtime, "friend"), "time_changed"
    )


def test_an_older_replies_file_without_time_texts_still_loads_with_built_in_words(
    runtime, settings, project
) -> None:
    path = replies_file(project)
    older = re.sub(r"\n# TIME and a place.*", "\n", path.read_text(), flags=re.S)
    assert "time_" not in older
    path.write_text(older)
    schedule = send_at(runtime, "friend")
    replies = load_replies(settings.messages_dir, schedule)
    assert replies.texts["time_changed"] == TIME_DEFAULTS["time_changed"]
    assert replies.defaulted == frozenset(TIME_DEFAULTS)
    assert any(
        w.startswith("time_now: not in replies.toml, so the built-in words are used")
        for w in warnings(settings, schedule, "time_now")
    )
