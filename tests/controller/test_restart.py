"""Durability: kill -9 the controller with queued and running jobs, restart on the same data dir."""

from __future__ import annotations

from harness import ControllerProcess, HttpWorker


def test_kill_9_loses_no_queued_job(tmp_path) -> None:
    env = {"KITGATE_HEARTBEAT_TIMEOUT_S": "2", "KITGATE_LOST_CHECK_INTERVAL_S": "0.1",
           "KITGATE_RATE_SUBMIT": "100000/minute", "KITGATE_RATE_WORKER": "100000/minute",
           "KITGATE_RATE_READ": "100000/minute"}
    ctl = ControllerProcess(tmp_path, env=env)
    try:
        operator = ctl.mint_token("jobs:submit", "jobs:read")
        worker_token = ctl.mint_token("worker")
        with ctl.client(operator) as op:
            ids = [op.post("/v1/jobs", json={"code": f"x = {i}\n", "idempotency_key": f"k{i}"}).json()["id"]
                   for i in range(12)]
        w = HttpWorker(ctl, worker_token, "w-before")
        running = w.claim()  # one job is mid-run when the controller dies
        w.close()
        assert running["job_id"] == ids[0]

        assert ctl.kill() == -9
        ctl.start()  # same data dir, new process, new port

        with ctl.client(operator) as op:  # tokens and signing keys survive too
            listed = {j["id"]: j for j in op.get("/v1/jobs", params={"limit": 100}).json()["jobs"]}
            assert set(ids) <= set(listed)
            assert [listed[i]["status"] for i in ids[1:]] == ["queued"] * 11
            assert listed[ids[0]]["status"] == "running"  # given a heartbeat window after the restart
            again = op.post("/v1/jobs", json={"code": "x = 3\n", "idempotency_key": "k3"}).json()
            assert again["id"] == ids[3]  # idempotency survives the restart

            w = HttpWorker(ctl, worker_token, "w-after")
            done = []
            while (claim := w.claim()) is not None:
                assert w.report(claim, stdout="ran").status_code == 200
                done.append(claim["job_id"])
            assert done == ids[1:]  # every queued job ran, in order, exactly once
            # the job that was running when the controller died is never re-run: its worker is gone
            final = op.get(f"/v1/jobs/{ids[0]}", params={"wait_s": 30}).json()
            assert final["status"] == "lost"
            w.close()
    finally:
        ctl.stop()


def test_running_job_survives_a_restart_if_its_worker_reports(tmp_path) -> None:
    ctl = ControllerProcess(tmp_path, env={"KITGATE_HEARTBEAT_TIMEOUT_S": "30"})
    try:
        operator = ctl.mint_token("jobs:submit", "jobs:read")
        worker_token = ctl.mint_token("worker")
        with ctl.client(operator) as op:
            job = op.post("/v1/jobs", json={"code": "x = 1\n"}).json()
        w = HttpWorker(ctl, worker_token, "w-survivor")
        claim = w.claim()
        w.close()
        ctl.kill()
        ctl.start()
        w = HttpWorker(ctl, worker_token, "w-survivor")
        assert w.heartbeat(claim).json()["cancel"] is False
        assert w.report(claim, stdout="finished across the restart").status_code == 200
        with ctl.client(operator) as op:
            assert op.get(f"/v1/jobs/{job['id']}").json()["status"] == "succeeded"
        w.close()
    finally:
        ctl.stop()
