"""Files in conversations: upload, send, read with a token or a signed URL, erase."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from starlette.testclient import TestClient

from frontdesk.actions.file_content import safe_name
from frontdesk.actions.retention import do_apply_retention
from frontdesk.clock import FakeClock
from tests.conftest import Agent, Factory, Visitor, sign_customer_token
from tests.realtime.wsclient import signed_in

GPS_IFD = 0x8825


def png(size: tuple[int, int] = (64, 48), *, gps: bool = False, fmt: str = "PNG") -> bytes:
    picture = Image.new("RGB", size, (200, 30, 30))
    picture.putpixel((1, 1), (0, 0, 255))
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"
        exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
        picture.save(out, fmt, exif=exif)
    else:
        picture.save(out, fmt)
    return out.getvalue()


def exe() -> bytes:
    header = b"MZ\x90\x00" + b"\x00" * 56 + (128).to_bytes(4, "little") + b"\x00" * 64
    return header + b"PE\x00\x00\x4c\x01" + b"\x00" * 400


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def upload(caller: Agent | Visitor, project_id: str, content: bytes, name: str = "shot.png",
           declared: str = "image/png") -> Any:
    return caller.client.post(
        f"/{project_id}/files/chat", files={"file": (name, content, declared)},
        headers=caller.headers,
    )


def uploaded(caller: Agent | Visitor, project_id: str, content: bytes, name: str = "shot.png",
             declared: str = "image/png") -> dict[str, Any]:
    r = upload(caller, project_id, content, name, declared)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def send_file(visitor: Visitor, rid: str, descriptor: dict[str, Any], kind: str = "image") -> Any:
    return visitor.send(rid, descriptor["name"], type=kind, metadata=descriptor["metadata"])


def get_bytes(client: TestClient, url: str, headers: dict[str, str] | None = None) -> Any:
    return client.get(url, headers=headers or {})


def signed(caller: Agent | Visitor, src: str) -> dict[str, Any]:
    r = caller.client.get(src, headers=caller.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_visitors_screenshot_reaches_the_agent_without_its_gps_position(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    original = png(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test means it
    descriptor = uploaded(visitor, project.id, original)
    assert descriptor["success"] is True and descriptor["kind"] == "image"
    assert (descriptor["width"], descriptor["height"]) == (64, 48)
    assert descriptor["metadata"]["src"].endswith(f"/{project.id}/files/{descriptor['_id']}")
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hello").status_code == 200

    with signed_in(make.client, project.owner.token) as socket:
        socket.subscribe(f"/{project.id}/requests/{rid}/messages")
        r = send_file(visitor, rid, descriptor)
        assert r.status_code == 200, r.text
        published = socket.expect("publish")
    message = published["message"][0]
    assert message["type"] == "image"
    assert message["metadata"]["src"] == descriptor["metadata"]["src"]

    view = signed(project.owner, message["metadata"]["src"])
    got = get_bytes(make.client, view["url"])
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    picture = Image.open(io.BytesIO(got.content))
    assert picture.size == (64, 48) and picture.getpixel((1, 1))[:3] == (0, 0, 255)
    assert not picture.getexif().get_ifd(GPS_IFD) and not picture.getexif()
    assert b"PhoneMaker" not in got.content
    thumb = get_bytes(make.client, view["thumbnailUrl"])
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).format == "JPEG"
    # With the agent's token, the download itself answers too (API clients).
    with_token = make.client.get(view["url"].split("?")[0], headers=project.owner.headers)
    assert with_token.content == got.content


def test_only_the_conversations_visitor_and_the_projects_agents_read_a_file(
    make: Factory,
) -> None:
    project = make.project()
    visitor, stranger = make.visitor(project), make.visitor(project)
    descriptor = uploaded(visitor, project.id, png())
    rid = visitor.new_request_id()
    assert send_file(visitor, rid, descriptor).status_code == 200
    src = descriptor["metadata"]["src"]
    download = src + "/download"

    assert make.client.get(src).status_code == 401
    assert make.client.get(download).status_code == 401
    for path in (src, download):
        r = make.client.get(path, headers=stranger.headers)
        assert (r.status_code, r.json()["code"]) == (403, "not_your_file")
    other = make.project()
    r = make.client.get(src, headers=other.owner.headers)
    assert r.status_code == 403
    assert make.client.get(download, headers=visitor.headers).status_code == 200
    # A URL signed for the visitor is the visitor's: another reader cannot be swapped in.
    url = signed(visitor, src)["url"]
    assert make.client.get(url).status_code == 200
    forged = url.replace("reader=visitor%3A" + visitor.id, "reader=visitor%3A" + stranger.id)
    assert forged != url
    r = make.client.get(forged)
    assert (r.status_code, r.json()["code"]) == (401, "bad_file_signature")
    agent = make.member(project)
    assert make.client.get(signed(agent, src)["url"]).status_code == 200


def test_a_signed_url_stops_working_when_it_expires(app_factory: Any) -> None:
    clock = FakeClock(1_800_000_000.0)
    client = app_factory(clock=clock, file_url_ttl=60)
    make = Factory(client)
    project = make.project()
    visitor = make.visitor(project)
    descriptor = uploaded(visitor, project.id, png())
    url = descriptor["url"]
    assert client.get(url).status_code == 200
    clock.advance(61)
    r = client.get(url)
    assert (r.status_code, r.json()["code"]) == (401, "file_url_expired")
    assert client.get(signed(visitor, descriptor["src"])["url"]).status_code == 200


@pytest.mark.parametrize(
    ("content", "name", "declared", "status", "code"),
    [
        (exe(), "cat.png", "image/png", 415, "file_type_not_allowed"),
        (exe(), "setup.exe", "application/octet-stream", 415, "file_type_not_allowed"),
        (b"<html><script>alert(1)</script></html>", "notes.txt", "text/plain", 415,
         "file_type_not_allowed"),
        (png(), "report.pdf", "application/pdf", 415, "file_type_mismatch"),
        (png(), "shot.png", "application/pdf", 415, "file_type_mismatch"),
        (b"%PDF-1.4\n%%EOF\n", "shot.png", "image/png", 415, "file_type_mismatch"),
        (png()[:60], "broken.png", "image/png", 422, "image_invalid"),
        (b"", "empty.txt", "text/plain", 400, "file_empty"),
    ],
)
def test_what_is_not_what_it_says_is_refused(
    make: Factory, content: bytes, name: str, declared: str, status: int, code: str
) -> None:
    project = make.project()
    visitor = make.visitor(project)
    r = upload(visitor, project.id, content, name, declared)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text


def test_accepted_documents_are_served_as_downloads(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as z:
        for part in ("[Content_Types].xml", "_rels/.rels", "word/document.xml"):
            z.writestr(part, "<x/>")
    cases = [
        (SVG, "logo.svg", "image/svg+xml"),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "invoice.pdf", "application/pdf"),
        (b"order 1234 never arrived\n", "notes.txt", "text/plain"),
        (docx.getvalue(), "letter.docx", "application/octet-stream"),
    ]
    for content, name, declared in cases:
        descriptor = uploaded(visitor, project.id, content, name, declared)
        assert descriptor["kind"] == "file" and descriptor["thumbnailUrl"] is None
        got = make.client.get(descriptor["url"])
        assert got.status_code == 200 and got.content == content
        assert got.headers["content-disposition"].startswith("attachment;"), name
        assert got.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in got.headers["content-security-policy"]
    assert uploaded(visitor, project.id, SVG, "logo.svg", "image/svg+xml")["type"] == (
        "image/svg+xml"
    )


def test_a_file_over_the_limit_is_refused_while_it_streams(app_factory: Any) -> None:
    client = app_factory(max_upload_bytes=1000)
    make = Factory(client)
    project = make.project()
    visitor = make.visitor(project)
    r = upload(visitor, project.id, b"a" * 1001, "big.txt", "text/plain")
    assert (r.status_code, r.json()["code"]) == (413, "file_too_large")

    def chunks() -> Any:
        boundary = b"xyz"
        yield b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n"
        for _ in range(100):
            yield b"b" * 100
        yield b"\r\n--" + boundary + b"--\r\n"

    r = client.post(f"/{project.id}/files/chat", content=chunks(),
                    headers={**visitor.headers,
                             "Content-Type": "multipart/form-data; boundary=xyz"})
    assert (r.status_code, r.json()["code"]) == (413, "file_too_large")
    assert upload(visitor, project.id, b"a" * 1000, "ok.txt", "text/plain").status_code == 200
    # A project may lower the limit, not raise it.
    for limit, size, status in ((500, 501, 413), (5000, 1001, 413)):
        r = client.put(f"/projects/{project.id}", json={"settings": {"max_upload_bytes": limit}},
                       headers=project.owner.headers)
        assert r.status_code == 200, r.text
        got = upload(visitor, project.id, b"a" * size, "x.txt", "text/plain")
        assert got.status_code == status


def test_names_never_reach_the_file_system_and_appended_payloads_are_dropped(
    make: Factory, tmp_path: Path
) -> None:
    project = make.project()
    visitor = make.visitor(project)
    polyglot = png() + b"<script>alert(1)</script>" + b"PK\x03\x04zipped"
    descriptor = uploaded(visitor, project.id, polyglot, "../../../etc/cron.d/x.png")
    assert descriptor["name"] == "x.png"
    if make.client.app.state.services.db.dialect == "sqlite":  # type: ignore[attr-defined]
        stored = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()
                        and "frontdesk.db.files" in p.parts)
        assert stored == [Path("frontdesk.db.files") / descriptor["_id"] / v
                          for v in ("original", "thumbnail")]
    got = make.client.get(descriptor["url"])
    assert b"<script>" not in got.content and b"PK\x03\x04" not in got.content
    assert "attachment" not in got.headers["content-disposition"]
    descriptor = uploaded(visitor, project.id, png(), 'a";b\r\nX-Injected: 1.png')
    got = make.client.get(descriptor["url"])
    assert "x-injected" not in got.headers


def test_a_message_carries_only_its_senders_upload_of_its_project(make: Factory) -> None:
    project, other = make.project(), make.project()
    visitor, stranger = make.visitor(project), make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hi").status_code == 200
    theirs = uploaded(stranger, project.id, png())
    r = send_file(visitor, rid, theirs)
    assert (r.status_code, r.json()["code"]) == (403, "not_your_file")
    elsewhere = uploaded(make.visitor(other), other.id, png())
    r = send_file(visitor, rid, elsewhere)
    assert (r.status_code, r.json()["code"]) == (422, "unknown_file")
    r = visitor.send(rid, "pic", type="image", metadata={"src": "https://evil.example/x.png"})
    assert (r.status_code, r.json()["code"]) == (422, "file_required")
    doc = uploaded(visitor, project.id, b"a note\n", "n.txt", "text/plain")
    r = send_file(visitor, rid, doc, kind="image")
    assert (r.status_code, r.json()["code"]) == (422, "not_an_image")
    assert send_file(visitor, rid, doc, kind="file").status_code == 200
    # An agent cannot pass a visitor's upload off as its own, nor can the file move on.
    mine = uploaded(visitor, project.id, png())
    r = make.client.post(f"/{project.id}/requests/{rid}/messages", headers=project.owner.headers,
                         json={"type": "image", "text": "", "metadata": mine["metadata"]})
    assert (r.status_code, r.json()["code"]) == (403, "not_your_file")
    assert send_file(visitor, rid, mine).status_code == 200
    rid2 = visitor.new_request_id()
    r = send_file(visitor, rid2, mine)
    assert (r.status_code, r.json()["code"]) == (409, "file_in_another_conversation")
    # What the sender claims about the file is replaced by what the server knows.
    forged = {**mine["metadata"], "name": "invoice.pdf", "size": 1, "src": mine["src"]}
    del forged["fileId"]
    r = visitor.send(rid, "again", type="image", metadata=forged)
    assert r.status_code == 200 and r.json()["metadata"] == mine["metadata"]


def test_an_agent_sends_a_file_the_visitor_reads(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hi").status_code == 200
    descriptor = uploaded(project.owner, project.id, png())
    r = make.client.post(f"/{project.id}/requests/{rid}/messages", headers=project.owner.headers,
                         json={"type": "image", "text": "", "metadata": descriptor["metadata"]})
    assert r.status_code == 200, r.text
    url = signed(visitor, descriptor["src"])["url"]
    assert make.client.get(url).status_code == 200
    assert make.client.get(descriptor["src"], headers=make.visitor(project).headers
                           ).status_code == 403


def _stored_bytes(client: TestClient, tmp_path: Path, file_id: str) -> bool:
    services = client.app.state.services  # type: ignore[attr-defined]
    if services.db.dialect == "sqlite":
        return (tmp_path / "frontdesk.db.files" / file_id).exists()
    found = client.portal.call(  # type: ignore[union-attr]
        services.db.fetch_value, "SELECT count(*) FROM file_chunks WHERE file_id = $1", file_id
    )
    return bool(found)


def test_erasing_a_contact_erases_its_files(make: Factory, tmp_path: Path) -> None:
    project = make.project()
    visitor, other = make.visitor(project), make.visitor(project)
    rid = visitor.new_request_id()
    sent = uploaded(visitor, project.id, png())
    assert send_file(visitor, rid, sent).status_code == 200
    reply = uploaded(project.owner, project.id, png((10, 10)))
    assert make.client.post(f"/{project.id}/requests/{rid}/messages",
                            headers=project.owner.headers,
                            json={"type": "image", "metadata": reply["metadata"]}
                            ).status_code == 200
    unsent = uploaded(visitor, project.id, png((5, 5)))
    kept = uploaded(other, project.id, png())
    urls = [signed(project.owner, d["src"])["url"] for d in (sent, reply, unsent)]

    export = make.client.get(f"/{project.id}/leads/{visitor.id}/export",
                             headers=project.owner.headers).json()
    assert {f["_id"] for f in export["files"]} == {sent["_id"], reply["_id"], unsent["_id"]}

    r = make.client.delete(f"/{project.id}/leads/{visitor.id}", headers=project.owner.headers)
    assert r.status_code == 200, r.text
    for descriptor, url in zip((sent, reply, unsent), urls, strict=True):
        for path, headers in ((descriptor["src"], project.owner.headers), (url, {})):
            got = make.client.get(path, headers=headers)
            assert (got.status_code, got.json()["code"]) == (404, "file_not_found")
        assert not _stored_bytes(make.client, tmp_path, descriptor["_id"])
    assert _stored_bytes(make.client, tmp_path, kept["_id"])
    assert make.client.get(kept["url"]).status_code == 200


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("..\\..\\windows\\evil.png", "evil.png"),
        ("a\x00b\x1b[31m.png", "ab[31m.png"),
        ("...", "file"),
        (None, "file"),
        ("x" * 300 + ".png", "x" * 196 + ".png"),
        ("\u202egnp.exe", "gnp.exe"),
    ],
)
def test_a_clients_file_name_is_cleaned_for_display(raw: str | None, kept: str) -> None:
    assert safe_name(raw) == kept


def test_retention_erases_idle_contacts_files_and_uploads_never_sent(
    app_factory: Any, tmp_path: Path
) -> None:
    clock = FakeClock(1_800_000_000.0)
    client = app_factory(clock=clock, unclaimed_upload_hours=24, agent_token_ttl=90 * 24 * 3600)
    make = Factory(client)
    project = make.project()
    assert client.put(f"/projects/{project.id}", headers=project.owner.headers,
                      json={"settings": {"anonymous_retention_days": 30}}).status_code == 200
    idle = make.visitor(project)
    sent = uploaded(idle, project.id, png())
    assert send_file(idle, idle.new_request_id(), sent).status_code == 200
    clock.advance(20 * 24 * 3600)
    active = make.visitor(project)
    rid = active.new_request_id()
    assert active.send(rid, "hello").status_code == 200
    kept = uploaded(active, project.id, png())
    assert send_file(active, rid, kept).status_code == 200
    forgotten = uploaded(project.owner, project.id, png())
    clock.advance(11 * 24 * 3600)
    fresh = uploaded(active, project.id, png())  # not sent yet, but only just uploaded

    counts = client.portal.call(do_apply_retention, client.app.state.services)  # type: ignore[attr-defined]
    assert (counts["leads"], counts["files"]) == (1, 1)
    for gone in (sent, forgotten):
        r = client.get(gone["src"], headers=project.owner.headers)
        assert (r.status_code, r.json()["code"]) == (404, "file_not_found")
        assert not _stored_bytes(client, tmp_path, gone["_id"])
    for alive in (kept, fresh):
        assert client.get(signed(project.owner, alive["src"])["url"]).status_code == 200


def test_uploads_count_against_a_visitors_message_rate(app_factory: Any) -> None:
    client = app_factory(message_rate_per_ip=2)
    make = Factory(client)
    project = make.project()
    visitor = make.visitor(project)
    assert upload(visitor, project.id, png()).status_code == 200
    assert visitor.send(visitor.new_request_id(), "hello").status_code == 200
    r = upload(visitor, project.id, png())
    assert (r.status_code, r.json()["code"]) == (429, "rate_limited")
    assert upload(project.owner, project.id, png()).status_code == 200


def test_a_phone_photo_keeps_its_orientation_and_loses_its_position(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    photo = Image.new("RGB", (60, 40), (10, 200, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned, show it rotated
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0)}
    out = io.BytesIO()
    photo.save(out, "JPEG", exif=exif)
    descriptor = uploaded(visitor, project.id, out.getvalue(), "IMG_0001.JPG", "image/jpeg")
    assert (descriptor["width"], descriptor["height"]) == (40, 60)
    got = Image.open(io.BytesIO(make.client.get(descriptor["url"]).content))
    assert got.format == "JPEG" and got.size == (40, 60) and not got.getexif()


def test_images_with_too_many_pixels_are_refused_before_decoding(app_factory: Any) -> None:
    client = app_factory(max_image_pixels=1_000_000)
    make = Factory(client)
    project = make.project()
    visitor = make.visitor(project)
    for size in ((2000, 2000), (12_000, 12_000)):  # the second: past Pillow's own guard
        out = io.BytesIO()
        Image.new("1", size).save(out, "PNG")
        r = upload(visitor, project.id, out.getvalue(), "bomb.png")
        assert (r.status_code, r.json()["code"]) == (422, "image_too_large"), r.text
    assert upload(visitor, project.id, png((1000, 1000))).status_code == 200


# On PostgreSQL a file's rows and bytes go in one transaction: nothing is left to sweep.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_retention_sweeps_bytes_left_without_their_row(make: Factory, tmp_path: Path) -> None:
    services = make.client.app.state.services  # type: ignore[attr-defined]
    project = make.project()
    visitor = make.visitor(project)
    kept = uploaded(visitor, project.id, png())
    files_dir = tmp_path / "frontdesk.db.files"
    orphan = files_dir / ("f" * 24)
    orphan.mkdir()
    (orphan / "original").write_bytes(b"left behind")
    stale_upload = tmp_path / "data" / "uploads" / "upload-stale"
    stale_upload.write_bytes(b"half an upload")
    fresh_orphan = files_dir / ("e" * 24)  # being written right now: left alone
    fresh_orphan.mkdir()
    old = 1_000_000_000
    for path in (orphan, stale_upload, files_dir / kept["_id"]):
        os.utime(path, (old, old))
    counts = make.client.portal.call(do_apply_retention, services)  # type: ignore[union-attr]
    assert counts["files"] == 1
    assert not orphan.exists() and not stale_upload.exists() and fresh_orphan.exists()
    assert make.client.get(kept["url"]).status_code == 200


def test_a_signed_url_follows_the_readers_access_and_names_one_variant(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    agent = make.member(project)
    picture = uploaded(visitor, project.id, png())
    note = uploaded(visitor, project.id, b"a note\n", "note.txt", "text/plain")
    view = signed(agent, picture["src"])
    assert make.client.get(view["url"]).status_code == 200
    # The thumbnail's signature does not open the original, nor the other file.
    thumb_query = view["thumbnailUrl"].split("?", 1)[1]
    for path in (f"{picture['src']}/download", f"{note['src']}/thumbnail",
                 f"{note['src']}/download"):
        r = make.client.get(f"{path}?{thumb_query}")
        assert (r.status_code, r.json()["code"]) == (401, "bad_file_signature"), path
    r = make.client.get(signed(visitor, note["src"])["url"].replace("/download", "/thumbnail"))
    assert r.status_code == 401  # the variant is signed too
    r = make.client.get(f"{note['src']}/thumbnail", headers=visitor.headers)
    assert (r.status_code, r.json()["code"]) == (404, "no_thumbnail")
    for tampered in (view["url"].replace("exp=", "exp=9"), view["url"] + "x",
                     view["url"].split("&sig=")[0]):
        assert make.client.get(tampered).status_code == 401, tampered
    # Removed from the project, the agent's URL, still within its time, opens nothing.
    member = make.client.get(f"/{project.id}/project_users/users/{agent.id}",
                             headers=project.owner.headers).json()[0]
    assert make.client.delete(f"/{project.id}/project_users/{member['_id']}",
                              headers=project.owner.headers).status_code == 200
    r = make.client.get(view["url"])
    assert (r.status_code, r.json()["code"]) == (403, "not_a_member")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_file_whose_bytes_are_missing_answers_404(make: Factory, tmp_path: Path) -> None:
    project = make.project()
    visitor = make.visitor(project)
    descriptor = uploaded(visitor, project.id, png())
    (tmp_path / "frontdesk.db.files" / descriptor["_id"] / "original").unlink()
    r = make.client.get(descriptor["url"])
    assert (r.status_code, r.json()["code"]) == (404, "file_bytes_missing")


def test_a_file_follows_its_conversation_into_the_signed_in_contact(make: Factory) -> None:
    project = make.project()
    anonymous = make.visitor(project)
    rid = anonymous.new_request_id()
    descriptor = uploaded(anonymous, project.id, png())
    assert send_file(anonymous, rid, descriptor).status_code == 200
    assert project.secret is not None
    token = sign_customer_token(project.id, project.secret, kid=project.kid, _id="gina")
    r = make.client.post("/auth/signinWithCustomToken", headers={
        "Authorization": "JWT " + token, "X-Frontdesk-Anonymous-Token": anonymous.token})
    assert r.status_code == 200 and r.json().get("merge"), r.text
    gina = Visitor(make.client, r.json()["token"], r.json()["user"], project.id)
    assert make.client.get(signed(gina, descriptor["src"])["url"]).status_code == 200
    export = make.client.get(f"/{project.id}/leads/gina/export",
                             headers=project.owner.headers).json()
    assert [f["_id"] for f in export["files"]] == [descriptor["_id"]]


def test_comments_and_profiles_do_not_survive_re_encoding(make: Factory) -> None:
    from PIL import PngImagePlugin

    project = make.project()
    visitor = make.visitor(project)
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "secret-note-png")
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG", pnginfo=text, icc_profile=b"secret-icc" * 20)
    gif = io.BytesIO()
    Image.new("P", (8, 8)).save(gif, "GIF", comment=b"secret-note-gif")
    for content, name in ((out.getvalue(), "a.png"), (gif.getvalue(), "a.gif")):
        assert b"secret-" in content
        descriptor = uploaded(visitor, project.id, content, name, "application/octet-stream")
        got = make.client.get(descriptor["url"]).content
        assert b"secret-" not in got, name
        assert Image.open(io.BytesIO(got)).size == (8, 8)
