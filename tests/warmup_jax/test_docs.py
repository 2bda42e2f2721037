"""Every public function states its formula next to a doctest; every public name is exported."""

import inspect

import pytest

import warmup_jax as wj

PUBLIC = sorted(set(wj.registered_names()) | {"schedule_by_name", "scale_peak_lr", "parse"})


@pytest.mark.parametrize("name", PUBLIC)
def test_docstring_has_a_formula_and_a_doctest(name):
    doc = inspect.getdoc(getattr(wj, name)) or ""
    if name != "parse":  # the language's grammar stands in for a formula there
        assert ".. math::" in doc, f"{name}: no formula"
    assert ">>>" in doc, f"{name}: no doctest"


def test_every_constructor_is_exported_and_typed():
    for name in wj.registered_names():
        assert name in wj.__all__
        hints = inspect.signature(getattr(wj, name)).parameters
        assert all(p.annotation is not inspect.Parameter.empty for p in hints.values()), name
