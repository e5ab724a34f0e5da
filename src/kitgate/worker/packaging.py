"""Builds a Kit-loadable `kitgate.executor` folder that carries everything it needs besides Kit.

Why in kitgate.worker: the bundle is the worker's distribution inside Kit (the extension folder holds
only the Kit binding; the runner it drives is kitgate.worker), so what goes into it is the worker's
business; `kitgate package-extension` (kitgate.cli) only parses options and calls `build_extension`.

Why not `[python.pipapi]`: it installs from the network when the extension is enabled, which NVIDIA
itself calls not for production. Instead kitgate's own packages (`BUNDLED_PACKAGES`: the worker, the
protocol, the sandbox and the policy files), RestrictedPython and PyJWT (+ cryptography, which PyJWT
needs for EdDSA) are copied from this environment into `pip_prebundle/`, which the extension's path-only
`[[python.module]]` entry puts on sys.path.

cryptography is a compiled package. Its own wheel is abi3 (one build serves CPython 3.7+), but its
Rust module imports cffi's `_cffi_backend`, which is built per Python minor version. So there is one
build per Kit Python, as NVIDIA's pip-archive extensions do (`writeTarget.python`): a bundle copied
from this environment serves this Python only; for Kit 108-110 (Python 3.12) build from cp312 wheels
with `--wheel-dir` and `--check-python` pointing at a 3.12 interpreter. Each build writes
`[package.target] platform/python` into its extension.toml (Kit then refuses a bundle for another
Python instead of failing at import) and ends with a self-check in that interpreter (`-I -S`, so it
sees only the stdlib and the bundle).
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

EXT_NAME = "kitgate.executor"
# distribution name -> why it is bundled
BUNDLED_DISTS = {
    "RestrictedPython": "the restricted compiler",
    "PyJWT": "envelope signatures (JWS)",
    "cryptography": "Ed25519 for PyJWT (abi3 wheel, per platform; needs cffi, per Python version)",
}
# kitgate's own packages the extension needs besides its Kit binding (kitgate.executor); a test checks
# the bundle holds each and imports it with nothing but the stdlib and the bundle on sys.path.
BUNDLED_PACKAGES = ("kitgate.worker", "kitgate.protocol", "kitgate.sandbox", "kitgate.policies")
_OPTIONAL_DISTS = ("cffi", "pycparser")  # only copied when cryptography on this platform imports them
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "pip_prebundle", ".*")


class PackagingError(Exception):
    pass


def extension_source() -> Path:
    """The extension folder in the checkout (`extension/kitgate.executor`, beside `src/`). The Kit binding is
    not in the wheel (Kit loads it from that folder), so building the extension needs a checkout."""
    root = Path(__file__).resolve().parents[3] / "extension" / EXT_NAME  # src/kitgate/worker/packaging.py
    if not (root / "config" / "extension.toml").is_file():
        raise PackagingError(f"{root} is not an extension folder (no config/extension.toml); the Kit extension "
                             "is built from a kitgate checkout")
    return root


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise PackagingError(f"{module} is not installed in this environment")
    return Path(next(iter(spec.submodule_search_locations)))


def _copy_dist(name: str, dest: Path) -> list[str]:
    """Copy every file a distribution installed (package + dist-info, so licenses travel along)."""
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        raise PackagingError(f"{name} is not installed; run `pip install {name}` first") from None
    copied = []
    for rel in dist.files or []:
        parts = Path(rel).parts
        if not parts or parts[0] in ("..", "") or "__pycache__" in parts or rel.suffix in (".pyc", ".pyo"):
            continue  # console scripts live outside site-packages; never copy outside the bundle
        src = Path(dist.locate_file(rel))
        if not src.is_file():
            continue
        target = dest / Path(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
        copied.append(str(Path(*parts)))
    if not copied:
        raise PackagingError(f"{name}: no files found to bundle")
    return copied


def _wheel_for(dist: str, wheel_dir: Path) -> Path | None:
    norm = dist.lower().replace("-", "_")
    found = sorted(p for p in wheel_dir.glob("*.whl") if p.name.lower().split("-", 1)[0] == norm)
    if len(found) > 1:
        raise PackagingError(f"{wheel_dir} holds several wheels for {dist}: {[p.name for p in found]}")
    return found[0] if found else None


def _unpack_wheel(wheel: Path, dest: Path) -> None:
    """A wheel is a zip laid out for site-packages; refuse members that would escape `dest`."""
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            target = (dest / name).resolve()
            if not str(target).startswith(str(dest.resolve()) + "/"):
                raise PackagingError(f"{wheel.name}: member {name!r} escapes the bundle")
        zf.extractall(dest)


def fill_prebundle(prebundle: Path, *, wheel_dir: Path | None = None, check_python: str | None = None) -> None:
    """(Re)create `prebundle` with BUNDLED_PACKAGES and the bundled distributions.

    Default: copy the distributions installed here (bundle valid for this Python minor version and
    platform, because cryptography's Rust module needs cffi's per-version `_cffi_backend`). With
    `wheel_dir`: unpack wheels from that folder instead (e.g. `pip download --only-binary=:all:
    --python-version 3.12 --platform manylinux2014_x86_64 -d DIR cryptography cffi pyjwt
    restrictedpython`, done once, online), and self-check with `check_python` (Kit's interpreter).
    """
    if prebundle.exists():
        shutil.rmtree(prebundle)
    (prebundle / "kitgate").mkdir(parents=True)  # namespace folder: deliberately no __init__.py
    for package in BUNDLED_PACKAGES:
        target = prebundle.joinpath(*package.split("."))
        shutil.copytree(_package_dir(package), target, ignore=_SKIP)
    python = check_python or sys.executable
    versions: dict[str, str] = {}
    for dist in (*BUNDLED_DISTS, *_OPTIONAL_DISTS):
        wheel = _wheel_for(dist, wheel_dir) if wheel_dir is not None else None
        if wheel is not None:
            _unpack_wheel(wheel, prebundle)
            versions[dist] = wheel.name
        elif wheel_dir is not None and dist in BUNDLED_DISTS:
            raise PackagingError(f"no wheel for {dist} in {wheel_dir}")
        elif wheel_dir is None and (dist in BUNDLED_DISTS or not _self_check(prebundle, python, quiet=True)):
            try:
                _copy_dist(dist, prebundle)
            except PackagingError:
                if dist in BUNDLED_DISTS:
                    raise
                continue
            versions[dist] = md.version(dist)
    if not _self_check(prebundle, python, quiet=False):
        raise PackagingError("the bundle does not import on its own (see the output above)")
    (prebundle / "BUNDLE.txt").write_text(
        "Bundled for kitgate.executor by `kitgate package-extension`.\n"
        f"Checked with {python} ({' '.join(python_target(python))}); one bundle per Kit Python.\n"
        + "".join(f"- {d} {v}: {BUNDLED_DISTS.get(d, 'needed by cryptography')}\n" for d, v in versions.items())
    )


_CHECK = """
import sys
sys.path[:0] = [{bundle!r}, {ext!r}]
import kitgate.executor
import kitgate.worker.runner, kitgate.worker.verify, kitgate.worker.headless, kitgate.worker.snapshot
import kitgate.protocol, kitgate.protocol.claims
import kitgate.sandbox, kitgate.sandbox.policy, kitgate.policies
for name in {packages!r}:
    f = sys.modules[name].__spec__.submodule_search_locations[0]
    if not f.startswith({bundle!r}):
        raise SystemExit("imported from outside the bundle: " + name + " " + f)
import RestrictedPython, jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
k = Ed25519PrivateKey.generate()
tok = jwt.encode({{"a": 1}}, k, algorithm="EdDSA")
assert jwt.decode(tok, k.public_key(), algorithms=["EdDSA"]) == {{"a": 1}}
for mod in list(sys.modules):
    f = getattr(sys.modules[mod], "__file__", None) or ""
    if "site-packages" in f and not f.startswith({bundle!r}):
        raise SystemExit("imported from outside the bundle: " + mod + " " + f)
print("bundle ok")
"""


def _self_check(prebundle: Path, python: str, *, quiet: bool) -> bool:
    """Import everything in `python -I -S` (no site-packages), so only stdlib + the bundle are visible."""
    ext = prebundle.parent
    code = _CHECK.format(bundle=str(prebundle), ext=str(ext), packages=BUNDLED_PACKAGES)
    proc = subprocess.run([python, "-I", "-S", "-B", "-c", code], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 and not quiet:
        sys.stderr.write(proc.stdout + proc.stderr)
    return proc.returncode == 0


def python_target(python: str) -> tuple[str, str]:
    """(platform, python tag) of an interpreter, in Kit's [package.target] spelling, e.g.
    ("linux-x86_64", "cp312")."""
    probe = ("import sys, sysconfig; print(sysconfig.get_platform()); "
             "print(f'cp{sys.version_info[0]}{sys.version_info[1]}')")
    try:
        proc = subprocess.run([python, "-I", "-S", "-c", probe], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        raise PackagingError(f"cannot run {python}: {exc.strerror or exc}") from None
    lines = proc.stdout.split()
    if proc.returncode != 0 or len(lines) != 2:
        raise PackagingError(f"cannot ask {python} for its version: {proc.stderr.strip()[-300:]}")
    return lines[0], lines[1]


def _check_target(python: str, wheel_dir: Path | None) -> tuple[str, str]:
    platform, tag = python_target(python)
    here = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    if wheel_dir is None and tag != here:
        raise PackagingError(f"copying this environment's packages makes a {here} bundle, but {python} is {tag}; "
                             f"pass --wheel-dir with {tag} wheels (pip download --only-binary=:all: "
                             f"--python-version {tag[2]}.{tag[3:]} ...)")
    if not platform.startswith("linux-"):
        raise PackagingError(f"kitgate.executor is Linux only (the sandbox needs fork, rlimits, /proc); {python} "
                             f"is {platform}")
    return platform, tag


def _write_target(toml_path: Path, platform: str, tag: str) -> None:
    text = toml_path.read_text()
    if "target" in tomllib.loads(text).get("package", {}):
        raise PackagingError(f"{toml_path} already declares [package.target]")
    toml_path.write_text(text.rstrip("\n") + "\n\n# Written by `kitgate package-extension` for this build.\n"
                         f'[package.target]\nplatform = ["{platform}"]\npython = ["{tag}"]\n')


def _version(ext_root: Path) -> str:
    with open(ext_root / "config" / "extension.toml", "rb") as fh:
        return str(tomllib.load(fh)["package"]["version"])


def build_extension(
    output: Path, *, make_zip: bool = False, wheel_dir: Path | None = None, check_python: str | None = None
) -> tuple[Path, Path | None]:
    """Copy the extension to `output/kitgate.executor` with a filled pip_prebundle; optionally zip it."""
    src = extension_source()
    platform, tag = _check_target(check_python or sys.executable, wheel_dir)
    output = Path(output).resolve()
    folder = output / EXT_NAME
    if folder.exists():
        shutil.rmtree(folder)
    output.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, folder, ignore=_SKIP)
    _write_target(folder / "config" / "extension.toml", platform, tag)
    fill_prebundle(folder / "pip_prebundle", wheel_dir=wheel_dir, check_python=check_python)
    archive = None
    if make_zip:
        archive = output / f"{EXT_NAME}-{_version(src)}+{platform}.{tag}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    zf.write(path, Path(EXT_NAME) / path.relative_to(folder))
    return folder, archive


def build_in_place(*, wheel_dir: Path | None = None, check_python: str | None = None) -> Path:
    """Fill `pip_prebundle/` inside the checkout's extension folder (for `kit --ext-folder extension`)."""
    src = extension_source()
    _check_target(check_python or sys.executable, wheel_dir)
    fill_prebundle(src / "pip_prebundle", wheel_dir=wheel_dir, check_python=check_python)
    return src
