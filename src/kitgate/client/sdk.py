"""Python SDK for the kitgate controller: sync ``KitgateClient`` and ``AsyncKitgateClient`` on httpx.

Both speak the public HTTP contract only (the same path every other client takes, same scopes).
Retries happen only where repeating a request cannot run code twice:

* connection failures (the request never reached the controller) -- any request;
* 429 -- the rate limiter refused before anything happened; we honour Retry-After up to a cap;
* read timeouts / 502-504 -- only for reads, validation, and submits that carry an idempotency
  key (the controller then returns the existing job instead of queueing a duplicate).

Responses are read with a byte ceiling so a broken or hostile endpoint cannot exhaust memory.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from kitgate.client.config import ClientSettings, TokenError
from kitgate.client.errors import (
    BadResponse,
    ConnectionFailed,
    KitgateError,
    PolicyViolation,
    RateLimited,
    ResponseTooLarge,
    ServerError,
    WaitTimeout,
    error_from_response,
)
from kitgate.client.models import JobCode, JobList, JobProgress, JobView, LiveEvent, ValidateResponse
from kitgate.client.sse import SseParser
from kitgate.protocol.render import PNG_SIGNATURE, RenderAskError
from kitgate.protocol.render import parse_request as parse_render
from kitgate.protocol.wire import POLICY_NAME_RE

__all__ = ["AsyncKitgateClient", "KitgateClient", "RetryPolicy", "new_idempotency_key"]

_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TOKEN_RE = re.compile(r"^[\x21-\x7e]{1,8192}$")
_POLICY_RE = POLICY_NAME_RE
_RETRYABLE_STATUS = frozenset({502, 503, 504})
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_LONG_POLL_S = 30.0  # below the controller's default max_wait_s (60)
_UPDATE_POLL_S = 2.0  # with an on_update callback: how often the queue position / worker is looked up
# Called with the job (first right after submit, so the id is known at once) and its progress (None when the
# controller cannot say), each time the wait looks again.
OnUpdate = Callable[[JobView, JobProgress | None], None]


class _Retry(Enum):
    CONNECT = "connect"  # only failures that prove the request was not processed
    IDEMPOTENT = "idempotent"  # also timeouts and gateway errors: repeating is harmless


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # total tries, including the first
    backoff_s: float = 0.2  # first pause; doubles each time
    max_backoff_s: float = 5.0
    max_retry_after_s: float = 30.0  # a longer Retry-After raises RateLimited instead of sleeping

    def delay(self, attempt: int) -> float:
        return min(self.max_backoff_s, self.backoff_s * (2**attempt))


def new_idempotency_key() -> str:
    """One per logical submit: retries of that submit reuse it, a new submit gets a new one."""
    return f"sdk-{uuid.uuid4().hex}"


def _check_id(job_id: str) -> str:
    if not isinstance(job_id, str) or not _ID_RE.match(job_id):
        raise KitgateError("job id must be 1-64 characters of A-Z a-z 0-9 _ -", code="invalid_job_id")
    return job_id


def _check_policy(name: str) -> str:
    if not isinstance(name, str) or not _POLICY_RE.match(name):
        raise KitgateError("policy name must match [a-z0-9][a-z0-9_-]{0,63}", code="invalid_policy_name")
    return name


def _warn_plain_http(url: str) -> None:
    """Bearer tokens over plain HTTP are readable on the wire; fine on loopback, worth a warning elsewhere."""
    parsed = urlsplit(url)
    host = parsed.hostname or ""
    if parsed.scheme != "http" or host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    warnings.warn(f"kitgate: sending the bearer token to {host} over plain HTTP; use https://",
                  stacklevel=4)


def _model(cls: type[BaseModel], body: Any) -> Any:
    try:
        return cls.model_validate(body)
    except ValidationError as exc:
        raise BadResponse(f"controller answered with an unexpected {cls.__name__} shape ({exc.error_count()} errors)",
                          code="bad_response") from None


class _Core:
    """Everything the sync and async clients share: configuration, request shaping, decisions."""

    def __init__(
        self,
        url: str | None,
        token: str | None,
        *,
        timeout_s: float | None,
        retry: RetryPolicy | None,
        max_response_bytes: int,
    ) -> None:
        settings = ClientSettings(**({"url": url} if url else {}))
        url = settings.url
        if token is None:
            token = settings.resolve_token()
        if timeout_s is None:
            timeout_s = settings.timeout_s
        if token is not None:
            token = token.strip() or None
            if token is not None and not _TOKEN_RE.match(token):
                # Never echo the value: it may be a real secret pasted in the wrong place.
                raise TokenError("the token must be one line of printable ASCII without spaces")
        _warn_plain_http(url)
        self.base_url = url
        self._token = token
        self.timeout_s = float(timeout_s)
        self.retry = retry or RetryPolicy()
        self.max_response_bytes = max_response_bytes

    def __repr__(self) -> str:  # never the token
        return f"{type(self).__name__}(url={self.base_url!r}, token={'set' if self._token else 'unset'})"

    def headers(self) -> dict[str, str]:
        h = {"Accept": "application/json", "User-Agent": "kitgate-sdk/0.1"}
        if self._token:
            h["Authorization"] = f"Bearer {self._token}"
        return h

    def timeout(self, extra_s: float) -> httpx.Timeout:
        return httpx.Timeout(self.timeout_s + extra_s, connect=min(10.0, self.timeout_s))

    def read_capped(self, chunks: list[bytes], chunk: bytes, total: int) -> int:
        total += len(chunk)
        if total > self.max_response_bytes:
            raise ResponseTooLarge(f"response exceeds {self.max_response_bytes} bytes", code="response_too_large")
        chunks.append(chunk)
        return total

    def check_length(self, resp: httpx.Response) -> None:
        cl = resp.headers.get("content-length")
        if cl and cl.isdigit() and int(cl) > self.max_response_bytes:
            raise ResponseTooLarge(
                f"response of {cl} bytes exceeds {self.max_response_bytes}", code="response_too_large"
            )

    @staticmethod
    def decode(status: int, headers: httpx.Headers, raw: bytes) -> Any:
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                if status < 400:
                    raise BadResponse(f"controller answered HTTP {status} with non-JSON", code="bad_response") from None
        if status >= 400:
            raise error_from_response(status, body, dict(headers))
        return body

    def transport_retry(self, exc: httpx.HTTPError, mode: _Retry, attempt: int) -> float:
        """Pause before the next try, or raise ConnectionFailed / ServerError when we must not retry."""
        not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        retryable = not_sent or (mode is _Retry.IDEMPOTENT and isinstance(exc, httpx.TransportError))
        if retryable and attempt + 1 < self.retry.attempts:
            return self.retry.delay(attempt)
        what = "could not connect to" if not_sent else "lost the connection to"
        # The exception text names the URL, never headers; keep only the class name to be sure.
        raise ConnectionFailed(f"{what} the controller at {self.base_url} ({type(exc).__name__})",
                               code="unreachable") from None

    def error_retry(self, err: KitgateError, mode: _Retry, attempt: int) -> float:
        if attempt + 1 >= self.retry.attempts:
            raise err
        if isinstance(err, RateLimited):
            wait = err.retry_after if err.retry_after is not None else self.retry.delay(attempt)
            if wait > self.retry.max_retry_after_s:
                raise err
            return wait
        if isinstance(err, ServerError) and mode is _Retry.IDEMPOTENT and err.status in _RETRYABLE_STATUS:
            return self.retry.delay(attempt)
        raise err

    def submit_body(
        self,
        code: str,
        policy: str | None,
        timeout_s: float | None,
        labels: list[str] | None,
        wait_s: float | None,
        idempotency_key: str | None,
        max_retries: int | None,
        render: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        if not isinstance(code, str) or not code.strip():
            raise KitgateError("code must be a non-empty string", code="invalid_code")
        body: dict[str, Any] = {"code": code, "idempotency_key": idempotency_key or new_idempotency_key()}
        if policy is not None:
            body["policy"] = _check_policy(policy)
        if timeout_s is not None:
            body["timeout_s"] = timeout_s
        if labels:
            body["labels"] = list(labels)
        if wait_s is not None:
            body["wait_s"] = wait_s
        if max_retries is not None:
            body["max_retries"] = max_retries
        if render is not None:
            try:  # the wire's own rules (kitgate.protocol.render), checked before anything is sent
                body["render"] = parse_render({k: v for k, v in dict(render).items() if v is not None})
            except RenderAskError as exc:
                raise KitgateError(str(exc), code="invalid_render") from None
            if body["render"]["camera"] is None:
                del body["render"]["camera"]
        return body

    @staticmethod
    def decode_image(status: int, headers: httpx.Headers, raw: bytes) -> bytes:
        """GET /v1/jobs/{id}/image: the PNG, or the error envelope raised as a KitgateError."""
        if status >= 400:
            _Core.decode(status, headers, raw)
        if not raw.startswith(PNG_SIGNATURE):
            raise BadResponse(f"controller answered HTTP {status} with something that is not a PNG",
                              code="bad_response")
        return raw

    @staticmethod
    def wait_timeout(job: JobView, progress: JobProgress | None, waited_s: float) -> WaitTimeout:
        """Says how long the caller really waited, and what the job is waiting for."""
        from kitgate.client.results import describe_progress

        return WaitTimeout(
            f"job {job.id} is still {job.status.value} after {waited_s:.1f} s ({describe_progress(job, progress)})",
            job=job, progress=progress,
        )

    @staticmethod
    def validate_fallback(code: str, policy: str | None, err: PolicyViolation) -> ValidateResponse:
        """Some deployments answer /v1/validate violations with 422; give callers one shape."""
        import hashlib

        return ValidateResponse(
            ok=False,
            policy=str(err.details.get("policy") or policy or ""),
            policy_digest=str(err.details.get("policy_digest") or ""),
            code_sha256=hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest(),
            violations=err.violations,
        )

    @staticmethod
    def policies_list(body: Any) -> list[dict[str, Any]]:
        items = body.get("policies") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise BadResponse("controller answered /v1/policies with an unexpected shape", code="bad_response")
        return [p for p in items if isinstance(p, dict)]


_EVENTS_READ_S = 60.0  # the controller pings every 15 s (KITGATE_EVENT_HEARTBEAT_S): silence this long is a dead link


class _EventCursor:
    """Where an `events()` stream is: the last event id (resumed after on reconnect), its filter, its deadline."""

    def __init__(self, core: _Core, job_id: str | None, last_event_id: int | None, timeout_s: float | None) -> None:
        self.core = core
        self.job_id = _check_id(job_id) if job_id is not None else None
        if last_event_id is not None and (not isinstance(last_event_id, int) or last_event_id < 0):
            raise ValueError("last_event_id must be a non-negative int (the `id` of an event seen before)")
        # one job's stream replays that job's retained events from the start, so a job that already ran is seen
        self.last = last_event_id if last_event_id is not None or self.job_id is None else 0
        self.deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self.timeout_s = timeout_s
        self.attempt = 0

    def request(self) -> tuple[dict[str, str], dict[str, str], httpx.Timeout]:
        headers = {**self.core.headers(), "Accept": "text/event-stream"}
        if self.last is not None:
            headers["Last-Event-ID"] = str(self.last)
        params = {"job_id": self.job_id} if self.job_id else {}
        read = _EVENTS_READ_S if self.deadline is None else max(0.1, min(_EVENTS_READ_S, self.remaining()))
        return headers, params, httpx.Timeout(read, connect=min(10.0, self.core.timeout_s))

    def remaining(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    def check_deadline(self) -> None:
        if self.remaining() <= 0:
            raise WaitTimeout(f"no end of the event stream within {self.timeout_s:g}s", job=None)

    def seen(self, ev: LiveEvent) -> bool:
        """Record `ev`; True when the stream is done (the watched job finished)."""
        self.attempt = 0
        if ev.type != "gap":
            self.last = ev.id
        return self.job_id is not None and ev.type == "finished" and ev.job_id == self.job_id


def _poll_interval(i: int) -> float:
    """Long-poll window between status checks: short at first (to see queued -> running), then 5 s."""
    return min(5.0, 0.25 * (2**i))


class KitgateClient:
    """Blocking client. Configure explicitly or from KITGATE_URL / KITGATE_TOKEN / KITGATE_TOKEN_FILE."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout_s: float | None = None,
        retry: RetryPolicy | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._core = _Core(url, token, timeout_s=timeout_s, retry=retry, max_response_bytes=max_response_bytes)
        self._http = httpx.Client(base_url=self._core.base_url, transport=transport, follow_redirects=False)

    @classmethod
    def from_env(cls, **kw: Any) -> KitgateClient:
        return cls(**kw)

    @property
    def url(self) -> str:
        return self._core.base_url

    def __repr__(self) -> str:
        return repr(self._core)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KitgateClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------------------
    def _once(self, method: str, path: str, json_body: Any, params: Any, extra_s: float,
              decode: Callable[[int, httpx.Headers, bytes], Any] | None = None) -> Any:
        core = self._core
        with self._http.stream(
            method, path, json=json_body, params=params, headers=core.headers(), timeout=core.timeout(extra_s)
        ) as resp:
            core.check_length(resp)
            chunks: list[bytes] = []
            total = 0
            for chunk in resp.iter_bytes():
                total = core.read_capped(chunks, chunk, total)
            return (decode or core.decode)(resp.status_code, resp.headers, b"".join(chunks))

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Any = None,
        mode: _Retry = _Retry.CONNECT,
        extra_s: float = 0.0,
        decode: Callable[[int, httpx.Headers, bytes], Any] | None = None,
    ) -> Any:
        attempt = 0
        while True:
            try:
                return self._once(method, path, json_body, params, extra_s, decode)
            except httpx.HTTPError as exc:
                pause = self._core.transport_retry(exc, mode, attempt)
            except (RateLimited, ServerError) as err:
                pause = self._core.error_retry(err, mode, attempt)
            attempt += 1
            time.sleep(pause)

    # -- API -------------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._request("GET", "/healthz", mode=_Retry.IDEMPOTENT) or {}

    def submit(
        self,
        code: str,
        *,
        policy: str | None = None,
        timeout_s: float | None = None,
        labels: list[str] | None = None,
        wait_s: float | None = None,
        idempotency_key: str | None = None,
        max_retries: int | None = None,
        render: Mapping[str, Any] | None = None,
    ) -> JobView:
        """Queue code (202) or, with ``wait_s``, get the finished job if it ends in time.

        ``render={"width": 512, "height": 512, "camera": "/World/Cam"}`` asks for a picture of the result
        (fetch it with ``image(job_id)``). Raises PolicyViolation (nothing queued) when the policy refuses
        the code, and KitgateError code ``render_too_large``/``render_not_allowed`` for a picture over its caps.
        """
        body = self._core.submit_body(code, policy, timeout_s, labels, wait_s, idempotency_key, max_retries, render)
        data = self._request("POST", "/v1/jobs", json_body=body, mode=_Retry.IDEMPOTENT, extra_s=wait_s or 0.0)
        return _model(JobView, data)

    def validate(self, code: str, *, policy: str | None = None) -> ValidateResponse:
        body: dict[str, Any] = {"code": code}
        if policy is not None:
            body["policy"] = _check_policy(policy)
        try:
            data = self._request("POST", "/v1/validate", json_body=body, mode=_Retry.IDEMPOTENT)
        except PolicyViolation as err:
            return self._core.validate_fallback(code, policy, err)
        return _model(ValidateResponse, data)

    def status(self, job_id: str, *, wait_s: float | None = None) -> JobView:
        """The job now, or (with ``wait_s``) as soon as it is terminal, at most ``wait_s`` later."""
        params = {"wait_s": round(wait_s, 3)} if wait_s else None
        data = self._request(
            "GET", f"/v1/jobs/{_check_id(job_id)}", params=params, mode=_Retry.IDEMPOTENT, extra_s=wait_s or 0.0
        )
        return _model(JobView, data)

    get_job = status

    def cancel(self, job_id: str) -> JobView:
        data = self._request("POST", f"/v1/jobs/{_check_id(job_id)}/cancel", mode=_Retry.CONNECT)
        return _model(JobView, data)

    def list_jobs(self, *, limit: int | None = None, cursor: str | None = None, status: str | None = None) -> JobList:
        params = {k: v for k, v in {"limit": limit, "cursor": cursor, "status": status}.items() if v is not None}
        return _model(JobList, self._request("GET", "/v1/jobs", params=params, mode=_Retry.IDEMPOTENT))

    def policies(self) -> list[dict[str, Any]]:
        return self._core.policies_list(self._request("GET", "/v1/policies", mode=_Retry.IDEMPOTENT))

    def policy(self, name: str) -> dict[str, Any]:
        data = self._request("GET", f"/v1/policies/{_check_policy(name)}", mode=_Retry.IDEMPOTENT)
        if not isinstance(data, dict):
            raise BadResponse("controller answered /v1/policies/{name} with an unexpected shape", code="bad_response")
        return data

    def watch(self, job_id: str, *, timeout_s: float = 300.0) -> Iterator[JobView]:
        """Yield the job each time its status changes; ends after the terminal status."""
        deadline = time.monotonic() + timeout_s
        last = None
        i = 0
        wait_s: float | None = None
        while True:
            job = self.status(job_id, wait_s=wait_s)
            if job.status != last:
                last = job.status
                i = 0
                yield job
            if job.status.terminal:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout(f"job {job_id} still {job.status.value} after {timeout_s:g}s", job=job)
            wait_s = min(_poll_interval(i), remaining)  # the server answers early when the job ends
            i += 1

    def events(self, job_id: str | None = None, *, last_event_id: int | None = None,
               timeout_s: float | None = None) -> Iterator[LiveEvent]:
        """Live job events as they happen (`GET /v1/events`, Server-Sent Events), scoped by the token.

        With `job_id`: that job's events (those still retained first), ending after its `finished` event.
        Without: every event the token may see, until the caller stops iterating. A dropped stream is
        reopened after the last event seen (Last-Event-ID), so nothing still retained is missed; a `gap`
        event says the controller may no longer hold some (then `status()` has the truth). `timeout_s`:
        WaitTimeout when the stream has not ended by then (None: no limit).
        """
        cur = _EventCursor(self._core, job_id, last_event_id, timeout_s)
        while True:
            cur.check_deadline()
            headers, params, timeout = cur.request()
            try:
                with self._http.stream("GET", "/v1/events", params=params, headers=headers, timeout=timeout) as resp:
                    if resp.status_code != 200:
                        self._core.decode(resp.status_code, resp.headers, resp.read()[: self._core.max_response_bytes])
                        raise BadResponse(f"/v1/events answered HTTP {resp.status_code}", code="bad_response")
                    parser = SseParser()
                    for line in resp.iter_lines():
                        ev = parser.feed(line)
                        if ev is not None:
                            done = cur.seen(ev)
                            yield ev
                            if done or (ev.type == "gap" and cur.job_id and self.status(cur.job_id).status.terminal):
                                return
                        cur.check_deadline()
            except httpx.ReadTimeout:
                cur.check_deadline()
            except httpx.HTTPError as exc:
                pause = self._core.transport_retry(exc, _Retry.IDEMPOTENT, cur.attempt)
                cur.attempt += 1
                time.sleep(pause)
            except (RateLimited, ServerError) as err:
                pause = self._core.error_retry(err, _Retry.IDEMPOTENT, cur.attempt)
                cur.attempt += 1
                time.sleep(pause)

    def progress(self, job_id: str) -> JobProgress | None:
        """Queue position and connected/matching workers, or the running worker; None if not available."""
        try:
            data = self._request("GET", f"/v1/jobs/{_check_id(job_id)}/progress", mode=_Retry.IDEMPOTENT)
        except (BadResponse, KitgateError) as err:
            if isinstance(err, ConnectionFailed):
                raise
            return None
        try:
            return JobProgress.model_validate(data)
        except ValidationError:
            return None

    def wait(self, job_id: str, *, timeout_s: float = 300.0, on_update: OnUpdate | None = None) -> JobView:
        """Block until the job is terminal; WaitTimeout (job untouched, with its progress) when it is not by then.

        ``on_update(job, progress)`` is called at once and then every couple of seconds while it waits.
        """
        return self._wait(self.status(job_id), time.monotonic(), timeout_s, on_update)

    def _wait(self, job: JobView, started: float, timeout_s: float, on_update: OnUpdate | None) -> JobView:
        deadline = started + timeout_s
        progress: JobProgress | None = None
        while not job.status.terminal:
            if on_update is not None:
                progress = self.progress(job.id)
                on_update(job, progress)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._core.wait_timeout(job, progress or self.progress(job.id), time.monotonic() - started)
            window = _UPDATE_POLL_S if on_update is not None else _LONG_POLL_S
            job = self.status(job.id, wait_s=min(remaining, window))
        return job

    def execute(
        self,
        code: str,
        *,
        policy: str | None = None,
        timeout_s: float = 120.0,
        labels: list[str] | None = None,
        on_update: OnUpdate | None = None,
        render: Mapping[str, Any] | None = None,
    ) -> JobView:
        """Submit and wait. Without ``on_update`` the server holds the submit while it can; with it, the
        callback sees the job id at once and the job's progress while it waits."""
        start = time.monotonic()
        first_wait = 0.0 if on_update is not None else min(timeout_s, _LONG_POLL_S)
        job = self.submit(code, policy=policy, labels=labels, wait_s=first_wait or None, render=render)
        if job.status.terminal:
            return job
        return self._wait(job, start, timeout_s, on_update)

    def image(self, job_id: str) -> bytes:
        """The PNG a job asked for with ``render``. NotFound (code ``image_not_found``) says why there is none:
        no render asked, the job not finished yet, or the renderer's error and hint."""
        return self._request("GET", f"/v1/jobs/{_check_id(job_id)}/image", mode=_Retry.IDEMPOTENT,
                             decode=self._core.decode_image)

    def approve(self, job_id: str) -> JobView:
        """Release a job that waits for approval (admin)."""
        return _model(JobView, self._request("POST", f"/v1/jobs/{_check_id(job_id)}/approve"))

    def reject(self, job_id: str, reason: str) -> JobView:
        """Refuse a queued or pending job (admin): it ends ``rejected`` with the reason as its error."""
        body = {"reason": reason}
        return _model(JobView, self._request("POST", f"/v1/jobs/{_check_id(job_id)}/reject", json_body=body))

    def job_code(self, job_id: str) -> JobCode:
        data = self._request("GET", f"/v1/jobs/{_check_id(job_id)}/code", mode=_Retry.IDEMPOTENT)
        return _model(JobCode, data)

    def workers(self) -> list[dict[str, Any]]:
        """Workers this controller has seen, with ``presence`` connected / silent / stopped (admin)."""
        data = self._request("GET", "/v1/workers", mode=_Retry.IDEMPOTENT)
        if not isinstance(data, dict) or not isinstance(data.get("workers"), list):
            raise BadResponse("controller answered /v1/workers with an unexpected shape", code="bad_response")
        return data["workers"]

    def audit(self, **params: Any) -> dict[str, Any]:
        """One page of the audit trail (admin): ``request_id``, ``event``, ``actor``, ``since_seq``, ``since_ts``,
        ``limit``."""
        query = {k: v for k, v in params.items() if v is not None}
        data = self._request("GET", "/v1/audit", params=query, mode=_Retry.IDEMPOTENT)
        if not isinstance(data, dict) or not isinstance(data.get("records"), list):
            raise BadResponse("controller answered /v1/audit with an unexpected shape", code="bad_response")
        return data


class AsyncKitgateClient:
    """The same API as ``KitgateClient`` with ``async`` methods (``watch`` is an async iterator)."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout_s: float | None = None,
        retry: RetryPolicy | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._core = _Core(url, token, timeout_s=timeout_s, retry=retry, max_response_bytes=max_response_bytes)
        self._http = httpx.AsyncClient(base_url=self._core.base_url, transport=transport, follow_redirects=False)

    @property
    def url(self) -> str:
        return self._core.base_url

    def __repr__(self) -> str:
        return repr(self._core)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncKitgateClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _once(self, method: str, path: str, json_body: Any, params: Any, extra_s: float,
                    decode: Callable[[int, httpx.Headers, bytes], Any] | None = None) -> Any:
        core = self._core
        async with self._http.stream(
            method, path, json=json_body, params=params, headers=core.headers(), timeout=core.timeout(extra_s)
        ) as resp:
            core.check_length(resp)
            chunks: list[bytes] = []
            total = 0
            async for chunk in resp.aiter_bytes():
                total = core.read_capped(chunks, chunk, total)
            return (decode or core.decode)(resp.status_code, resp.headers, b"".join(chunks))

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Any = None,
        mode: _Retry = _Retry.CONNECT,
        extra_s: float = 0.0,
        decode: Callable[[int, httpx.Headers, bytes], Any] | None = None,
    ) -> Any:
        attempt = 0
        while True:
            try:
                return await self._once(method, path, json_body, params, extra_s, decode)
            except httpx.HTTPError as exc:
                pause = self._core.transport_retry(exc, mode, attempt)
            except (RateLimited, ServerError) as err:
                pause = self._core.error_retry(err, mode, attempt)
            attempt += 1
            await asyncio.sleep(pause)

    async def health(self) -> dict[str, Any]:
        return await self._request("GET", "/healthz", mode=_Retry.IDEMPOTENT) or {}

    async def submit(
        self,
        code: str,
        *,
        policy: str | None = None,
        timeout_s: float | None = None,
        labels: list[str] | None = None,
        wait_s: float | None = None,
        idempotency_key: str | None = None,
        max_retries: int | None = None,
        render: Mapping[str, Any] | None = None,
    ) -> JobView:
        body = self._core.submit_body(code, policy, timeout_s, labels, wait_s, idempotency_key, max_retries, render)
        data = await self._request("POST", "/v1/jobs", json_body=body, mode=_Retry.IDEMPOTENT, extra_s=wait_s or 0.0)
        return _model(JobView, data)

    async def validate(self, code: str, *, policy: str | None = None) -> ValidateResponse:
        body: dict[str, Any] = {"code": code}
        if policy is not None:
            body["policy"] = _check_policy(policy)
        try:
            data = await self._request("POST", "/v1/validate", json_body=body, mode=_Retry.IDEMPOTENT)
        except PolicyViolation as err:
            return self._core.validate_fallback(code, policy, err)
        return _model(ValidateResponse, data)

    async def status(self, job_id: str, *, wait_s: float | None = None) -> JobView:
        params = {"wait_s": round(wait_s, 3)} if wait_s else None
        data = await self._request(
            "GET", f"/v1/jobs/{_check_id(job_id)}", params=params, mode=_Retry.IDEMPOTENT, extra_s=wait_s or 0.0
        )
        return _model(JobView, data)

    get_job = status

    async def cancel(self, job_id: str) -> JobView:
        return _model(JobView, await self._request("POST", f"/v1/jobs/{_check_id(job_id)}/cancel"))

    async def list_jobs(
        self, *, limit: int | None = None, cursor: str | None = None, status: str | None = None
    ) -> JobList:
        params = {k: v for k, v in {"limit": limit, "cursor": cursor, "status": status}.items() if v is not None}
        return _model(JobList, await self._request("GET", "/v1/jobs", params=params, mode=_Retry.IDEMPOTENT))

    async def policies(self) -> list[dict[str, Any]]:
        return self._core.policies_list(await self._request("GET", "/v1/policies", mode=_Retry.IDEMPOTENT))

    async def policy(self, name: str) -> dict[str, Any]:
        data = await self._request("GET", f"/v1/policies/{_check_policy(name)}", mode=_Retry.IDEMPOTENT)
        if not isinstance(data, dict):
            raise BadResponse("controller answered /v1/policies/{name} with an unexpected shape", code="bad_response")
        return data

    async def watch(self, job_id: str, *, timeout_s: float = 300.0) -> AsyncIterator[JobView]:
        deadline = time.monotonic() + timeout_s
        last = None
        i = 0
        wait_s: float | None = None
        while True:
            job = await self.status(job_id, wait_s=wait_s)
            if job.status != last:
                last = job.status
                i = 0
                yield job
            if job.status.terminal:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout(f"job {job_id} still {job.status.value} after {timeout_s:g}s", job=job)
            wait_s = min(_poll_interval(i), remaining)
            i += 1

    async def events(self, job_id: str | None = None, *, last_event_id: int | None = None,
                     timeout_s: float | None = None) -> AsyncIterator[LiveEvent]:
        """Live job events (see KitgateClient.events)."""
        cur = _EventCursor(self._core, job_id, last_event_id, timeout_s)
        while True:
            cur.check_deadline()
            headers, params, timeout = cur.request()
            try:
                async with self._http.stream("GET", "/v1/events", params=params, headers=headers,
                                             timeout=timeout) as resp:
                    if resp.status_code != 200:
                        raw = (await resp.aread())[: self._core.max_response_bytes]
                        self._core.decode(resp.status_code, resp.headers, raw)
                        raise BadResponse(f"/v1/events answered HTTP {resp.status_code}", code="bad_response")
                    parser = SseParser()
                    async for line in resp.aiter_lines():
                        ev = parser.feed(line)
                        if ev is not None:
                            done = cur.seen(ev)
                            yield ev
                            if done or (ev.type == "gap" and cur.job_id
                                        and (await self.status(cur.job_id)).status.terminal):
                                return
                        cur.check_deadline()
            except httpx.ReadTimeout:
                cur.check_deadline()
            except httpx.HTTPError as exc:
                pause = self._core.transport_retry(exc, _Retry.IDEMPOTENT, cur.attempt)
                cur.attempt += 1
                await asyncio.sleep(pause)
            except (RateLimited, ServerError) as err:
                pause = self._core.error_retry(err, _Retry.IDEMPOTENT, cur.attempt)
                cur.attempt += 1
                await asyncio.sleep(pause)

    async def progress(self, job_id: str) -> JobProgress | None:
        try:
            data = await self._request("GET", f"/v1/jobs/{_check_id(job_id)}/progress", mode=_Retry.IDEMPOTENT)
        except (BadResponse, KitgateError) as err:
            if isinstance(err, ConnectionFailed):
                raise
            return None
        try:
            return JobProgress.model_validate(data)
        except ValidationError:
            return None

    async def wait(self, job_id: str, *, timeout_s: float = 300.0, on_update: OnUpdate | None = None) -> JobView:
        return await self._wait(await self.status(job_id), time.monotonic(), timeout_s, on_update)

    async def _wait(self, job: JobView, started: float, timeout_s: float, on_update: OnUpdate | None) -> JobView:
        deadline = started + timeout_s
        progress: JobProgress | None = None
        while not job.status.terminal:
            if on_update is not None:
                progress = await self.progress(job.id)
                on_update(job, progress)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                progress = progress or await self.progress(job.id)
                raise self._core.wait_timeout(job, progress, time.monotonic() - started)
            window = _UPDATE_POLL_S if on_update is not None else _LONG_POLL_S
            job = await self.status(job.id, wait_s=min(remaining, window))
        return job

    async def execute(
        self,
        code: str,
        *,
        policy: str | None = None,
        timeout_s: float = 120.0,
        labels: list[str] | None = None,
        on_update: OnUpdate | None = None,
        render: Mapping[str, Any] | None = None,
    ) -> JobView:
        start = time.monotonic()
        first_wait = 0.0 if on_update is not None else min(timeout_s, _LONG_POLL_S)
        job = await self.submit(code, policy=policy, labels=labels, wait_s=first_wait or None, render=render)
        if job.status.terminal:
            return job
        return await self._wait(job, start, timeout_s, on_update)

    async def image(self, job_id: str) -> bytes:
        """The PNG a job asked for with ``render`` (see KitgateClient.image)."""
        return await self._request("GET", f"/v1/jobs/{_check_id(job_id)}/image", mode=_Retry.IDEMPOTENT,
                                   decode=self._core.decode_image)
