"""The HTTP service: signature schemes and payload shapes (fast), then the real server
(`carepress serve` in a subprocess) with a real Redis and a real Celery worker (slow)."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from api.cms import Ignored, normalize
from api.signatures import (
    Rejected,
    parse_secrets,
    sign_standard,
    verify_contentful,
    verify_standard,
)
from generator.content.changes import Change
from generator.settings import Settings
from tests.api_client import (
    CONTENTFUL_SECRET,
    KEY,
    OLD_KEY,
    PATH,
    SECRETS,
    STRAPI_SECRET,
    TYPE_MAP,
    Server,
    api_env,
    contentful_entry,
    contentful_headers,
    standard_headers,
    start_api,
    strapi_event,
)
from tests.conftest import manifest, snapshot
from tests.services import Worker, free_port, service_env, wait_for

# --- signatures and payload shapes ---------------------------------------------------------------


def test_standard_webhooks_published_test_vector():
    headers = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
               "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
    keys = parse_secrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    assert verify_standard(headers, body, keys, 1614265330, 300).delivery.endswith(
        "msg_p5jXN8AQM9LWM0D4loKWxJek")
    for bad_body, now in ((body + b" ", 1614265330), (body, 1614265330 + 301)):
        with pytest.raises(Rejected):
            verify_standard(headers, bad_body, keys, now, 300)


def test_either_secret_verifies_during_a_rotation():
    body, now = b"{}", int(time.time())
    keys = parse_secrets(SECRETS)
    for key in (KEY, OLD_KEY):
        headers = {"webhook-id": "m1", "webhook-timestamp": str(now),
                   "webhook-signature": "v1,bm9wZQ== " + sign_standard(key, "m1", now, body)}
        verify_standard(headers, body, keys, now, 300)
    with pytest.raises(ValueError, match="whsec_"):
        parse_secrets("not-a-secret")


def test_contentful_request_verification():
    body = b'{"sys": {"id": "x"}}'
    headers = contentful_headers(body, "ContentManagement.Entry.publish")
    now = time.time()
    assert verify_contentful("POST", PATH, headers, body, CONTENTFUL_SECRET, now, 300).scheme \
        == "contentful"
    forged = [(body + b" ", headers, CONTENTFUL_SECRET, now),
              (body, headers, "x" * 64, now),
              (body, {**headers, "x-contentful-topic": "other"}, CONTENTFUL_SECRET, now),
              (body, headers, CONTENTFUL_SECRET, now + 301)]
    for forged_body, forged_headers, secret, when in forged:
        with pytest.raises(Rejected):
            verify_contentful("POST", PATH, forged_headers, forged_body, secret, when, 300)


def test_payload_shapes_become_one_change():
    settings = Settings(cms_type_map=TYPE_MAP)
    now = time.time()
    generic = normalize("standard", {"type": "location", "id": "x-y", "data": {"a": 1}}, {},
                        settings, {}, now)
    assert generic == Change("location", "x-y", {"a": 1})
    assert normalize("standard", {"type": "author", "id": "x"}, {}, settings, {}, now) \
        == Ignored("unknown content type 'author'")
    published = contentful_entry("clinicProfile", {"slug": "c-1", "therapies": [
        {"sys": {"type": "Link", "linkType": "Entry", "id": "T1"}}]}, "C1")
    change = normalize("contentful", published, {"x-contentful-topic":
                       "ContentManagement.Entry.publish"}, settings,
                       {"contentful:T1": ("therapy", "ketamine")}, now)
    assert change == Change("clinic", "c-1", {"therapies": ["ketamine"]}, "contentful:C1")
    deleted = {"sys": {"id": "C1", "type": "DeletedEntry"}}
    assert normalize("contentful", deleted, {"x-contentful-topic":
                     "ContentManagement.Entry.unpublish"}, settings,
                     {"contentful:C1": ("clinic", "c-1")}, now) == Change(
        "clinic", "c-1", None, "contentful:C1")
    event = strapi_event("entry.publish", "clinic", {"slug": "c-1", "name": "N", "note": None,
                                                     "colors": {"id": 3, "primary": "#fff"}})
    assert normalize("strapi", event, {}, settings, {}, now) == Change(
        "clinic", "c-1", {"name": "N", "colors": {"primary": "#fff"}})
    draft = strapi_event("entry.update", "clinic", {"slug": "c-1", "publishedAt": None})
    assert isinstance(normalize("strapi", draft, {}, settings, {}, now), Ignored)
    with pytest.raises(Rejected):
        normalize("strapi", event, {}, settings, {}, now + 3600)


def test_a_revert_accepted_while_the_first_change_waits_is_not_dropped(content, tmp_path):
    from api.content import ContentView

    view = ContentView(Settings(content_dir=content, state_dir=tmp_path / "state"))
    original = yaml.safe_load((content / "locations" / "orland-park.yaml").read_text())
    renamed = Change("location", "orland-park", {**original, "name": "Orland Park Village"})
    reverted = Change("location", "orland-park", original)
    assert view.accept("b1", Change("location", "orland-park", original)) is None
    assert view.accept("b1", renamed) is not None
    # Compared with the tree as it will be once b1 is published, not with the files: kept.
    assert view.accept("b2", reverted) is not None
    view.settled([("b1", renamed), ("b2", reverted)], set())
    assert view.accept("b3", reverted) is None


def test_changes_accepted_in_a_row_have_the_impact_of_each_alone(content, tmp_path):
    """The view plans each tree once and reuses it as the next change's tree before: the
    impacts must be those of planning both trees afresh."""
    from api.content import ContentView, Overlays, apply_change
    from generator.plan.graph import change_impact

    view = ContentView(Settings(content_dir=content, state_dir=tmp_path / "state"))
    tree = view.tree()
    city = yaml.safe_load((content / "locations" / "orland-park.yaml").read_text())
    clinic = yaml.safe_load((content / "clinics" / "prairie-mind.yaml").read_text())
    changes = [Change("location", "orland-park", {**city, "name": "Orland Park Village"}),
               Change("clinic", "prairie-mind", {**clinic, "name": "Prairie Mind Two"}),
               Change("location", "orland-park", None),
               Change("location", "orland-park", city)]
    for n, change in enumerate(changes):
        after = apply_change(tree, change, Overlays())
        expected = change_impact(tree, after, change.kind, change.id)
        assert expected.render or expected.remove
        assert view.accept(f"b{n}", change) == expected, change
        tree = after


# --- the real server ---------------------------------------------------------------------------


def changed_documents(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    old = {e["path"]: (e["sha256"], e["inputs"]) for e in before["documents"]}
    new = {e["path"]: (e["sha256"], e["inputs"]) for e in after["documents"]}
    return {e["document"] for e in before["documents"] + after["documents"]
            if old.get(e["path"]) != new.get(e["path"])}


@pytest.fixture(scope="module")
def queue() -> str:
    return f"test-api-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def worker(redis_server, queue, tmp_path_factory):
    from tests.conftest import CONTENT

    env = service_env(redis_server.url, CONTENT, queue)
    started = Worker(env, tmp_path_factory.mktemp("worker") / "worker.log", concurrency=2)
    yield started
    started.stop()


@pytest.fixture
def api(redis_server, worker, queue, content, built, tmp_path):
    started = start_api(tmp_path, content, built, redis_server.url, queue)
    yield started
    started.server.stop()


@pytest.mark.slow
def test_generic_webhook_renders_exactly_the_documents_that_depend_on_it(api):
    before = manifest(api.out)
    data = api.entry("locations", "orland-park")
    data["name"] = "Orland Park Village"
    answer = api.signed({"type": "location", "id": "orland-park", "data": data})
    assert answer.status_code == 202, answer.text
    batch = api.finished(answer.json()["batch"])
    assert batch["status"] == "done", batch
    assert api.entry("locations", "orland-park")["name"] == "Orland Park Village"
    changed = changed_documents(before, manifest(api.out))
    assert {"page/ketamine/orland-park/en", "page/ketamine/illinois/en"} <= changed
    # The site's home page names the city too.
    assert all(d == "home/en" or d.split("/")[2] in ("orland-park", "illinois") for d in changed)
    assert len(changed) == answer.json()["documents"] == batch["built"]


@pytest.mark.slow
def test_strapi_publish_of_a_clinic_renders_only_that_clinics_documents(api):
    before = manifest(api.out)
    data = api.entry("clinics", "prairie-mind")
    data["colors"]["primary"] = "#7a1f1f"
    event = strapi_event("entry.publish", "clinic", {"slug": "prairie-mind", **data})
    wrong = api.client.post(PATH, json=event, headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401
    answer = api.client.post(PATH, json=event,
                             headers={"Authorization": f"Bearer {STRAPI_SECRET}"})
    assert answer.status_code == 202, answer.text
    assert api.finished(answer.json()["batch"])["status"] == "done"
    changed = changed_documents(before, manifest(api.out))
    assert changed and all(d.split("/")[:2] in (["handout", "prairie-mind"],
                                                ["consent", "prairie-mind"]) for d in changed)
    assert len(changed) == answer.json()["documents"]
    assert api.entry("clinics", "prairie-mind")["colors"]["primary"] == "#7a1f1f"


@pytest.mark.slow
def test_contentful_publish_and_unpublish_of_a_city(api):
    before = manifest(api.out)
    city = {"slug": "joliet", "name": "Joliet", "type": "city", "state": "illinois",
            "summary": "Joliet is a city southwest of Chicago, on the Des Plaines River.",
            "allow_fallback": True}
    body = json.dumps(contentful_entry("place", city, "5KsDBWseXY6QegucYAoacS")).encode()
    answer = api.client.post(PATH, content=body, headers=contentful_headers(
        body, "ContentManagement.Entry.publish"))
    assert answer.status_code == 202, answer.text
    assert api.finished(answer.json()["batch"])["status"] == "done"
    assert api.entry("locations", "joliet")["summary"].startswith("Joliet")
    published = manifest(api.out)
    changed = changed_documents(before, published)
    assert "page/ketamine/illinois/en" in changed  # the state page names its cities
    assert all(d.startswith("page/") and d.split("/")[2] == "illinois" for d in changed)
    assert len(changed) == answer.json()["documents"]
    gone = json.dumps({"sys": {"id": "5KsDBWseXY6QegucYAoacS", "type": "DeletedEntry"}}).encode()
    answer = api.client.post(PATH, content=gone, headers=contentful_headers(
        gone, "ContentManagement.Entry.unpublish"))
    assert answer.status_code == 202, answer.text
    assert api.finished(answer.json()["batch"])["status"] == "done"
    assert not (api.content / "locations" / "joliet.yaml").exists()
    assert changed_documents(published, manifest(api.out)) == changed


@pytest.mark.slow
def test_forged_stale_or_unsigned_webhooks_change_nothing(api):
    content, store = snapshot(api.content), snapshot(api.out)
    data = api.entry("locations", "naperville")
    data["summary"] = "Changed."
    body = json.dumps({"type": "location", "id": "naperville", "data": data}).encode()
    now, delivery = int(time.time()), "msg_forged"
    tampered = bytearray(body)
    tampered[body.index(b"Changed")] = ord("K")
    attempts = [
        (bytes(tampered), standard_headers(KEY, delivery, now, body)),  # one byte changed
        (body, standard_headers(b"x" * 32, delivery, now, body)),  # wrong secret
        (body, standard_headers(KEY, delivery, now - 301, body)),  # stale timestamp
        (body, standard_headers(KEY, delivery, now + 301, body)),  # from the future
        (body, {"content-type": "application/json"}),  # unsigned
        (body, contentful_headers(body, "ContentManagement.Entry.publish", "y" * 64)),
        (body, {"Authorization": "Bearer not-the-secret"}),
    ]
    for forged_body, headers in attempts:
        answer = api.client.post(PATH, content=forged_body, headers=headers)
        assert answer.status_code == 401, (headers, answer.text)
    time.sleep(0.5)
    assert snapshot(api.content) == content
    assert snapshot(api.out) == store
    # None of them used up the delivery id: the genuine one still goes through.
    genuine = api.client.post(PATH, content=body, headers=standard_headers(
        KEY, delivery, now, body))
    assert genuine.status_code == 202, genuine.text


@pytest.mark.slow
def test_a_replayed_delivery_is_processed_once(api):
    data = api.entry("locations", "naperville")
    first = {"type": "location", "id": "naperville", "data": {**data, "summary": "First."}}
    body = json.dumps(first).encode()
    headers = standard_headers(KEY, "msg_once", int(time.time()), body)
    assert api.client.post(PATH, content=body, headers=headers).status_code == 202
    second = api.signed({"type": "location", "id": "naperville",
                         "data": {**data, "summary": "Second."}})
    assert second.status_code == 202
    replay = api.client.post(PATH, content=body, headers=headers)
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    resigned = api.signed(first, delivery="msg_once")  # same id, fresh timestamp
    assert resigned.json()["status"] == "duplicate"
    assert api.finished(second.json()["batch"])["status"] == "done"
    assert api.entry("locations", "naperville")["summary"] == "Second."


@pytest.mark.slow
def test_oversized_bodies_are_refused_before_any_work(api):
    content = snapshot(api.content)
    big = b'{"type": "location", "id": "x", "data": {"a": "' + b"x" * (2 << 20) + b'"}}'
    answer = api.client.post(PATH, content=big, headers=standard_headers(
        KEY, "msg_big", int(time.time()), big))
    assert answer.status_code == 413
    chunked = api.client.post(PATH, content=iter([big[:1 << 20], big[1 << 20:]]),
                              headers={"webhook-id": "msg_big2"})
    assert chunked.status_code == 413
    assert snapshot(api.content) == content


@pytest.mark.slow
def test_invalid_entries_are_refused_and_change_nothing(api):
    content = snapshot(api.content)
    data = api.entry("locations", "naperville")
    bad_geo = api.signed({"type": "location", "id": "naperville",
                          "data": {**data, "geo": {"latitude": 200, "longitude": 0}}})
    assert bad_geo.status_code == 422
    assert [p["field"] for p in bad_geo.json()["problems"]] == ["geo.latitude"]
    typo = api.signed({"type": "location", "id": "naperville", "data": {**data, "nmae": "N"}})
    assert typo.status_code == 422 and typo.json()["problems"][0]["field"] == "nmae"
    malformed = api.signed(None, body=b'{"type": "location", ')
    assert malformed.status_code == 422 and malformed.json()["detail"].startswith("malformed")
    # Valid on its own, invalid in the tree: refused by the whole-tree check before writing.
    clinic = api.entry("clinics", "prairie-mind")
    unknown = api.signed({"type": "clinic", "id": "prairie-mind",
                          "data": {**clinic, "locations": ["atlantis"]}})
    assert unknown.status_code == 202
    batch = api.finished(unknown.json()["batch"])
    assert batch["status"] == "failed"
    assert any("atlantis" in p["message"] for p in batch["problems"]), batch
    assert snapshot(api.content) == content


@pytest.mark.slow
def test_clinics_see_and_get_only_their_own_documents(api):
    token_a = api.cli("token", "create", "prairie-mind").stdout.strip().splitlines()[-1]
    token_b = api.cli("token", "create", "riverwalk-wellness").stdout.strip().splitlines()[-1]
    a = {"Authorization": f"Bearer {token_a}"}
    b = {"Authorization": f"Bearer {token_b}"}
    body = {"therapy": "ketamine", "kind": "consent", "lang": "en"}
    assert api.client.post("/v1/documents", json=body).status_code == 401
    assert api.client.post("/v1/documents", json={**body, "patient_name": "Jane"},
                           headers=a).status_code == 422
    assert api.client.post("/v1/documents", json={**body, "therapy": "nope"},
                           headers=a).status_code == 422
    job = api.client.post("/v1/documents", json=body, headers=a)
    assert job.status_code == 202
    job_id = job.json()["job_id"]
    status: dict[str, Any] = {}

    def finished() -> bool:
        status.update(api.client.get(f"/v1/jobs/{job_id}", headers=a).json())
        return status["status"] in ("done", "failed")

    wait_for(finished, 120, "the job", interval=0.2)
    assert status["status"] == "done", status
    document = api.client.get(f"/v1/documents/{status['document_id']}", headers=a)
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    [entry] = [e for e in manifest(api.out)["documents"]
               if e["document"] == "consent/prairie-mind/ketamine/en" and e["format"] == "pdf"]
    assert document.headers["etag"] == f'"{entry["sha256"]}"'
    assert document.content == (api.out / entry["path"]).read_bytes()
    missing_job = api.client.get("/v1/jobs/no-such-job", headers=b)
    missing_doc = api.client.get("/v1/documents/0123456789abcdef0123456789abcdef", headers=b)
    for path, missing in ((f"/v1/jobs/{job_id}", missing_job),
                          (f"/v1/documents/{status['document_id']}", missing_doc)):
        other = api.client.get(path, headers=b)
        assert (other.status_code, other.content) == (404, missing.content)
    api.cli("token", "revoke", "prairie-mind")
    assert api.client.get(f"/v1/jobs/{job_id}", headers=a).status_code == 401


@pytest.mark.slow
def test_embedded_mode_renders_in_process(content, built, tmp_path, queue):
    embedded = start_api(tmp_path, content, built, None, queue)
    try:
        assert embedded.client.get("/readyz").json()["checks"]["broker"] == "embedded"
        data = embedded.entry("locations", "orland-park")
        answer = embedded.signed({"type": "location", "id": "orland-park",
                                  "data": {**data, "summary": "In-process."}})
        assert answer.status_code == 202
        assert embedded.finished(answer.json()["batch"])["status"] == "done"
        page = embedded.out / "site/en/ketamine/orland-park/index.html"
        assert "In-process." in page.read_text()
    finally:
        embedded.server.stop()
    down = api_env(tmp_path, content, tmp_path / "out", f"redis://127.0.0.1:{free_port()}", queue)
    unready = Server(down, tmp_path / "down.log")
    try:
        answer = httpx.get(f"{unready.url}/readyz", timeout=10)
        assert answer.status_code == 503
        assert answer.json()["checks"]["broker"].startswith("unreachable")
    finally:
        unready.stop()


# --- Schemathesis against /openapi.json -----------------------------------------------------------


@pytest.fixture(scope="module")
def fuzzed(redis_server, worker, queue, built, tmp_path_factory):
    from tests.conftest import CONTENT

    tmp = tmp_path_factory.mktemp("fuzzed")
    shutil.copytree(CONTENT, tmp / "content")
    started = start_api(tmp, tmp / "content", built, redis_server.url, queue)
    token = started.cli("token", "create", "prairie-mind").stdout.strip().splitlines()[-1]
    yield started, token
    started.server.stop()


@pytest.mark.slow
def test_no_request_makes_the_server_fail(fuzzed):
    """Schemathesis generates requests for every operation in /openapi.json (with a valid
    clinic token, so the clinic API is exercised past authentication); none may get a 5xx.
    Driven through Hypothesis directly: schemathesis' pytest loader does not support pytest 9."""
    started, token = fuzzed
    schema = schemathesis.openapi.from_url(f"{started.server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:

        @hypothesis_settings(max_examples=30, deadline=None, database=None,
                             suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            response = case.call(base_url=started.server.url,
                                 headers={"Authorization": f"Bearer {token}"}, timeout=30)
            case.validate_response(response, checks=[not_a_server_error])

        call()
