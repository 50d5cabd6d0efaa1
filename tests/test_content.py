import shutil
from datetime import date
from pathlib import Path

import pytest

from advent.content.check import PostReport, check_campaign, check_schedule_templates
from advent.content.posts import ContentError, Post, load_post, load_posts
from advent.content.schedules import Schedule, load_schedules
from advent.content.segments import count_segments

ROOT = Path(__file__).resolve().parent.parent
SID = "HX" + "0123456789abcdef" * 2


@pytest.fixture
def schedule() -> Schedule:
    (shipped,) = load_schedules(ROOT / "schedules")
    return shipped


@pytest.fixture
def messages(tmp_path: Path) -> Path:
    """A copy of the shipped posts to break."""
    shutil.copytree(ROOT / "messages", tmp_path / "messages")
    return tmp_path / "messages"


def write_post(messages: Path, name: str, front: str, body: str = "A kind word.") -> Path:
    path = messages / "advent-2026" / name
    path.write_text(f"---\n{front}\n---\n\n{body}\n", encoding="utf-8")
    return path


def report_for(reports: list[PostReport], name: str) -> PostReport:
    (found,) = [report for report in reports if report.path.name == name]
    return found


def all_errors(reports: list[PostReport]) -> list[str]:
    return [error for report in reports for error in report.errors]


def test_load_post_reads_the_shipped_post_for_a_date(schedule: Schedule) -> None:
    post = load_post(ROOT / "messages", schedule, date(2026, 12, 3))
    assert isinstance(post, Post)
    assert (post.campaign, post.day, post.path.name) == ("advent-2026", 3, "03.md")
    assert post.title
    assert post.text == post.text.strip() and "---" not in post.text
    assert post.media_url is None and post.template_sid is None


def test_load_posts_reads_all_24_shipped_posts_in_order(schedule: Schedule) -> None:
    posts = load_posts(ROOT / "messages", schedule)
    assert [post.day for post in posts] == list(range(1, 25))


def test_shipped_posts_are_gsm7_and_at_most_two_segments(schedule: Schedule) -> None:
    for post in load_posts(ROOT / "messages", schedule):
        count = count_segments(post.text)
        assert count.encoding == "GSM-7", (post.path, count.unicode_characters)
        assert count.segments <= 2, post.path


def test_shipped_campaign_passes_the_check(schedule: Schedule) -> None:
    reports = check_campaign(ROOT / "messages", schedule)
    assert len(reports) == 24
    assert all_errors(reports) == []


def test_load_post_outside_the_schedule_is_an_error(schedule: Schedule) -> None:
    with pytest.raises(ContentError, match="outside advent-2026"):
        load_post(ROOT / "messages", schedule, date(2026, 12, 25))


def test_missing_day_names_the_expected_file(messages: Path, schedule: Schedule) -> None:
    (messages / "advent-2026" / "05.md").unlink()
    with pytest.raises(ContentError, match=r"expected .*advent-2026/05\.md"):
        load_post(messages, schedule, date(2026, 12, 5))
    report = next(r for r in check_campaign(messages, schedule) if r.day == 5)
    assert report.errors == [f"no post: expected {messages / 'advent-2026' / '05.md'}"]


def test_missing_campaign_folder_reports_every_day(tmp_path: Path, schedule: Schedule) -> None:
    reports = check_campaign(tmp_path, schedule)
    assert len(reports) == 24
    assert all(report.errors[0].startswith("no post: expected") for report in reports)


def test_two_files_claiming_the_same_day_are_duplicates(messages: Path, schedule: Schedule) -> None:
    write_post(messages, "03.md", "day: 4")
    reports = check_campaign(messages, schedule)
    third, fourth = report_for(reports, "03.md"), report_for(reports, "04.md")
    assert any("day: 4 does not match the file name 03.md" in e for e in third.errors)
    assert "duplicate: day 4 is also claimed by 04.md" in third.errors
    assert "duplicate: day 4 is also claimed by 03.md" in fourth.errors
    with pytest.raises(ContentError, match="day: 4 does not match"):
        load_post(messages, schedule, date(2026, 12, 3))


def test_a_post_for_a_day_outside_the_schedule_is_an_error(messages: Path, schedule: Schedule) -> None:
    write_post(messages, "25.md", "day: 25")
    report = report_for(check_campaign(messages, schedule), "25.md")
    assert any("day 25 is outside advent-2026" in error for error in report.errors)


def test_unknown_front_matter_field_is_named_with_the_known_ones(messages: Path, schedule: Schedule) -> None:
    write_post(messages, "06.md", "day: 6\ntitel: Light")
    with pytest.raises(ContentError) as raised:
        load_post(messages, schedule, date(2026, 12, 6))
    message = str(raised.value)
    assert "06.md: titel: unknown front matter field" in message
    assert "day, title, media_url, template_sid, template_variables" in message


def test_empty_body_is_an_error(messages: Path, schedule: Schedule) -> None:
    write_post(messages, "07.md", "day: 7", body="   \n\n")
    with pytest.raises(ContentError, match="07.md: the message text is empty"):
        load_post(messages, schedule, date(2026, 12, 7))


def test_body_over_1600_characters_is_an_error(messages: Path, schedule: Schedule) -> None:
    write_post(messages, "08.md", "day: 8", body="a" * 1601)
    with pytest.raises(ContentError, match="08.md: the message text is 1601 characters"):
        load_post(messages, schedule, date(2026, 12, 8))


def test_body_of_exactly_1600_characters_is_allowed(messages: Path, schedule: Schedule) -> None:
    write_post(messages, "08.md", "day: 8", body="a" * 1600)
    assert len(load_post(messages, schedule, date(2026, 12, 8)).text) == 1600


@pytest.mark.parametrize(
    "url", ["htp:/x", "http://example.com/tree.jpg", "http://", "https://", "https://exa mple.com/a"]
)
def test_malformed_or_plain_http_media_url_is_an_error(url: str, messages: Path, schedule: Schedule) -> None:
    write_post(messages, "09.md", f"day: 9\nmedia_url: '{url}'")
    with pytest.raises(ContentError, match="09.md: media_url: "):
        load_post(messages, schedule, date(2026, 12, 9))


def test_https_media_url_is_kept(messages: Path, schedule: Schedule) -> None:
    write_post(messages, "09.md", "day: 9\nmedia_url: https://example.org/images/tree.jpg")
    post = load_post(messages, schedule, date(2026, 12, 9))
    assert post.media_url == "https://example.org/images/tree.jpg"


def test_bad_yaml_is_an_error(messages: Path, schedule: Schedule) -> None:
    write_post(messages, "10.md", "day: 10\ntitle: [unclosed")
    with pytest.raises(ContentError, match="10.md: front matter is not valid YAML"):
        load_post(messages, schedule, date(2026, 12, 10))


def test_missing_day_field_is_an_error(messages: Path, schedule: Schedule) -> None:
    write_post(messages, "11.md", "title: Hello")
    with pytest.raises(ContentError, match="11.md: day: required"):
        load_post(messages, schedule, date(2026, 12, 11))


def test_zero_padded_day_is_read_as_a_number(messages: Path, schedule: Schedule) -> None:
    # YAML reads 08 as the string "08"; an author writing it that way means day 8.
    write_post(messages, "08.md", "day: 08")
    assert load_post(messages, schedule, date(2026, 12, 8)).day == 8


def test_template_fields_are_read_and_variables_become_text(messages: Path, schedule: Schedule) -> None:
    write_post(messages, "12.md", f"day: 12\ntemplate_sid: {SID}\ntemplate_variables: {{1: Day 12}}")
    post = load_post(messages, schedule, date(2026, 12, 12))
    assert post.template_sid == SID
    assert post.template_variables == {"1": "Day 12"}


def test_malformed_template_sid_is_an_error(messages: Path, schedule: Schedule) -> None:
    write_post(messages, "12.md", "day: 12\ntemplate_sid: HX123")
    with pytest.raises(ContentError, match="12.md: template_sid: 'HX123' is not a Twilio Content SID"):
        load_post(messages, schedule, date(2026, 12, 12))


def test_curly_quote_warns_of_ucs2_and_suggests_the_plain_one(messages: Path, schedule: Schedule) -> None:
    write_post(messages, "13.md", "day: 13", body="It\u2019s a good day.")
    report = report_for(check_campaign(messages, schedule), "13.md")
    assert report.errors == []
    assert (report.encoding, report.unicode_characters) == ("UCS-2", ["\u2019"])
    (warning,) = [w for w in report.warnings if "UCS-2" in w]
    assert '\u2019 (U+2019 RIGHT SINGLE QUOTATION MARK), use "\'" instead' in warning


def test_more_than_two_segments_is_a_warning(messages: Path, schedule: Schedule) -> None:
    write_post(messages, "14.md", "day: 14", body="a" * 400)
    report = report_for(check_campaign(messages, schedule), "14.md")
    assert report.errors == []
    assert report.segments == 3
    assert "costs 3 segments per SMS; keep within 2 if you can" in report.warnings


def test_whatsapp_without_a_template_is_a_warning(messages: Path, schedule: Schedule) -> None:
    warning = "no WhatsApp template: people outside the 24-hour window cannot receive this day"
    write_post(messages, "15.md", f"day: 15\ntemplate_sid: {SID}")
    reports = check_campaign(messages, schedule)
    assert warning not in report_for(reports, "15.md").warnings
    assert warning in report_for(reports, "16.md").warnings


def test_sms_only_schedule_has_no_template_warning(messages: Path, schedule: Schedule) -> None:
    sms_only = schedule.model_copy(update={"channels": ["sms"]})
    assert all(report.warnings == [] for report in check_campaign(messages, sms_only))


def test_report_to_json_has_the_documented_keys(schedule: Schedule) -> None:
    data = check_campaign(ROOT / "messages", schedule)[0].to_json()
    assert data["campaign"] == "advent-2026" and data["day"] == 1
    assert data["encoding"] == "GSM-7" and data["segments"] == 2
    assert data["path"].endswith("01.md")
    assert {"characters", "unicode_characters", "errors", "warnings"} <= set(data)


def post_with_variables(messages: Path, schedule: Schedule, variables: str) -> PostReport:
    write_post(messages, "12.md", f"day: 12\ntemplate_sid: {SID}\ntemplate_variables: {variables}")
    return report_for(check_campaign(messages, schedule), "12.md")


def test_template_variables_numbered_from_one_pass(messages: Path, schedule: Schedule) -> None:
    report = post_with_variables(messages, schedule, "{1: Day 12, 2: Sam, 3: '" + "a" * 255 + "'}")
    assert report.errors == [] and report.warnings == []


def test_a_gap_in_template_variable_numbers_names_the_missing_key(messages: Path, schedule: Schedule) -> None:
    report = post_with_variables(messages, schedule, "{1: Day 12, 3: Sam, 5: hello}")
    assert report.errors == [
        "template_variables: no '2', '4'; number the variables 1, 2, 3, ... with no gaps, "
        "as the template's placeholders are"
    ]


@pytest.mark.parametrize("key", ["name", "0", "01", "-1", "1.5"])
def test_a_template_variable_key_that_is_not_a_placeholder_number_is_an_error(
    key: str, messages: Path, schedule: Schedule
) -> None:
    report = post_with_variables(messages, schedule, f"{{1: Day 12, '{key}': Sam}}")
    (error,) = report.errors
    assert error.startswith(f'template_variables: key "{key}" is not a placeholder number')


def test_an_empty_or_overlong_template_variable_is_an_error(messages: Path, schedule: Schedule) -> None:
    report = post_with_variables(messages, schedule, "{1: '  ', 2: '" + "a" * 256 + "'}")
    assert report.errors == [
        'template_variables: "1" is empty; a template variable needs some text',
        'template_variables: "2" is 256 characters; a template variable takes at most 255: shorten it',
    ]


def test_template_variables_are_not_checked_for_an_sms_only_schedule(
    messages: Path, schedule: Schedule
) -> None:
    sms_only = schedule.model_copy(update={"channels": ["sms"]})
    assert post_with_variables(messages, sms_only, "{name: Sam}").errors == []


def test_variables_without_any_template_are_warned_as_unused(messages: Path, schedule: Schedule) -> None:
    write_post(messages, "12.md", "day: 12\ntemplate_variables: {1: Day 12}")
    report = report_for(check_campaign(messages, schedule), "12.md")
    assert report.errors == []
    assert any(w.startswith("template_variables are unused") for w in report.warnings)
    with_template = schedule.model_copy(update={"whatsapp_template_sid": SID})
    report = report_for(check_campaign(messages, with_template), "12.md")
    assert report.warnings == []


def test_a_post_template_without_variables_does_not_borrow_the_schedules(
    messages: Path, schedule: Schedule
) -> None:
    write_post(messages, "12.md", f"day: 12\ntemplate_sid: {SID}")
    shared = schedule.model_copy(
        update={
            "whatsapp_template_sid": SID,
            "whatsapp_template_variables": {"1": "friend"},
        }
    )
    (warning,) = report_for(check_campaign(messages, shared), "12.md").warnings
    assert warning.startswith(
        "template_sid without template_variables: this post's template "
        "is sent with no variables, not the schedule's"
    )
    assert report_for(check_campaign(messages, schedule), "12.md").warnings == []


def test_schedule_template_variables_are_checked_once_naming_the_key(schedule: Schedule) -> None:
    path = ROOT / "schedules" / "advent-2026.toml"
    bad = schedule.model_copy(
        update={
            "whatsapp_template_sid": SID,
            "whatsapp_template_variables": {"1": "friend", "first": "x"},
        }
    )
    (report,) = check_schedule_templates(bad, path)
    assert report.path == path and report.day == 0
    (error,) = report.errors
    assert error.startswith('whatsapp_template_variables: key "first" is not a placeholder number')
    assert check_schedule_templates(bad.model_copy(update={"channels": ["sms"]}), path) == []
    assert check_schedule_templates(schedule, path) == []


def test_more_than_100_schedule_template_variables_is_an_error(schedule: Schedule) -> None:
    many = {str(n): "x" for n in range(1, 102)}
    bad = schedule.model_copy(update={"whatsapp_template_variables": many})
    (report,) = check_schedule_templates(bad, Path("advent-2026.toml"))
    assert report.errors == ["whatsapp_template_variables: 101 variables; Twilio takes at most 100"]
