"""The project's promises about packaging: ranges for the library, pins only for the harness."""

import importlib.metadata
import pathlib
import re
import tomllib

import warmup_jax

ROOT = pathlib.Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pins(path: pathlib.Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def test_the_library_requires_ranges_whose_lower_bounds_ci_tests():
    requirements = PYPROJECT["project"]["dependencies"]
    lower = {}
    for requirement in requirements:
        assert "==" not in requirement, f"a pin in the library's requirements: {requirement}"
        name, bound = re.fullmatch(r"([a-z_-]+)>=([0-9.]+)", requirement).groups()
        lower[name] = bound
    assert set(lower) == {"jax", "optax", "numpy"}
    minimum = _pins(ROOT / "requirements" / "library-min.txt")
    assert {name: minimum[name] for name in lower} == lower
    assert minimum["jaxlib"] == minimum["jax"]


def test_the_wheel_is_the_library_alone():
    assert PYPROJECT["tool"]["setuptools"]["packages"] == ["warmup_jax"]


def test_the_harness_is_pinned_and_agrees_with_the_library_ranges():
    harness = _pins(ROOT / "requirements" / "harness.txt")
    for name in ("jax", "jaxlib", "optax", "numpy", "flax", "orbax-checkpoint"):
        assert name in harness
    assert "tensorflow" not in harness


def test_the_version_comes_from_the_package_metadata():
    assert warmup_jax.__version__ == PYPROJECT["project"]["version"]
    assert importlib.metadata.version("warmup_jax") == warmup_jax.__version__
