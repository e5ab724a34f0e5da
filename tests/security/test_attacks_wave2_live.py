"""Attacks on the live-output channel (wave 2): a compromised child's pipe to the fork server, and a job
that prints as fast as it can through a real worker and controller.

Why: the child's live pipe is a new channel out of the sandbox. A child that escaped the language layer
can write any bytes to it, at any speed, and never finish a character; the fork server must forward only
text, only up to the job's cap, and must keep draining so the child is never stalled (a stalled child
would hold the wall-clock kill hostage). A flooding job must cost the watchers, the worker and the
controller no more than its policy's output cap, and must not delay another owner's job.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness import FAST_ENV, ControllerProcess
from worker_harness import WorkerProcess

from kitgate.sandbox.process.forkserver import _LiveForward, recv_frame

CAP = 64 * 1024
FLOOD = 4 << 20
FORGED = '{"ok": true, "complete": true, "exit_code": 0, "stderr": ""}'

HOSTILE_CHILD = r"""
import os, struct, sys
fd = int(sys.argv[1])
os.set_blocking(fd, True)
forged = sys.argv[3].encode()
for piece in (struct.pack(">I", len(forged)) + forged,   # a forged fork-server frame
              b"\xff\xfe\x00\x00", b"\xed\xa0\x80",        # invalid UTF-8, NULs, an encoded lone surrogate
              b"\xc0\xaf", b"\xf4\x90\x80\x80",           # an overlong '/', a code point past U+10FFFF
              b"A" * int(sys.argv[2]),                     # a flood far past the cap
              b"\xe2\x82"):                                # and a character that never ends
    os.write(fd, piece)
"""


def _frames(sock: socket.socket, out: list[bytes]) -> None:
    while True:
        frame = recv_frame(sock, 1 << 20)
        if frame is None:
            return
        out.append(frame)


def test_a_hostile_child_on_the_live_pipe_gets_text_only_capped_and_is_never_stalled() -> None:
    r, w = os.pipe()
    os.set_blocking(r, False)
    child = subprocess.Popen([sys.executable, "-c", HOSTILE_CHILD, str(w), str(FLOOD), FORGED], pass_fds=(w,))
    os.close(w)
    ours, parent = socket.socketpair()
    frames: list[bytes] = []
    reader = threading.Thread(target=_frames, args=(parent, frames), daemon=True)
    reader.start()
    forward = _LiveForward(ours, r, CAP)
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(r, selectors.EVENT_READ)
            open_ = True
            while open_:
                assert sel.select(60), "the hostile child's pipe went quiet without EOF"
                open_ = forward.pump()
        assert child.wait(60) == 0  # it wrote 4 MiB into a 64 KiB cap: draining never held it up
    finally:
        child.kill()
        os.close(r)
        ours.close()
    reader.join(30)
    parent.close()
    texts = []
    for frame in frames:
        data = json.loads(frame)
        assert isinstance(data, dict) and set(data) == {"live"} and isinstance(data["live"], str)
        texts.append(data["live"])
    text = "".join(texts)
    text.encode("utf-8")  # no lone surrogates: strictly encodable text
    assert len(text) <= CAP  # one character at most per byte read, and no more bytes than the cap
    assert "\ufffd" in text and "A" * 1000 in text  # garbage became replacement characters, text stayed text
    assert text.startswith((struct.pack(">I", len(FORGED)) + FORGED.encode()).decode())  # a forged frame is text


# ---- a job that prints as fast as it can, through a real worker ---------------------------------------
FLOODER = (  # prints for a while first (a job that ends within ~0.1 s streams nothing), then 100 MB at once
    "import datetime\nt0 = datetime.datetime.now()\nline = 'x' * 1000\n"
    "while (datetime.datetime.now() - t0).total_seconds() < 0.6:\n    print('warming up')\n"
    "for i in range(100000):\n    print(line)\n"
)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ControllerProcess, Path]]:
    base = tmp_path_factory.mktemp("wave2-flood")
    with ControllerProcess(base / "ctl", env={**FAST_ENV, "KITGATE_EVENT_HEARTBEAT_S": "0.5"}) as ctl:
        token_file = base / "worker.token"
        token_file.write_text(ctl.mint_token("worker"))
        token_file.chmod(0o600)
        with WorkerProcess(ctl.url, token_file, base / "scene.usda", save=False):
            yield ctl, base


def test_a_job_printing_100_mb_costs_watchers_no_more_than_its_cap(rig: tuple[ControllerProcess, Path]) -> None:
    ctl, _ = rig
    flooder = ctl.mint_token("jobs:submit", "jobs:read", sub="w2-flooder")
    bystander = ctl.mint_token("jobs:submit", "jobs:read", sub="w2-bystander")
    outputs: list[dict] = []
    opened = threading.Event()

    def watch() -> None:
        with httpx.stream("GET", f"{ctl.url}/v1/events", headers={"Authorization": f"Bearer {flooder}"},
                          timeout=httpx.Timeout(30.0, read=120.0)) as resp:
            opened.set()
            for line in resp.iter_lines():
                if line.startswith("data:"):
                    ev = json.loads(line[5:])
                    if ev["type"] == "output":
                        outputs.append(ev)
                    if ev["type"] == "finished":
                        return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert opened.wait(30)
    with ctl.client(flooder, timeout=180) as c:
        flood = c.post("/v1/jobs", json={"code": FLOODER, "wait_s": 120})
    with ctl.client(bystander, timeout=180) as c:
        after = c.post("/v1/jobs", json={"code": "result = 41 + 1\n", "wait_s": 120})
    assert after.status_code == 200 and after.json()["status"] == "succeeded"  # the next owner's job still ran
    job = flood.json()
    assert job["status"] in {"succeeded", "failed"}, job["status"]
    watcher.join(60)
    with ctl.client(flooder) as c:
        limits = c.get(f"/v1/policies/{job['policy']}").json()["limits"]
    budget = limits["output_bytes"]
    result = job["result"]
    assert len(result["stdout"].encode()) <= budget  # the record is capped ...
    assert result["stdout_truncated"] > 0 or result.get("limit") == "output"
    live = sum(len(ev["data"]["text"].encode()) for ev in outputs)
    assert outputs and "warming up" in outputs[0]["data"]["text"]  # it was streamed live ...
    assert live <= budget  # ... and so is what watchers were sent


# ---- the worker reading a hostile controller's answer (FIXED) ---------------------------------------------
def test_a_non_ascii_content_length_from_the_controller_is_no_crash() -> None:
    """Was: the worker's transport checked `declared.isdigit()` then `int(declared)`; "Content-Length: ²" (latin-1
    0xB2) passes the first and raises ValueError from the second, outside the TransportError contract."""
    from kitgate.worker.transport import ControllerTransport, TransportError

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \xb2\r\n"
                         b"Connection: close\r\n\r\n{}")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    transport = ControllerTransport(f"http://127.0.0.1:{port}", "t", timeout_s=10)
    try:
        resp = transport.request("GET", "/healthz")
        assert resp.status == 200
    except TransportError:
        pass  # refusing the answer is fine too; any other exception is not
    finally:
        thread.join(10)
        server.close()
