"""GET /api/stats: the Stats page's numbers as JSON, for a signed-in organiser or a script with
the read-only token (ADVENT_API_TOKEN); nothing else gets in, and the token only reads."""

from __future__ import annotations

import pytest

from tests.stats_helpers import table_rows, two_days_sent

# Day 3 is "not sent yet" at 09:00 on 3 December here: the clock is not running, and at
# each friend's own morning a rehearsal text would send that friend's day 3 as the clock would.
pytestmark = pytest.mark.usefixtures("one_moment_for_everyone")

TOKEN = "a-long-random-token-for-scripts"


@pytest.fixture
def with_token(runtime):
    runtime.settings = runtime.settings.model_copy(update={"api_token": TOKEN})
    return runtime


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_no_sign_in_and_no_token_is_401(client, with_token):
    answer = client.get("/api/stats")
    assert answer.status_code == 401
    assert "ADVENT_API_TOKEN" in answer.get_json()["error"]


def test_a_wrong_token_is_401(client, with_token):
    assert client.get("/api/stats", headers=bearer("not-the-token")).status_code == 401
    assert client.get("/api/stats", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401


def test_with_the_token_off_no_token_opens_it(client, runtime):
    # An empty ADVENT_API_TOKEN switches tokens off: even an empty bearer gets nothing.
    assert client.get("/api/stats", headers={"Authorization": "Bearer "}).status_code == 401
    assert client.get("/api/stats", headers=bearer("")).status_code == 401


def test_the_right_token_reads_the_same_numbers_as_the_page(client, organiser, with_token, clock):
    two_days_sent(with_token, clock)
    answer = client.get("/api/stats", headers=bearer(TOKEN))
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert body["funnel"] == [
        {"campaign": "advent-2026", "day": "2026-12-01", "planned": 5, "sent": 5, "delivered": 5,
         "read": 2, "not_arrived": 0},
        {"campaign": "advent-2026", "day": "2026-12-02", "planned": 4, "sent": 4, "delivered": 4,
         "read": 2, "not_arrived": 0},
    ]  # fmt: skip
    page = organiser.get("/stats").get_data(as_text=True)
    assert [
        [
            f["day"],
            *(str(f[k]) for k in ("planned", "sent", "delivered", "read", "not_arrived")),
        ]
        for f in body["funnel"]
    ] == table_rows(page, "funnel-numbers")
    assert [[p["day"], str(p["joins"]), str(p["stops"])] for p in body["people"]] == table_rows(
        page, "people-numbers"
    )
    assert [[r["day"], str(r["replies"])] for r in body["replies"]] == table_rows(page, "replies-numbers")
    assert body["at"] == "2026-12-03T09:01:00+00:00"


def test_a_signed_in_organiser_reads_it_without_a_token(organiser):
    answer = organiser.get("/api/stats")
    assert answer.status_code == 200
    assert answer.get_json()["funnel"] == []


def test_the_token_only_reads(client, with_token):
    refused = client.post("/api/stats", headers=bearer(TOKEN))
    assert refused.status_code == 405
    assert b"funnel" not in refused.data


def test_the_token_opens_nothing_but_the_api(client, with_token):
    for path in ("/stats", "/stats/people.csv", "/alerts"):
        answer = client.get(path, headers=bearer(TOKEN))
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login"), path


def test_an_unknown_campaign_is_a_404_in_json(organiser):
    answer = organiser.get("/api/stats?campaign=nope")
    assert answer.status_code == 404
    assert answer.get_json() == {"error": "there is no campaign called 'nope'"}
