"""One gate for every entry point, tried on the real server: a change the build would refuse is
never written, one bad webhook does not hold up the next, and a stop during a burst loses no
accepted change and leaves every batch telling the truth after the restart."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
import yaml

from generator.content.changes import Change
from generator.publish.gate import problems
from generator.settings import Settings
from tests.api_client import Api, Server, contentful_entry, start_api
from tests.conftest import CONTENT, manifest, run_build, snapshot

pytestmark = pytest.mark.slow


@pytest.fixture
def embedded(content: Path, built: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    started = start_api(tmp_path, content, built, None, "unused")
    yield started
    started.server.stop()


def location_edit(api: Api, summary: str) -> dict[str, object]:
    data = api.entry("locations", "orland-park")
    return {"type": "location", "id": "orland-park", "data": {**data, "summary": summary}}


def test_the_gate_refuses_what_the_build_refuses(content: Path, built: Path):
    settings = Settings(content_dir=content, out_dir=built)
    assert problems(settings) == []
    data = yaml.safe_load((content / "clinics" / "prairie-mind.yaml").read_text())
    wording = Change("clinic", "prairie-mind", {**data, "emergency": "Call 911."})
    found = problems(settings, [wording])
    assert any("revision" in p.field and "protocol wording changed" in p.message for p in found)
    logo = Change("clinic", "prairie-mind", {**data, "logo": "logos/prairie-mind"})
    assert any(p.field == "logo" for p in problems(settings, [logo]))
    unknown = Change("clinic", "prairie-mind", {**data, "locations": ["atlantis"]})
    assert any("atlantis" in p.message for p in problems(settings, [unknown]))
    # The candidate is a scratch copy: the tree itself is untouched.
    assert snapshot(content) == snapshot(CONTENT)


def test_a_governance_breaking_webhook_is_refused_and_later_builds_pass(embedded: Api):
    content = snapshot(embedded.content)
    clinic = embedded.entry("clinics", "prairie-mind")
    answer = embedded.signed({"type": "clinic", "id": "prairie-mind",
                              "data": {**clinic, "emergency": "Call 911 in an emergency."}})
    assert answer.status_code == 422, answer.text
    assert any("protocol wording changed" in p["message"] for p in answer.json()["problems"])
    assert snapshot(embedded.content) == content
    later = embedded.signed(location_edit(embedded, "A valid edit after a refused one."))
    assert later.status_code == 202, later.text
    assert embedded.finished(later.json()["batch"])["status"] == "done"
    page = embedded.out / "site/en/ketamine/orland-park/index.html"
    assert "A valid edit after a refused one." in page.read_text()
    assert embedded.client.get("/readyz").status_code == 200
    build = embedded.cli("build", "--quiet")
    assert build.returncode == 0


def test_a_poison_webhook_does_not_block_the_valid_ones_after_it(embedded: Api):
    clinic = embedded.entry("clinics", "riverwalk-wellness")
    poison = embedded.signed({"type": "clinic", "id": "riverwalk-wellness",
                              "data": {**clinic, "logo": "logos/riverwalk-wellness"}})
    assert poison.status_code == 422, poison.text
    assert [p["field"] for p in poison.json()["problems"]] == ["logo"]
    batches = []
    for n in range(3):
        answer = embedded.signed(location_edit(embedded, f"Valid edit number {n}."))
        assert answer.status_code == 202, answer.text
        batches.append(answer.json()["batch"])
    assert all(embedded.finished(b)["status"] == "done" for b in batches)
    assert "Valid edit number 2." in (embedded.out / "site/en/ketamine/orland-park/index.html"
                                      ).read_text()
    assert embedded.client.get("/readyz").status_code == 200


def test_a_change_that_breaks_the_tree_fails_its_batch_and_the_next_one_passes(embedded: Api):
    content = snapshot(embedded.content)
    clinic = embedded.entry("clinics", "prairie-mind")
    broken = embedded.signed({"type": "clinic", "id": "prairie-mind",
                              "data": {**clinic, "locations": ["atlantis"]}})
    assert broken.status_code == 202
    good = embedded.signed(location_edit(embedded, "Accepted right after a bad one."))
    assert good.status_code == 202
    failed = embedded.finished(broken.json()["batch"])
    assert failed["status"] == "failed" and failed["problems"]
    assert embedded.finished(good.json()["batch"])["status"] == "done"
    assert {k: v for k, v in snapshot(embedded.content).items()
            if "orland-park" not in k} == {k: v for k, v in content.items()
                                           if "orland-park" not in k}


def contentful(api: Api, topic: str, payload: dict[str, object]) -> httpx.Response:
    return api.contentful(payload, topic)


def test_a_refused_contentful_unpublish_keeps_the_mapping(embedded: Api):
    city = {"slug": "joliet", "name": "Joliet", "type": "city", "state": "illinois",
            "summary": "Joliet is a city southwest of Chicago, on the Des Plaines River.",
            "allow_fallback": True}
    sys_id = "5KsDBWseXY6QegucYAoacS"
    published = contentful(embedded, "ContentManagement.Entry.publish",
                           contentful_entry("place", city, sys_id))
    assert published.status_code == 202, published.text
    assert embedded.finished(published.json()["batch"])["status"] == "done"
    clinic = embedded.entry("clinics", "prairie-mind")
    serving = embedded.signed({"type": "clinic", "id": "prairie-mind", "data": {
        **clinic, "locations": [*clinic["locations"], "joliet"]}})
    assert embedded.finished(serving.json()["batch"])["status"] == "done"
    gone = {"sys": {"id": sys_id, "type": "DeletedEntry"}}
    refused = contentful(embedded, "ContentManagement.Entry.unpublish", gone)
    assert refused.status_code == 202, refused.text
    assert embedded.finished(refused.json()["batch"])["status"] == "failed"
    assert (embedded.content / "locations" / "joliet.yaml").exists()
    back = embedded.signed({"type": "clinic", "id": "prairie-mind", "data": clinic})
    assert embedded.finished(back.json()["batch"])["status"] == "done"
    again = contentful(embedded, "ContentManagement.Entry.unpublish", gone)
    assert again.status_code == 202, again.text  # not "ignored: never published here"
    assert embedded.finished(again.json()["batch"])["status"] == "done"
    assert not (embedded.content / "locations" / "joliet.yaml").exists()
    assert not (embedded.out / "site/en/ketamine/joliet").exists()


def test_sigterm_during_a_burst_loses_no_accepted_change(content: Path, built: Path,
                                                         tmp_path: Path):
    api = start_api(tmp_path, content, built, None, "unused")
    accepted: list[tuple[str, str]] = []
    try:
        deadline = time.monotonic() + 20
        n = 0
        while time.monotonic() < deadline and len(accepted) < 40:
            summary = f"Burst edit {n}."
            answer = api.signed(location_edit(api, summary))
            if answer.status_code == 202:
                accepted.append((answer.json()["batch"], summary))
            if n == 5:  # PDFs to render too, so a build is running when the signal comes
                clinic = api.entry("clinics", "prairie-mind")
                colour = api.signed({"type": "clinic", "id": "prairie-mind", "data": {
                    **clinic, "colors": {**clinic["colors"], "primary": "#224466"}}})
                assert colour.status_code == 202
                accepted.append((colour.json()["batch"], ""))
            if n == 20:
                os.kill(api.server.process.pid, signal.SIGTERM)
                break
            n += 1
        api.server.process.wait(60)
    finally:
        api.server.stop()
    assert len(accepted) >= 20
    restarted = Server(api.env, tmp_path / "restarted.log")
    api.server = restarted
    api.client = httpx.Client(base_url=restarted.url, timeout=30)
    try:
        statuses = {batch: api.finished(batch, timeout=240)["status"] for batch, _ in accepted}
        assert set(statuses.values()) == {"done"}, statuses
        last = [summary for _batch, summary in accepted if summary][-1]
        assert api.entry("locations", "orland-park")["summary"] == last
    finally:
        restarted.stop()
    clean = tmp_path / "clean"
    assert not run_build(api.content, clean).failed
    assert snapshot(api.out) == snapshot(clean)
    assert manifest(api.out)["documents"] == manifest(clean)["documents"]
