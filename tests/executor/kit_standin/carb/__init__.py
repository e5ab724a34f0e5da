"""Stand-in for carb logging: log_verbose/log_info/log_warn/log_error, recorded for assertions.

Kit fact this stand-in carries: `omni.kit.test` fails a run on any `[error]` log line
(omni.kit.test docs, AsyncTestCaseFailOnLogError;
omni.kit.commands 1.6.2 end_group docs: "omni.kit.test treats logged errors as test failures globally").
The `kit_modules` fixture therefore fails every test that emitted `log_error` unless the test declares
it expects one (see tests/executor/conftest.py).
"""

import threading

LOG: list[tuple[str, str]] = []
LOG_THREADS: list[int] = []


def _record(level: str, msg: str) -> None:
    LOG.append((level, str(msg)))
    LOG_THREADS.append(threading.get_ident())


def log_verbose(msg: str) -> None:
    _record("verbose", msg)


def log_info(msg: str) -> None:
    _record("info", msg)


def log_warn(msg: str) -> None:
    _record("warn", msg)


def log_error(msg: str) -> None:
    _record("error", msg)


def standin_errors() -> list[str]:
    return [msg for level, msg in LOG if level == "error"]
