"""scripts/eval_intervals.py: the interval maths against hand values, and a clear error."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "eval_intervals.py"


@pytest.fixture(scope="module")
def ei():
    spec = importlib.util.spec_from_file_location("eval_intervals", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wilson_hand_value(ei):
    """5/10, z = 1.96: centre (0.5 + z^2/20) / (1 + z^2/10) = 0.5; half-width
    z * sqrt(0.25/10 + z^2/400) / (1 + z^2/10) = 1.96 * 0.186022 / 1.38416 = 0.263410."""
    low, high = ei.wilson(5, 10)
    assert low == pytest.approx(0.236590, abs=1e-5)
    assert high == pytest.approx(0.763410, abs=1e-5)
    assert ei.wilson(0, 16)[0] == 0.0 and ei.wilson(0, 16)[1] == pytest.approx(0.193608, abs=1e-5)


def test_sign_test_hand_values(ei):
    """3 wins, 0 losses: 2 * C(3,0) / 2^3 = 0.25; 2-0: 2 / 4 = 0.5; no untied pair: 1."""
    assert ei.sign_test(3, 0) == pytest.approx(0.25)
    assert ei.sign_test(0, 2) == pytest.approx(0.5)
    assert ei.sign_test(0, 0) == 1.0
    assert ei.sign_test(5, 5) == 1.0


def test_bootstrap_of_a_constant_is_that_constant(ei):
    assert ei.bootstrap([0.5] * 20) == (0.5, 0.5)
    low, high = ei.bootstrap([0.0] * 10 + [1.0] * 10)
    assert 0.2 < low < 0.5 < high < 0.8


def test_a_directory_without_eval_json_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert f"{tmp_path / 'eval.json'}: not found" in proc.stderr
    assert "Traceback" not in proc.stderr
