"""Stand-in for carb: log_info/log_warn/log_error (recorded for assertions)."""

LOG: list[tuple[str, str]] = []


def log_info(msg: str) -> None:
    LOG.append(("info", msg))


def log_warn(msg: str) -> None:
    LOG.append(("warn", msg))


def log_error(msg: str) -> None:
    LOG.append(("error", msg))
