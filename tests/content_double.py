"""Twilio's Content API (content.twilio.com) as `responses` answers: templates and approvals."""

from __future__ import annotations

import json
from typing import Any

import requests
import responses

from tests.twilio_double import ACCOUNT_SID, error_json

CONTENT = "https://content.twilio.com/v1/Content"
SID = "HX" + "1" * 32


def approval_url(sid: str = SID) -> str:
    return f"{CONTENT}/{sid}/ApprovalRequests"


def made(mock: responses.RequestsMock, sid: str = SID, name: str = "advent_2026_daily") -> None:
    mock.add(
        responses.POST,
        CONTENT,
        status=201,
        json={
            "sid": sid,
            "account_sid": ACCOUNT_SID,
            "friendly_name": name,
            "language": "en",
            "variables": {},
            "types": {},
            "url": f"{CONTENT}/{sid}",
            "date_created": "2026-11-20T10:00:00Z",
            "date_updated": "2026-11-20T10:00:00Z",
            "links": {},
        },
    )


def submitted(mock: responses.RequestsMock, sid: str = SID, category: str = "MARKETING") -> None:
    mock.add(
        responses.POST,
        approval_url(sid) + "/whatsapp",
        status=201,
        json={
            "name": "advent_2026_daily",
            "category": category,
            "content_type": "twilio/text",
            "status": "received",
            "rejection_reason": "",
            "allow_category_change": True,
        },
    )


def approval(
    mock: responses.RequestsMock, status: str, reason: str = "", sid: str = SID, category: str = "MARKETING"
) -> None:
    whatsapp: dict[str, Any] = {
        "name": "advent_2026_daily",
        "category": category,
        "content_type": "twilio/text",
        "status": status,
        "rejection_reason": reason,
        "allow_category_change": True,
        "type": "whatsapp",
    }
    mock.add(
        responses.GET,
        approval_url(sid),
        json={"sid": sid, "account_sid": ACCOUNT_SID, "url": approval_url(sid), "whatsapp": whatsapp},
    )


def refused(
    mock: responses.RequestsMock, method: str, url: str, code: int, status: int, message: str
) -> None:
    mock.add(method, url, status=status, json=error_json(code, status, message))


def unreachable(mock: responses.RequestsMock, method: str, url: str) -> None:
    mock.add(method, url, body=requests.ConnectionError("Failed to resolve 'content.twilio.com'"))


def sent_json(mock: responses.RequestsMock, url: str) -> list[dict[str, Any]]:
    return [json.loads(call.request.body) for call in mock.calls if call.request.url == url]
