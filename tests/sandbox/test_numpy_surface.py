"""The vetted numpy surface (issue 13): agent-style numpy matches plain Python, the loader keeps numpy to
its vetted names and to isolated policies, and a policy naming numpy fails to load where numpy is missing.
Attacks on this surface live in tests/security/corpus/npy_*.py."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pxr import Usd

from kitgate.sandbox.compile.compiler import compile_source
from kitgate.sandbox.policy import PolicyError, load_policy, parse_policy
from kitgate.sandbox.runtime.hooks import run_guarded

REPO = Path(__file__).resolve().parents[2]

BENIGN = {
    "create_and_reduce": r'''
import numpy as np
a = np.array([[0, 1, 2], [3, 4, 5]], dtype=np.float32)
print(a.shape, a.dtype, a.ndim, a.size, a.sum(), a.mean(axis=0), a.T.shape, a.min(), a.max(axis=1))
print(np.zeros((2, 2)), np.ones(3, dtype=int), np.full((2,), 7.5), np.eye(2), np.identity(2))
print(np.arange(5), np.arange(1.0, 2.0, 0.25), np.linspace(0, 1, 5), np.cumsum([1, 2, 3]), np.argmax([3, 9, 1]))
print(np.std([1.0, 2.0, 3.0]), np.round(np.pi, 3), np.clip([-1, 5, 20], 0, 10), np.abs([-2, 3]))
print(np.stack([a, a]).shape, np.concatenate([a, a]).shape, np.vstack([a, a]).shape, np.hstack([a, a]).shape)
print(a.reshape(3, 2).tolist(), np.transpose(a).shape, a.flatten().tolist(), a.astype(np.int32).dtype.name)
''',
    "linalg_and_geometry": r'''
import numpy as np
m = np.array([[2.0, 0.0], [0.0, 4.0]])
print(np.linalg.inv(m), round(float(np.linalg.det(m)), 6), np.linalg.solve(m, np.array([2.0, 4.0])))
w, v = np.linalg.eigh(m)
print(w, np.linalg.norm([3.0, 4.0]), np.cross([1, 0, 0], [0, 1, 0]), np.dot([1, 2], [3, 4]), m @ m)
u, s, vt = np.linalg.svd(m)
print(s, np.linalg.matrix_rank(m), np.outer([1, 2], [3, 4]), np.tile([1, 2], 2), np.repeat([1, 2], 2))
pts = np.array([[0, 0, 0], [1, 0, 0], [0, 2, 0]], dtype=float)
lo, hi = pts.min(axis=0), pts.max(axis=0)
print(lo, hi, (lo + hi) / 2, np.sqrt(((pts - pts.mean(axis=0)) ** 2).sum(axis=1)).round(4))
''',
    "random_generator": r'''
import numpy as np
rng = np.random.default_rng(7)
print(rng.random(3).round(6), rng.uniform(0, 10, size=2).round(6), rng.normal(0, 1, size=(2, 2)).round(6))
print(rng.integers(0, 100, size=5), rng.choice([10, 20, 30]), rng.choice(5, size=3, replace=False))
x = np.arange(6)
rng.shuffle(x)
print(x, rng.permutation(4))
''',
    "vt_roundtrip": r'''
import numpy as np
from pxr import Vt, UsdGeom, Gf
pts = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=np.float32) * 2.0
mesh = UsdGeom.Mesh.Define(stage, '/World/Quad')
mesh.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(pts))
mesh.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.array([4], dtype=np.int32)))
back = np.array(mesh.GetPointsAttr().Get())
print(back.shape, back.dtype, back.mean(axis=0), isinstance(back, np.ndarray))
xs = Vt.FloatArray.FromNumpy(np.linspace(0, 1, 4).astype(np.float32))
print(list(xs), float(np.asarray(xs).sum()))
''',
}


def _plain(src: str) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(src, "<plain>", "exec"), {"stage": Usd.Stage.CreateInMemory()})  # noqa: S102
    return buf.getvalue()


def _run(src: str, policy_name: str = "scene-edit") -> object:
    policy = load_policy(policy_name)
    compiled = compile_source(src, policy)
    assert compiled.ok, [v.to_dict() for v in compiled.violations]
    return run_guarded(compiled, policy, Usd.Stage.CreateInMemory(), rng_seed=1)


@pytest.mark.parametrize("name", sorted(BENIGN))
@pytest.mark.parametrize("policy_name", ["scene-edit", "readonly"])
def test_benign_numpy_matches_plain(name: str, policy_name: str) -> None:
    src = BENIGN[name]
    if policy_name == "readonly" and "Define" in src:
        pytest.skip("edits the stage")
    report = _run(src, policy_name)
    assert report.status == "succeeded", report.error
    assert report.stdout == _plain(src)


@pytest.mark.parametrize(("src", "limit"), [
    ("import numpy as np\nnp.zeros((10**5, 10**5))", "memory"),
    ("import numpy as np\nnp.ones(10**10)", "memory"),
    ("import numpy as np\nnp.arange(0, 1e12)", "memory"),
    ("import numpy as np\nnp.linspace(0, 1, 10**10)", "memory"),
    ("import numpy as np\nnp.kron(np.ones(10**5), np.ones(10**5))", "memory"),
    ("import numpy as np\nnp.pad(np.ones(3), 10**10)", "memory"),
    ("import numpy as np\nnp.diag(np.ones(10**5))", "memory"),
    ("import numpy as np\nnp.bincount([10**11])", "memory"),
    ("import numpy as np\nnp.linalg.svd(np.ones((10**5, 2)))", "memory"),
    ("import numpy as np\nnp.add(np.ones((10**5, 1)), np.ones(10**5))", "memory"),
    ("import numpy as np\nnp.matmul(np.ones((10**5, 1)), np.ones((1, 10**5)))", "memory"),
    ("import numpy as np\nnp.random.default_rng(1).integers(0, 9, size=10**10)", "memory"),
])
def test_growing_calls_are_sized_first(src: str, limit: str) -> None:
    report = _run(src)
    assert report.status == "failed" and report.limit == limit, (report.error, report.limit)
    assert "one array may use at most" in report.error["message"]


@pytest.mark.parametrize("src", [
    "import numpy as np\nnp.array([1, 'a'])",
    "import numpy as np\nnp.zeros(3, dtype='U4')",
    "import numpy as np\nnp.ones(2).astype('V8')",
    "import numpy as np\nnp.array([1.0], 'f8,i4')",
    "import numpy as np\nnp.zeros(2).sum(dtype='O')",
    "import numpy as np\nnp.zeros(3, like=np.zeros(1))",
])
def test_non_numeric_dtypes_are_refused_with_a_hint(src: str) -> None:
    report = _run(src)
    assert report.status == "failed" and report.error["type"] == "SandboxDenied", report.error


def test_numpy_stays_out_of_in_process_policies() -> None:
    trusted = load_policy("trusted")
    assert not any(m.startswith("numpy") for m in trusted.modules)
    text = load_policy("scene-edit").source.replace('mode = "isolated"', 'mode = "in_process"')
    with pytest.raises(PolicyError, match="only allowed in isolated policies"):
        parse_policy(text.encode(), expected_name="scene-edit")


@pytest.mark.parametrize(("table", "name"), [
    ('[modules."numpy"]', "load"),
    ('[modules."numpy"]', "frombuffer"),
    ('[modules."numpy.lib.stride_tricks"]', "as_strided"),
    ('[modules."numpy.ctypeslib"]', "load_library"),
    ('[types."numpy.ndarray"]', "tofile"),
    ('[types."numpy.ndarray"]', "ctypes"),
])
def test_a_policy_cannot_widen_numpy_past_its_vetted_names(table: str, name: str) -> None:
    base = load_policy("readonly").source
    if table in base:
        text = base.replace(f"{table}\nattributes = [\n", f'{table}\nattributes = [\n  "{name}",\n', 1)
    else:
        text = base + f'\n{table}\nattributes = ["{name}"]\n'
    with pytest.raises(PolicyError, match="vetted"):
        parse_policy(text.encode(), expected_name="readonly")


def test_policy_naming_numpy_fails_to_load_without_numpy(tmp_path: Path) -> None:
    """A subprocess in which numpy cannot be imported (a meta path finder refuses it) loads the shipped
    policies: the ones that name numpy fail with one clear line; trusted (no numpy) loads."""
    script = textwrap.dedent("""
        import sys

        class NoNumpy:
            def find_spec(self, name, path=None, target=None):
                if name == "numpy" or name.startswith("numpy."):
                    raise ImportError("numpy is blocked in this test")
                return None

        sys.meta_path.insert(0, NoNumpy())
        from kitgate.sandbox.policy import PolicyError, load_policy
        print("trusted", load_policy("trusted").mode)
        try:
            load_policy("scene-edit")
        except PolicyError as exc:
            print("refused:", exc)
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "trusted in_process"
    assert len(lines) == 2 and lines[1].startswith("refused: policy 'scene-edit': lists module 'numpy'"), lines
    assert "not installed" in lines[1] and "pip install" in lines[1]
