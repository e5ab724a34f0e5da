"""What a compile returns: the violations a script is refused for, and the compiled code.

Why its own module: every compile step (source checks, rules, the transformer's own refusals) adds to
the same `Collector`, and the runtime and the fork server only need these types, not the compiler.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from types import CodeType
from typing import Any

MAX_VIOLATIONS = 50


@dataclass(frozen=True)
class Violation:
    line: int
    col: int
    rule: str
    message: str
    hint: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CompileResult:
    ok: bool
    violations: list[Violation]
    code_sha256: str
    policy_digest: str
    code: CodeType | None = field(default=None, repr=False, compare=False)


class Collector:
    def __init__(self) -> None:
        self.items: list[Violation] = []
        self.seen: set[tuple[int, int, str, str]] = set()

    def add(self, line: int | None, col: int | None, rule: str, message: str, hint: str) -> None:
        key = (line or 0, col or 0, rule, message)
        if key in self.seen or len(self.items) >= MAX_VIOLATIONS:
            return
        self.seen.add(key)
        self.items.append(Violation(line or 1, col or 0, rule, message, hint))
