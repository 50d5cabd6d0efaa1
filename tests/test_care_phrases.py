"""Which texts may signal distress: the care list's phrases and their near-misses, and the
content check of `care.toml`. A false alarm costs a kind message; a miss costs more."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from advent.cli import main
from advent.content.care import DEFAULT_SUPPORT_LINE, built_in
from advent.content.care_check import check_care
from advent.content.distress import DEFAULT_PHRASES

SHIPPED = Path(__file__).resolve().parent.parent / "messages" / "advent-2026" / "care.toml"
CARE = built_in(SHIPPED)


@pytest.mark.parametrize(
    "text",
    [
        "I can't go on",
        "i cant go on like this",
        "I can’t go on",  # a curly apostrophe, as phones type it
        "I CANNOT cope!!",
        "can not cope   anymore",
        "honestly I just want to die",
        "wanna die tbh",
        "want 2 die",
        "kms",
        "lol kms 😭",
        "I keep thinking about suicide",
        "feeling suicidal today",
        "sucidal",
        "I want to kill myself",
        "I want to kill my self",
        "I've been hurting myself again",
        "thinking of self-harm",
        "what's the point of anything",
        "There's no point.",
        "I just want to end it",
        "I'm going to end it all",
        "I've given up on life",
        "everything feels hopeless",
        "I don't feel safe at home",
        "I'm not safe",
        "everyone would be better off without me",
        "I don't want to be here anymore",
        "I dont want to be here any more",
        "I can't do this any more",
    ],
)
def test_a_text_that_may_signal_distress_is_caught(text: str) -> None:
    assert CARE.phrase_in(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "I'm dying to see tomorrow's one",
        "this killed me 😂",
        "dead tired but smiling",
        "I could kill for a coffee",
        "Can't wait for the end of it all? No, I love it",  # "end of it" is not "end it"
        "hopelessly devoted to these messages",
        "skms",
        "Thank you, that made my morning",
        "",
    ],
)
def test_a_near_miss_is_thanked_as_usual(text: str) -> None:
    assert CARE.phrase_in(text) is None


def test_the_shipped_care_file_is_the_built_in_list_so_a_campaign_without_one_is_as_safe() -> None:
    shipped = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    assert tuple(shipped["phrases"]) == DEFAULT_PHRASES
    assert shipped["support_line"] == DEFAULT_SUPPORT_LINE
    assert "116 123" in DEFAULT_SUPPORT_LINE and "free" in DEFAULT_SUPPORT_LINE


def check(project: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        [
            "content",
            "check",
            "--messages-dir",
            str(project / "messages"),
            "--schedules-dir",
            str(project / "schedules"),
        ],
    )
    return result.exit_code, result.output


def care_file(project: Path) -> Path:
    return project / "messages" / "advent-2026" / "care.toml"


def test_the_shipped_care_file_passes_the_content_check_within_two_segments(project: Path) -> None:
    code, output = check(project)
    assert code == 0, output
    assert "advent-2026 reply care  GSM-7  2 segments" in output


def test_a_campaign_without_a_care_file_is_warned_that_the_built_in_list_is_used(project: Path) -> None:
    care_file(project).unlink()
    code, output = check(project)
    assert code == 0
    assert "no care.toml, so the built-in list of" in output


@pytest.mark.parametrize(
    "written, says",
    [
        ('phrases = ["can\'t cope"\nanswer = "x"', "not valid TOML"),
        ("phrases = []", "phrases is empty"),
        ('answer = "Take care."', "no phrases"),
        ('phrases = ["!!!"]', "has no words to look for"),
        (
            'phrases = ["can\'t cope"]\nanswer = "{title}: we hear you, {organiser} knows."',
            "lacks {support_line}",
        ),
        (
            'phrases = ["can\'t cope"]\nanswer = "{title} {support_line} {nobody}"',
            "unknown placeholder {nobody}",
        ),
        ('phrases = ["can\'t cope"]\nsupport_line = " "', "support_line is empty"),
        ('phrases = ["can\'t cope"]\nwords = ["x"]', "unknown words"),
    ],
)
def test_a_broken_care_file_is_an_error_naming_the_file_and_the_problem(
    project: Path, written: str, says: str
) -> None:
    care_file(project).write_text(written, encoding="utf-8")
    code, output = check(project)
    assert code == 1
    assert f"error: advent-2026 reply care: {care_file(project)}" in output and says in output


def test_an_answer_that_writes_the_support_line_out_is_accepted(project: Path, schedule) -> None:  # type: ignore[no-untyped-def]
    care_file(project).write_text(
        'phrases = ["can\'t cope"]\nsupport_line = "Call Sam\'s sister on 0800 000"\n'
        'answer = "{title}: we are here. Call Sam\'s sister on 0800 000."\n',
        encoding="utf-8",
    )
    [report] = check_care(project / "messages", schedule)
    assert report.errors == []
