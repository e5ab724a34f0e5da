"""The console's pure parts, without HTTP: the policy diff an approver reads, and the session table.

The diff is computed from the shipped policy files (real kitgate.sandbox.policy objects), so a policy
edit that widens `trusted` shows up in the approval queue without anyone updating a summary.
"""

from __future__ import annotations

import dataclasses

from kitgate.controller.console.policy_diff import diff_policy
from kitgate.controller.console.sessions import SessionStore
from kitgate.controller.security.principal import Principal
from kitgate.sandbox.policy import load_policy


def test_trusted_beyond_scene_edit_names_mode_modules_and_approval() -> None:
    trusted, base = load_policy("trusted"), load_policy("scene-edit")
    d = diff_policy(trusted, base)
    assert not d.same
    assert any("in-process" in w for w in d.wider), d.wider
    assert "every job waits for an operator's approval" in d.narrower
    # every module trusted allows that scene-edit does not is listed, with its names
    for module, rule in trusted.modules.items():
        extra = (set(rule.attributes) | set(rule.patterns)) - (
            set(base.modules[module].attributes) | set(base.modules[module].patterns) if module in base.modules
            else set())
        if extra:
            assert set(d.modules[module]) >= extra, module
    gone = sorted(set(base.modules) - set(trusted.modules))
    if gone:  # what trusted does NOT allow that the baseline does is said too
        assert f"no module {', '.join(gone)}" in d.narrower
    assert diff_policy(base, base).same


def test_a_widened_limit_and_new_builtin_show_as_wider() -> None:
    base = load_policy("scene-edit")
    wider = dataclasses.replace(base, name="wide", limits=dataclasses.replace(base.limits, memory_mb=4096),
                                builtins=base.builtins | {"vars"})
    d = diff_policy(wider, base)
    assert any(w.startswith("memory_mb 4096") for w in d.wider)
    assert d.builtins == ["vars"]
    readonly = diff_policy(load_policy("readonly"), base)
    assert any("read-only" in n for n in readonly.narrower)


def _principal(sub: str = "op") -> Principal:
    return Principal(sub=sub, kind="token", scopes=frozenset({"jobs:read"}), policies=None, token_id="t1")


def test_sessions_expire_with_their_credential_and_never_store_the_id() -> None:
    now = [1000.0]
    store = SessionStore(ttl_s=3600, max_sessions=10, clock=lambda: now[0])
    sid, session = store.create(_principal(), None, credential_expires_at=1060.0)
    assert session.expires_at == 1060.0  # the token's expiry, not the console TTL
    assert sid not in store._sessions  # keyed by the id's hash only
    assert store.get(sid) is session
    assert session.csrf_ok(session.csrf) and not session.csrf_ok(session.csrf[:-1] + "x") and not session.csrf_ok("")
    now[0] = 1060.0
    assert store.get(sid) is None and len(store) == 0
    assert store.get("x" * 500) is None


def test_a_full_session_table_evicts_expired_then_oldest() -> None:
    now = [0.0]
    store = SessionStore(ttl_s=100, max_sessions=2, clock=lambda: now[0])
    first, _ = store.create(_principal("a"), None, None)
    now[0] = 1.0
    second, _ = store.create(_principal("b"), None, None)
    now[0] = 2.0
    third, _ = store.create(_principal("c"), None, None)
    assert store.get(first) is None and store.get(second) is not None and store.get(third) is not None
    assert store.drop(second) and not store.drop(second)


def test_an_unchained_audit_record_shows_as_pending() -> None:
    """PostgreSQL's sequencer chains records after their commit: the job page may see one before it has a seq."""
    from kitgate.controller.console.views import audit_row

    pending = audit_row({"seq": None, "ts": 1.0, "event": "job_submitted", "actor": "a", "data": {"job_id": "j"},
                         "hash": None, "pending": True}, show_ip=False)
    chained = audit_row({"seq": 7, "ts": 1.0, "event": "job_submitted", "actor": "a", "data": {},
                         "hash": "ab" * 32}, show_ip=False)
    assert (pending["seq"], pending["hash"]) == ("pending", "")
    assert (chained["seq"], chained["hash"]) == (7, "ab" * 6)
