"""KITGATE_ASSET_ROOT is a controller setting: it reaches the policies through Settings, not through the sandbox.

Why: the sandbox no longer reads the environment, so a controller that forgot to pass its setting would
silently show (and sign) policies without their relative asset roots. Real controller processes.
"""

from __future__ import annotations

from pathlib import Path

from harness import ControllerProcess, run_kitgate


def _asset_roots_count(ctl: ControllerProcess) -> int:
    with ctl.admin() as op:
        one = op.get("/v1/policies/scene-edit")
        listed = {p["name"]: p for p in op.get("/v1/policies").json()["policies"]}
    assert one.status_code == 200, one.text
    assert listed["scene-edit"]["asset_roots_count"] == one.json()["asset_roots_count"]  # both via the service
    return int(one.json()["asset_roots_count"])


def test_asset_root_setting_anchors_relative_roots(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    with ControllerProcess(tmp_path / "with", env={"KITGATE_ASSET_ROOT": str(assets)}) as ctl:
        assert _asset_roots_count(ctl) == 1  # scene-edit's "." under the configured root
    with ControllerProcess(tmp_path / "without") as ctl:
        assert _asset_roots_count(ctl) == 0  # no setting: relative roots are dropped (deny by default)


def test_asset_root_that_is_not_a_folder_stops_the_start_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    proc = run_kitgate(["serve", "--port", "0", "--data-dir", str(tmp_path / "data")],
                       env={"KITGATE_ASSET_ROOT": str(missing)}, timeout=60, check=False)
    assert proc.returncode != 0
    assert "KITGATE_ASSET_ROOT" in proc.stderr and "is not a directory" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
