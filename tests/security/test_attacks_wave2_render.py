"""Attacks on pictures (wave 2): the `render` ask on POST /v1/jobs, the worker's re-check of the ask it
receives, forged PNGs from a worker, and how GET /v1/jobs/{id}/image and the console serve them.

Why: a picture is a new input surface at three places (submit, the worker's report, the image routes), and
the bytes come from the worker, whose result is untrusted like the rest of it. Found and fixed here: the
worker's and the renderer's own camera checks used `re.match` with `$`, which also matches before a trailing
newline, so "/World\\n" passed them (the controller's pydantic check, a Rust regex, did refuse it).
Everything else held and is pinned down as a guard.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from harness import FAST_ENV, ControllerProcess, HttpWorker

from kitgate.protocol.render import RenderAskError, parse_request
from kitgate.render.errors import RenderError
from kitgate.render.types import RenderLimits, RenderRequest, check_request

SIDE = 64
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int = SIDE, height: int = SIDE, *, idat: bytes | None = None, extra: bytes = b"",
        tail: bytes = b"") -> bytes:
    """A PNG built by hand: IHDR (8-bit RGB), optional extra chunks, IDAT, IEND, then raw `tail` bytes."""
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    if idat is None:
        idat = zlib.compress((b"\x00" + b"\x80" * 3 * width) * height)
    return b"\x89PNG\r\n\x1a\n" + ihdr + extra + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"") + tail


@pytest.fixture(scope="module")
def ctl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControllerProcess]:
    with ControllerProcess(tmp_path_factory.mktemp("wave2-render"), env=FAST_ENV) as c:
        yield c


def _count(ctl: ControllerProcess) -> int:
    with ctl.admin() as a:
        return len(a.get("/v1/jobs", params={"limit": 500}).json()["jobs"])


# ---- the ask at submit (held) --------------------------------------------------------------------------
BAD_CAMERAS: list[Any] = [
    "/World/../Secret", "/World{a=b}", "World/Cam", "/World\n", "/World\x00x", "/W\u00f6rld", "//World", "/World/",
    "/" + "a/" * 600 + "b", ["/W"], "file:///etc/passwd", "/World.x", "/World[0]", "/World/Cam ",
]
BAD_ASKS: list[Any] = [
    {"width": -1, "height": SIDE}, {"width": 64.5, "height": SIDE}, {"width": "64px", "height": SIDE},
    {"width": 2**63, "height": SIDE}, {"width": 10**400, "height": SIDE}, {"width": 0, "height": SIDE},
    {"width": None, "height": SIDE}, {"height": SIDE}, [SIDE, SIDE], "64x64",
    *({"width": SIDE, "height": SIDE, "camera": camera} for camera in BAD_CAMERAS),
]


def test_malformed_render_asks_are_refused_before_anything_is_queued(ctl: ControllerProcess) -> None:
    before = _count(ctl)
    with ctl.admin() as a:
        for ask in BAD_ASKS:
            r = a.post("/v1/jobs", json={"code": "x = 1\n", "render": ask, "labels": ["nobody-serves-this"]})
            assert r.status_code == 422, (ask, r.text)
            assert r.json()["error"]["code"] == "validation_error", ask
    assert _count(ctl) == before


@pytest.mark.parametrize("width", [True, "64", 64.0])
def test_lax_json_numbers_are_coerced_to_a_plain_int_before_signing(ctl: ControllerProcess, width: Any) -> None:
    """pydantic's lax mode turns true/"64"/64.0 into an int; what is stored (and signed for the worker) is a
    real int within the caps, never the raw JSON value (the worker's own check refuses bools and strings)."""
    with ctl.admin() as a:
        r = a.post("/v1/jobs", json={"code": "x = 1\n", "render": {"width": width, "height": SIDE},
                                     "labels": ["nobody-serves-this"]})
        assert r.status_code == 202, r.text
        stored = r.json()["render"]["width"]
        assert type(stored) is int and stored == int(width)
        assert a.post(f"/v1/jobs/{r.json()['id']}/cancel").status_code == 200


def test_non_finite_numbers_in_a_render_ask_are_refused(ctl: ControllerProcess) -> None:
    for literal in (b"NaN", b"Infinity", b"-Infinity", b"1e999"):
        body = b'{"code": "x = 1\\n", "render": {"width": ' + literal + b', "height": 64}}'
        with ctl.admin() as a:
            r = a.post("/v1/jobs", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422, (literal, r.text)


# ---- the worker's and the renderer's own re-check (FIXED) ----------------------------------------------
@pytest.mark.parametrize("camera", ["/World\n", "/World/Cam\n", "/World\r\n"])
def test_the_worker_and_renderer_refuse_a_camera_with_a_trailing_newline(camera: str) -> None:
    """Was: `re.match(r"...$")` let "/World\\n" through both checks; a compromised controller's ask reached Sdf."""
    with pytest.raises(RenderAskError):
        parse_request({"width": SIDE, "height": SIDE, "camera": camera})
    with pytest.raises(RenderError) as refused:
        check_request(RenderRequest(SIDE, SIDE, camera), RenderLimits())
    assert refused.value.code == "BadRequest"
    assert parse_request({"width": SIDE, "height": SIDE, "camera": "/World/Cam"})["camera"] == "/World/Cam"
    check_request(RenderRequest(SIDE, SIDE, "/World/Cam"), RenderLimits())  # a plain path still passes


# ---- forged pictures from a worker (held) --------------------------------------------------------------
def _report_picture(ctl: ControllerProcess, picture: bytes, **entry: Any) -> tuple[str, dict[str, Any]]:
    """A job that asked for a SIDE x SIDE picture, claimed and reported by a hand-driven worker with `picture`."""
    label = "w2-pic-" + uuid.uuid4().hex[:8]
    with ctl.admin() as a:
        r = a.post("/v1/jobs", json={"code": "x = 1\n", "labels": [label], "render": {"width": SIDE, "height": SIDE}})
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
    w = HttpWorker(ctl, ctl.mint_token("worker"), label, labels=[label])
    try:
        claim = w.claim()
        assert claim is not None and claim["job_id"] == job_id
        render = {"ok": True, "png_base64": base64.b64encode(picture).decode(), **entry}
        assert w.report(claim, render=render).status_code == 200
    finally:
        w.close()
    with ctl.admin() as a:
        return job_id, a.get(f"/v1/jobs/{job_id}").json()


def test_a_decompression_bomb_is_stored_as_bytes_never_decoded(ctl: ControllerProcess) -> None:
    """IHDR says 64x64 but IDAT inflates to 32 MiB: the controller never inflates it (only the header is read)."""
    bomb = png(idat=zlib.compress(b"\x00" * (32 << 20), 9))
    assert len(bomb) < 128 * 1024
    job_id, job = _report_picture(ctl, bomb)
    assert job["result"]["render"]["ok"] is True and job["result"]["render"]["bytes"] == len(bomb)
    with ctl.admin() as a:
        r = a.get(f"/v1/jobs/{job_id}/image")
    assert r.status_code == 200 and r.content == bomb  # served as stored, not re-encoded or inflated
    assert r.headers["content-type"] == "image/png" and r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("name, picture", [
    ("html tail", png(tail=b"<html><script>alert(1)</script></html>")),
    ("script text chunk", png(extra=_chunk(b"tEXt", b"Comment\x00<script>alert(1)</script>"))),
    ("apng", png(extra=_chunk(b"acTL", struct.pack(">II", 2**31 - 1, 0)))),
], ids=["html-tail", "script-text-chunk", "apng"])
def test_hostile_pngs_are_only_ever_served_as_nosniff_png(ctl: ControllerProcess, name: str, picture: bytes) -> None:
    job_id, job = _report_picture(ctl, picture, sha256="0" * 64)  # a forged hash must not become the ETag
    assert job["result"]["render"]["sha256"] == hashlib.sha256(picture).hexdigest(), name
    with ctl.admin() as a:
        r = a.get(f"/v1/jobs/{job_id}/image")
    assert r.status_code == 200 and r.content == picture
    assert r.headers["content-type"] == "image/png" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["etag"] == f'"{hashlib.sha256(picture).hexdigest()}"'
    assert r.headers["content-disposition"] == f'inline; filename="{job_id}.png"'
    assert "public" not in r.headers["cache-control"]


@pytest.mark.parametrize("name, picture", [
    ("huge IHDR, tiny body", png(100_000, 100_000, idat=zlib.compress(b""))),
    ("IHDR not first", b"\x89PNG\r\n\x1a\n" + _chunk(b"tEXt", b"a\x00b") + png()[8:]),
    ("truncated", png()[:20]),
    ("GIF", b"GIF89a" + b"\x00" * 64),
    ("signature only", b"\x89PNG\r\n\x1a\n"),
], ids=["huge-ihdr", "ihdr-not-first", "truncated", "gif", "signature-only"])
def test_pngs_that_are_not_what_was_asked_become_a_render_error(ctl: ControllerProcess, name: str,
                                                                picture: bytes) -> None:
    job_id, job = _report_picture(ctl, picture)
    entry = job["result"]["render"]
    assert entry["ok"] is False and entry["error"]["code"] == "BadImage", (name, entry)
    assert job["status"] == "succeeded"  # the job's own outcome stands
    with ctl.admin() as a:
        r = a.get(f"/v1/jobs/{job_id}/image")
    assert r.status_code == 404 and r.json()["error"]["code"] == "image_not_found"


def test_bad_base64_and_oversized_pictures_never_reach_storage(ctl: ControllerProcess) -> None:
    label = "w2-pic-b64"
    with ctl.admin() as a:
        job_id = a.post("/v1/jobs", json={"code": "x = 1\n", "labels": [label],
                                          "render": {"width": SIDE, "height": SIDE}}).json()["id"]
    w = HttpWorker(ctl, ctl.mint_token("worker"), label, labels=[label])
    try:
        claim = w.claim()
        assert claim is not None and claim["job_id"] == job_id
        too_long = w.report(claim, render={"ok": True, "png_base64": "A" * (1 << 20)})
        assert too_long.status_code in (413, 422)  # over the wire ceiling: refused before it is decoded
        assert w.report(claim, render={"ok": True, "png_base64": "not base64!*"}).status_code == 200
    finally:
        w.close()
    with ctl.admin() as a:
        job = a.get(f"/v1/jobs/{job_id}").json()
        assert job["result"]["render"]["error"]["code"] == "BadImage"
        assert a.get(f"/v1/jobs/{job_id}/image").status_code == 404


# ---- the renderer child's answer is hostile input (FIXED) -------------------------------------------------
def test_a_renderer_child_that_floods_its_answer_is_cut_off_at_the_cap(tmp_path, monkeypatch) -> None:
    """Was: `communicate()` read the child's whole stdout into the worker's memory: a child taken over
    through a pxr/llvmpipe bug could write gigabytes for time_s + 30 s (a pipe is not bound by RLIMIT_FSIZE)."""
    import sys

    from kitgate.render import isolated

    marker = tmp_path / "wrote-everything"
    fake = tmp_path / "hostile-renderer"
    fake.write_text(
        "#!/bin/sh\n"
        f"exec {sys.executable} -c \"import os\n"
        "chunk = b'P' + b'\\\\x89PNG' * 16384\n"
        "for _ in range(1024):\n"  # 64 MiB, far past max_png_bytes
        "    os.write(1, chunk)\n"
        f"open('{marker}', 'w').close()\"\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    limits = RenderLimits(max_png_bytes=256 * 1024, time_s=20.0)
    with pytest.raises(RenderError) as refused:
        isolated.render_in_child("#usda 1.0\n", RenderRequest(SIDE, SIDE), limits)
    assert refused.value.code == "RenderTooLarge"
    assert not marker.exists()  # killed at the cap: it never got to write the rest
