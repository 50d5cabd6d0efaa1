"""A post as WhatsApp carries it in a template: folded onto one line, within Meta's limits, and
`advent content check` saying what folding does and what to do when a post does not fit."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from advent.cli.content import content
from advent.content.whatsapp import MAX_VARIABLE, value_problems, variable_text

ROOT = Path(__file__).resolve().parent.parent
PER_POST = "`advent templates create --per-post`"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "schedules", tmp_path / "schedules")
    shutil.copytree(ROOT / "messages", tmp_path / "messages")
    return tmp_path


def write_post(project: Path, day: int, body: str, front: str = "") -> None:
    path = project / "messages" / "advent-2026" / f"{day:02d}.md"
    path.write_text(f"---\nday: {day}\n{front}---\n\n{body}\n", encoding="utf-8")


def check(project: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        content,
        [
            "check",
            "--messages-dir",
            str(project / "messages"),
            "--schedules-dir",
            str(project / "schedules"),
            *extra,
        ],
    )


# --- folding ----------------------------------------------------------------------------------


def test_paragraphs_after_a_full_stop_are_joined_with_a_space() -> None:
    assert variable_text("Good morning.\n\nToday, call a friend!\n\nSee you tomorrow.") == (
        "Good morning. Today, call a friend! See you tomorrow."
    )


def test_lines_that_end_no_sentence_are_kept_apart_with_a_dot() -> None:
    poem = "Roses are red\nViolets are blue\n\n- a warm mug\n- a good song"
    assert variable_text(poem) == "Roses are red · Violets are blue · - a warm mug · - a good song"


def test_tabs_and_runs_of_spaces_become_one_space() -> None:
    assert (
        variable_text("  Breathe in\t\tand      out.  \r\n\r\n\r\n Slowly. ") == "Breathe in and out. Slowly."
    )


def test_a_post_on_one_line_is_sent_unchanged() -> None:
    text = "Think of someone you've not spoken to in a while. Send them a short hello today."
    assert variable_text(text) == text


def test_a_folded_post_has_nothing_whatsapp_refuses() -> None:
    folded = variable_text("One.\n\n\n\nTwo\t\t\t\t\tthree\n     four")
    assert value_problems(folded) == []
    assert "\n" not in folded and "  " not in folded


# --- the limits -------------------------------------------------------------------------------


def test_a_value_over_255_characters_is_refused_with_the_fix() -> None:
    assert value_problems("a" * MAX_VARIABLE) == []
    assert value_problems("a" * 256) == [
        "is 256 characters; a template variable takes at most 255: shorten it"
    ]


def test_line_breaks_and_five_spaces_in_a_value_name_twilio_error_63013() -> None:
    problems = value_problems("one\ntwo     three")
    assert len(problems) == 2
    assert all("63013" in problem for problem in problems)
    assert value_problems("four    spaces") == []  # four in a row are allowed


def test_template_text_and_value_over_1024_name_twilio_error_63021() -> None:
    (problem,) = value_problems("a" * 200, template_text="b" * 900)
    assert "1,100 characters" in problem and "63021" in problem


# --- the content check ------------------------------------------------------------------------


def test_shipped_posts_all_fit_a_whatsapp_template_variable(project: Path) -> None:
    result = check(project)
    assert result.exit_code == 0
    assert "template variable" not in result.output and "folded" not in result.output


def test_a_post_with_paragraphs_is_said_to_be_sent_folded(project: Path) -> None:
    write_post(project, 4, "Tonight, jot down three good things.\n\nTry it for a week.")
    result = check(project)
    assert result.exit_code == 0, result.output
    assert (
        "warning: advent-2026 day 04: has paragraphs: on WhatsApp outside the 24-hour window it is "
        "sent as a template's variable, where line breaks are refused, so it goes folded into one "
        f"line; to keep them, use one template per post: {PER_POST}"
    ) in result.output


def test_a_post_with_a_long_run_of_spaces_is_said_to_be_sent_with_one_space(project: Path) -> None:
    write_post(project, 5, "Breathe in.      Breathe out.")
    result = check(project)
    assert "advent-2026 day 05: has tabs or long runs of spaces" in result.output
    assert "each run is sent as one space" in result.output


def test_two_spaces_after_a_full_stop_are_folded_without_a_word(project: Path) -> None:
    write_post(project, 5, "Breathe in.  Breathe out.")
    assert "runs of spaces" not in check(project).output


def test_a_post_too_long_once_folded_says_how_long_and_what_to_do(project: Path) -> None:
    write_post(project, 7, "A kind word.\n\n" + "So kind. " * 30)
    result = check(project)
    assert result.exit_code == 0  # SMS and friends inside the window still get it
    line = next(line for line in result.output.splitlines() if "day 07: is" in line)
    assert "is 282 characters on one line; WhatsApp takes at most 255 in a template variable" in line
    assert "friends outside the 24-hour window would get nothing" in line
    assert f"shorten it to 255 characters, or use one template per post: {PER_POST}" in line


def test_the_same_finding_on_several_days_is_listed_once(project: Path) -> None:
    for day in (2, 3, 4, 9):
        write_post(project, day, "First.\n\nSecond.")
    output = check(project).output
    assert output.count("has paragraphs") == 1
    assert "warning (4 days): has paragraphs" in output
    assert "(advent-2026 days 2-4, 9)" in output


def test_a_post_with_its_own_template_is_not_checked_as_a_variable(project: Path) -> None:
    write_post(project, 4, "First.\n\nSecond.", front="template_sid: HX" + "ab" * 16 + "\n")
    assert "has paragraphs" not in check(project).output


def test_an_sms_only_campaign_is_not_checked_as_a_variable(project: Path) -> None:
    path = project / "schedules" / "advent-2026.toml"
    path.write_text(path.read_text().replace('channels = ["whatsapp", "sms"]', 'channels = ["sms"]'))
    write_post(project, 4, "First.\n\nSecond.")
    assert "has paragraphs" not in check(project).output


def test_a_schedule_variable_with_a_line_break_is_an_error(project: Path) -> None:
    path = project / "schedules" / "advent-2026.toml"
    path.write_text(
        path.read_text()
        + f'whatsapp_template_sid = "HX{"ab" * 16}"\nwhatsapp_template_variables = {{ "1" = "to\\nday" }}\n'
    )
    result = check(project)
    assert result.exit_code == 1
    assert 'whatsapp_template_variables: "1" has line breaks or tabs' in result.output


def test_json_output_carries_the_findings_per_post(project: Path) -> None:
    import json

    write_post(project, 4, "First.\n\nSecond.")
    reports = json.loads(check(project, "--json").output)
    (day4,) = [r for r in reports if r["day"] == 4 and r["reply"] is None]
    assert any(w.startswith("has paragraphs") for w in day4["warnings"])
