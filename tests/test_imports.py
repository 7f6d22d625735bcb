"""Every module of the package imports (catches a broken module no other test reaches)."""

import importlib
import pkgutil

import pytest

import web4rl

# __main__ modules are entry points: importing them runs the command.
MODULES = sorted(m.name for m in pkgutil.walk_packages(web4rl.__path__, "web4rl.")
                 if not m.name.endswith("__main__"))


def test_walk_finds_the_packages():
    assert {"web4rl.policy", "web4rl.sim.env", "web4rl.judges.judge", "web4rl.data.modules"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_imports(name):
    importlib.import_module(name)
