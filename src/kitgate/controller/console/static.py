"""The console's own CSS and JS, served from the installed package by name (no directory walking).

Why not a StaticFiles mount: the set of files is fixed and tiny, so each is read once at start-up and
served from memory by exact name: no path from the request ever reaches the file system. Each URL
carries a content hash, so browsers may cache a file and still see a new version at once.
"""

from __future__ import annotations

import hashlib
from importlib import resources

from fastapi.responses import Response

from kitgate.controller.console.auth import ConsoleRefusal

TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


class ConsoleStatic:
    def __init__(self) -> None:
        self._files: dict[str, tuple[bytes, str, str]] = {}
        folder = resources.files("kitgate.controller.console").joinpath("static")
        for entry in folder.iterdir():
            suffix = "." + entry.name.rsplit(".", 1)[-1]
            if entry.is_file() and suffix in TYPES:
                body = entry.read_bytes()
                self._files[entry.name] = (body, TYPES[suffix], hashlib.sha256(body).hexdigest()[:16])

    def url(self, name: str) -> str:
        return f"/console/static/{name}?v={self._files[name][2]}"

    def response(self, name: str) -> Response:
        found = self._files.get(name)
        if found is None:
            raise ConsoleRefusal(404, "no such file")
        body, media_type, digest = found
        return Response(body, media_type=media_type, headers={"ETag": f'"{digest}"'})
