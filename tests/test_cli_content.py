import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from advent.cli import main
from advent.cli.content import content

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the shipped schedules and posts, to break."""
    shutil.copytree(ROOT / "schedules", tmp_path / "schedules")
    shutil.copytree(ROOT / "messages", tmp_path / "messages")
    return tmp_path


def check(runner: CliRunner, folder: Path, *extra: str) -> Result:
    return runner.invoke(
        content,
        [
            "check",
            "--messages-dir",
            str(folder / "messages"),
            "--schedules-dir",
            str(folder / "schedules"),
            *extra,
        ],
    )


def test_content_group_and_check_have_help(runner: CliRunner) -> None:
    assert "posts" in runner.invoke(content, ["--help"]).output
    result = runner.invoke(content, ["check", "--help"])
    assert result.exit_code == 0
    assert "--json" in result.output and "--messages-dir" in result.output


def test_shipped_content_passes(runner: CliRunner) -> None:
    result = check(runner, ROOT)
    assert result.exit_code == 0, result.output
    assert "advent-2026 day 03  GSM-7  2 segments" in result.output
    assert "24 posts checked (16 reply texts too), 0 errors," in result.output


def test_folders_come_from_the_environment(runner: CliRunner) -> None:
    result = runner.invoke(
        content,
        ["check"],
        env={
            "ADVENT_MESSAGES_DIR": str(ROOT / "messages"),
            "ADVENT_SCHEDULES_DIR": str(ROOT / "schedules"),
        },
    )
    assert result.exit_code == 0, result.output
    assert "24 posts checked" in result.output


@pytest.fixture
def workdir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, and nothing in the environment that the .env under test sets."""
    for name in ("ADVENT_MESSAGES_DIR", "ADVENT_SCHEDULES_DIR", "ADVENT_SEND_RATE"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(folder)
    return folder


def break_day_seven(project: Path) -> None:
    post = project / "messages" / "advent-2026" / "07.md"
    post.write_text("---\nday: 7\nmood: cheerful\n---\n\nHello.\n", encoding="utf-8")


def write_dot_env(workdir: Path, project: Path) -> None:
    (workdir / ".env").write_text(
        f"ADVENT_MESSAGES_DIR={project / 'messages'}\nADVENT_SCHEDULES_DIR={project / 'schedules'}\n",
        encoding="utf-8",
    )


def test_folders_come_from_dot_env_in_the_working_folder(
    runner: CliRunner, project: Path, workdir: Path
) -> None:
    break_day_seven(project)
    write_dot_env(workdir, project)
    result = runner.invoke(main, ["content", "check"])
    assert result.exit_code == 1, result.output
    assert "error: advent-2026 day 07: mood: unknown front matter field" in result.output


def test_folder_options_override_dot_env(runner: CliRunner, project: Path, workdir: Path) -> None:
    break_day_seven(project)
    write_dot_env(workdir, project)
    result = runner.invoke(main, ["content", "check", "--messages-dir", str(ROOT / "messages")])
    assert result.exit_code == 0, result.output
    assert "24 posts checked (16 reply texts too), 0 errors," in result.output


def test_a_bad_setting_is_shown_and_exits_2(runner: CliRunner, workdir: Path) -> None:
    (workdir / ".env").write_text("ADVENT_SEND_RATE=fast\n", encoding="utf-8")
    result = runner.invoke(main, ["content", "check"])
    assert result.exit_code == 2
    assert "Configuration error" in result.stderr and "ADVENT_SEND_RATE" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_json_output_has_one_object_per_post(runner: CliRunner) -> None:
    result = check(runner, ROOT, "--json")
    assert result.exit_code == 0, result.output
    reports = json.loads(result.output)
    posts = [r for r in reports if r["reply"] is None]
    assert [report["day"] for report in posts] == list(range(1, 25))
    assert {r["reply"] for r in reports if r["reply"]} >= {"confirmation", "help", "stopped"}
    for report in reports:
        assert {
            "campaign",
            "day",
            "encoding",
            "segments",
            "characters",
            "errors",
            "warnings",
            "path",
            "unicode_characters",
        } <= set(report)
        assert report["campaign"] == "advent-2026"
        assert report["encoding"] == "GSM-7" and report["errors"] == []


def test_broken_post_exits_non_zero_naming_file_and_problem(runner: CliRunner, project: Path) -> None:
    break_day_seven(project)
    (project / "messages" / "advent-2026" / "11.md").unlink()
    result = check(runner, project)
    assert result.exit_code == 1
    assert "advent-2026 day 07" in result.output
    assert "error: advent-2026 day 07: mood: unknown front matter field" in result.output
    assert "error: advent-2026 day 11: no post: expected " in result.output and "11.md" in result.output
    assert "24 posts checked (16 reply texts too), 2 errors," in result.output


def test_broken_post_in_json_still_exits_non_zero(runner: CliRunner, project: Path) -> None:
    post = project / "messages" / "advent-2026" / "02.md"
    post.write_text("---\nday: 2\n---\n\n" + "a" * 1601 + "\n", encoding="utf-8")
    result = check(runner, project, "--json")
    assert result.exit_code == 1
    (second,) = [report for report in json.loads(result.output) if report["day"] == 2]
    assert second["path"].endswith("02.md")
    assert second["errors"] == [
        "the message text is 1601 characters; Twilio sends at most 1600, so shorten it"
    ]


def test_invalid_schedule_is_reported_without_a_traceback(runner: CliRunner, project: Path) -> None:
    schedule = project / "schedules" / "advent-2026.toml"
    schedule.write_text(schedule.read_text().replace('"Europe/London"', '"Europe/Atlantis"'))
    result = check(runner, project)
    assert result.exit_code == 1
    assert "advent-2026.toml" in result.stderr and "timezone" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_empty_schedules_folder_is_an_error(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "schedules").mkdir()
    result = check(runner, tmp_path)
    assert result.exit_code == 1
    assert "no schedule files" in result.stderr


def test_a_reply_missing_stop_or_asking_for_money_is_warned_about(runner: CliRunner, project: Path) -> None:
    replies = project / "messages" / "advent-2026" / "replies.toml"
    text = replies.read_text(encoding="utf-8")
    text = text.replace(
        'Reply HELP for help, STOP to stop."\n\n# They texted',
        'Please donate 5 pounds to keep this going."\n\n# They texted',
        1,
    )
    replies.write_text(text, encoding="utf-8")
    result = check(runner, project, "--json")
    confirmation = next(r for r in json.loads(result.output) if r["reply"] == "confirmation")
    joined = " ".join(confirmation["warnings"])
    assert "lacks STOP" in joined and "lacks HELP" in joined
    assert "asks for a donation" in joined


def test_a_post_that_asks_for_money_is_warned_about(runner: CliRunner, project: Path) -> None:
    post = project / "messages" / "advent-2026" / "05.md"
    post.write_text(
        post.read_text(encoding="utf-8").rstrip() + " Text GIVE to 70070 to send us 5 pounds.\n",
        encoding="utf-8",
    )
    result = check(runner, project, "--json")
    day5 = next(r for r in json.loads(result.output) if r["day"] == 5 and r["reply"] is None)
    assert any("text a keyword to a number" in w for w in day5["warnings"])
    assert any("asks for money" in w for w in day5["warnings"])


def test_schedule_template_variables_with_a_gap_are_an_error_naming_the_file(
    runner: CliRunner, project: Path
) -> None:
    schedule = project / "schedules" / "advent-2026.toml"
    schedule.write_text(
        schedule.read_text(encoding="utf-8")
        + (
            'whatsapp_template_sid = "HX0123456789abcdef0123456789abcdef"\n'
            '[whatsapp_template_variables]\n1 = "friend"\n3 = "Sam"\n'
        ),
        encoding="utf-8",
    )
    result = check(runner, project)
    assert result.exit_code == 1, result.output
    assert "error: advent-2026.toml: whatsapp_template_variables: no '2';" in result.output
    assert "24 posts checked (16 reply texts too), 1 error," in result.output
