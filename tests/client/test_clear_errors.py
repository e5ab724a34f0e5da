"""The mistakes people make get one clear line: no data dir, a --stage folder that does not exist, code
over the size limit (a policy refusal, exit 1), a chat model without tool calling, a missing token;
and the worker logs JSON lines when not on a terminal."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from typing import Any

import pytest
from harness import KITGATE, clean_env, run_kitgate


def test_token_create_without_data_dir_says_which_and_how(tmp_path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    proc = run_kitgate(["token", "create", "--scope", "jobs:read"], env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert f"created data dir {tmp_path / 'xdg' / 'kitgate'}" in proc.stderr
    assert "pass --data-dir DIR or set KITGATE_DATA_DIR" in proc.stderr
    assert proc.stdout.strip() and proc.stdout.strip() not in proc.stderr  # the token only on stdout
    listed = run_kitgate(["token", "list"], env=env, check=False)
    assert listed.returncode == 0 and "using data dir" in listed.stderr


def test_token_list_on_a_missing_data_dir_refuses(tmp_path) -> None:
    proc = run_kitgate(["token", "list", "--data-dir", str(tmp_path / "typo")], check=False)
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    assert not (tmp_path / "typo").exists()


def test_worker_refuses_a_missing_stage_folder_unless_asked(tmp_path) -> None:
    token = tmp_path / "w.token"
    token.write_text("not-a-real-token\n")
    token.chmod(0o600)
    stage = tmp_path / "no" / "such" / "scene.usda"
    proc = run_kitgate(["worker", "--controller", "http://127.0.0.1:9", "--token-file", str(token),
                        "--stage", str(stage)], check=False, timeout=60)
    assert proc.returncode == 2 and "--create-dirs" in proc.stderr and "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "no").exists()


def test_worker_logs_json_lines_when_not_on_a_terminal(tmp_path) -> None:
    token = tmp_path / "w.token"
    token.write_text("not-a-real-token\n")
    token.chmod(0o600)
    log = tmp_path / "worker.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([KITGATE, "worker", "--controller", "http://127.0.0.1:9", "--token-file", str(token),
                                 "--stage", str(tmp_path / "deep" / "scene.usda"), "--create-dirs",
                                 "--state-dir", str(tmp_path / "state"), "--backoff-max", "0.5"],
                                env=clean_env(), stdout=fh, stderr=fh)
        try:
            deadline = time.monotonic() + 60
            while "serving" not in log.read_text() and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.1)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert lines, "the worker logged nothing"
    assert all({"ts", "level", "logger", "msg"} <= set(rec) for rec in lines)
    assert any("serving" in rec["msg"] for rec in lines)
    assert (tmp_path / "deep").is_dir()  # --create-dirs made the folder


def test_code_over_the_size_limit_is_a_policy_refusal(live, tmp_path) -> None:
    script = tmp_path / "big.py"
    script.write_text("x = 1\n" + "# padding\n" * 20_000)
    env = {"KITGATE_URL": live.url, "KITGATE_TOKEN_FILE": str(live.token_file)}
    proc = run_kitgate(["submit", str(script)], env=env, check=False)
    assert proc.returncode == 1, proc.stderr  # README: 1 = the policy refused the code
    assert proc.stderr.startswith("error: code is") and "at most" in proc.stderr


def test_cli_errors_speak_to_people(live, tmp_path) -> None:
    script = tmp_path / "ok.py"
    script.write_text("x = 1\n")
    proc = run_kitgate(["submit", str(script)], env={"KITGATE_URL": live.url}, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no token configured") and "KITGATE_TOKEN_FILE" in proc.stderr
    assert "do not retry with other tools" not in proc.stderr  # the agents' wording stays in the agent tools
    proc = run_kitgate(["status", "j_x"], env={"KITGATE_URL": "http://127.0.0.1:9", "KITGATE_TOKEN": "abc"},
                       check=False, timeout=120)
    assert proc.returncode == 2 and "Is `kitgate serve` running there?" in proc.stderr


class _NoTools:
    """A chat model with no bind_tools at all."""

    def invoke(self, messages: Any) -> Any:
        raise AssertionError("never called")


def test_agent_needs_tool_calling_and_says_so(live) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from kitgate.client.agent import ToolCallingUnsupported, create_kit_agent

    with pytest.raises(ToolCallingUnsupported, match="_NoTools has no bind_tools"):
        create_kit_agent(_NoTools(), live.client())
    # a LangChain chat model whose class does not implement tool calling (BaseChatModel raises NotImplementedError)
    with pytest.raises(ToolCallingUnsupported, match="FakeListChatModel.bind_tools\\(\\) is not implemented"):
        create_kit_agent(FakeListChatModel(responses=["hi"]), live.client())
