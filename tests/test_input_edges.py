"""Edges of input, tried against the real server (`carepress serve`, real HTTP) and the real CLI:
ids with a trailing newline or of 5,000 characters, JSON nested 100,000 deep, bodies that are
not JSON. Each is a 422 naming the field or the parser's reason, and nothing is written."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.ids import ID_MAX_LENGTH
from tests.api_client import Api, serve
from tests.conftest import CONTENT, REPO, snapshot

pytestmark = pytest.mark.slow  # the real server and the real CLI, each in a process of its own

CLINIC = "prairie-mind"
DEEP = 100_000


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("edges")
    shutil.copytree(CONTENT, tmp / "content")
    started = serve(tmp, tmp / "content", tmp / "out")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def token(api: Api) -> str:
    return api.token(CLINIC)


def unchanged(api: Api, before: dict[str, bytes]) -> None:
    after = snapshot(api.content)
    assert after == before, sorted(set(after) ^ set(before))
    assert not [p for p in api.content.rglob("*") if not p.name.isprintable()]


def deep_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_ids_with_a_trailing_newline_are_refused_and_write_no_file(api):
    before = snapshot(api.content)
    data = api.entry("locations", "naperville")
    for entry_id in ("naperville\n", "west-side\n", "west-side\r\n", "\nwest-side"):
        answer = api.signed({"type": "location", "id": entry_id, "data": data})
        assert answer.status_code == 422, (entry_id, answer.text)
        assert answer.json()["detail"] == (
            "unexpected payload: id must be lowercase words joined by '-', e.g. north-side")
    # The same rule holds for ids inside an entry (the schema's references).
    clinic = api.entry("clinics", CLINIC)
    answer = api.signed({"type": "clinic", "id": CLINIC,
                         "data": {**clinic, "locations": [f"{clinic['locations'][0]}\n"]}})
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert problem["field"] == "locations.0"
    assert problem["message"] == "must be lowercase words joined by '-', e.g. north-side"
    unchanged(api, before)


def test_a_5000_character_id_is_refused_at_once_naming_the_field(api):
    before = snapshot(api.content)
    data = api.entry("locations", "naperville")
    answer = api.signed({"type": "location", "id": "a" * 5000, "data": data})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == (
        f"unexpected payload: id must be at most {ID_MAX_LENGTH} characters (got 5000)")
    clinic = api.entry("clinics", CLINIC)
    answer = api.signed({"type": "clinic", "id": CLINIC,
                         "data": {**clinic, "therapies": ["t" * 5000]}})
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert (problem["field"], problem["message"]) == (
        "therapies.0", f"must be at most {ID_MAX_LENGTH} characters (got 5000)")
    unchanged(api, before)


def test_strapi_and_contentful_ids_follow_the_same_rule(api):
    before = snapshot(api.content)
    now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    data = api.entry("locations", "naperville")
    for slug, reason in (("west-side\n", "must be lowercase words joined by '-', e.g. north-side"),
                         ("w" * 5000, f"must be at most {ID_MAX_LENGTH} characters (got 5000)")):
        answer = api.strapi({"event": "entry.publish", "createdAt": now, "model": "location",
                             "entry": {"id": 7, "publishedAt": now, "slug": slug, **data}})
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"] == f"unexpected payload: entry.slug {reason}"
        fields = {k: {"en-US": v} for k, v in {**data, "slug": slug}.items()}
        answer = api.contentful({"sys": {"id": "E1", "contentType": {"sys": {"id": "location"}}},
                                 "fields": fields}, "ContentManagement.Entry.publish")
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"] == f"unexpected payload: fields.slug {reason}"
    answer = api.contentful({"sys": {"id": "E" * 5000}}, "ContentManagement.Entry.unpublish")
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == "unexpected payload: sys.id longer than 64 characters"
    unchanged(api, before)


def test_json_nested_100000_deep_is_a_422_for_the_webhook(api):
    before = snapshot(api.content)
    for body in (deep_json(DEEP), b'{"type": "location", "id": "x", "data": ' + deep_json(DEEP)
                 + b"}", b'{"a": ' * DEEP + b"1" + b"}" * DEEP):
        answer = api.signed(body=body)
        assert answer.status_code == 422, answer.text[:300]
        assert answer.json()["detail"] == "JSON nested deeper than 32 levels"
    # The server is not wedged: the next webhook is answered on its merits.
    data = api.entry("locations", "naperville")
    again = api.signed({"type": "location", "id": "naperville", "data": data})
    assert (again.status_code, again.json()["status"]) == (200, "unchanged")
    unchanged(api, before)


def test_json_nested_100000_deep_is_a_422_for_documents(api, token):
    auth = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    answer = api.client.post("/v1/documents", content=deep_json(DEEP), headers=auth)
    assert answer.status_code == 422, answer.text[:300]
    assert answer.json()["problems"] == [{"file": "request", "field": "body", "line": None,
                                          "message": "JSON nested deeper than 32 levels"}]


@pytest.mark.parametrize(("body", "content_type", "reason"), [
    (b"therapy=x&kind=consent", "application/json",
     "malformed JSON: Expecting value: line 1 column 1 (char 0)"),
    (b'{"therapy": "x", ', "application/json",
     "malformed JSON: Expecting property name enclosed in double quotes: line 1 column 18 "
     "(char 17)"),
    (b'{"therapy": "\xff"}', "application/json", "malformed JSON: not UTF-8 text (byte 13)"),
    (b"therapy=x&kind=consent", "text/plain",
     "expected a JSON object (Content-Type: application/json)"),
])
def test_a_body_that_is_not_json_is_a_422_with_the_parsers_reason(api, token, body,
                                                                  content_type, reason):
    headers = {"Authorization": f"Bearer {token}", "content-type": content_type}
    answer = api.client.post("/v1/documents", content=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json() == {"detail": "invalid request", "problems": [
        {"file": "request", "field": "body", "message": reason, "line": None}]}


def test_document_requests_use_the_same_id_rule(api, token):
    therapy = api.entry("clinics", CLINIC)["therapies"][0]
    auth = {"Authorization": f"Bearer {token}"}
    for value, message in ((f"{therapy}\n", "must be lowercase words joined by '-', e.g. "
                            "north-side"),
                           ("t" * 5000, f"must be at most {ID_MAX_LENGTH} characters (got 5000)")):
        answer = api.client.post("/v1/documents", json={"therapy": value, "kind": "consent"},
                                 headers=auth)
        assert answer.status_code == 422, answer.text
        assert answer.json()["problems"] == [
            {"file": "request", "field": "body.therapy", "message": message, "line": None}]
    lang = api.client.post("/v1/documents", json={"therapy": therapy, "kind": "consent",
                                                  "lang": "en\n"}, headers=auth)
    assert lang.status_code == 422, lang.text
    assert [p["field"] for p in lang.json()["problems"]] == ["body.lang"]
    schema: dict[str, Any] = api.client.get("/openapi.json").json()
    therapy_schema = schema["components"]["schemas"]["DocumentRequest"]["properties"]["therapy"]
    assert therapy_schema["maxLength"] == ID_MAX_LENGTH


def validate(content: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", "validate", "--content",
                           str(content)], cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", ["west-side\n.yaml", f"{'a' * 100}.yaml"])
def test_content_file_names_follow_the_id_rule(content, name):
    source = content / "locations" / "naperville.yaml"
    shutil.copy(source, content / "locations" / name)
    result = validate(content)
    assert result.returncode == 1
    shown = name.replace("\n", "\\n")
    reason = ("must be lowercase words joined by '-', e.g. north-side" if "\n" in name
              else f"must be at most {ID_MAX_LENGTH} characters (got 100)")
    assert result.stderr.splitlines() == [
        f"carepress: error: content/locations/{shown}: file name {reason}"]


def test_an_id_of_the_longest_length_is_accepted(content):
    longest = "a" * ID_MAX_LENGTH
    for source in (content / "locations").glob("naperville.*"):  # with its translations
        shutil.copy(source, source.with_name(longest + source.name.removeprefix("naperville")))
    result = validate(content)
    assert result.returncode == 0, result.stderr
