"""Process-level hardware settings (web4rl.callbacks.hardware)."""

import pytest
import torch

from web4rl.callbacks import MatmulPrecision


@pytest.fixture
def restore_precision():
    precision = torch.get_float32_matmul_precision()
    cudnn_tf32 = torch.backends.cudnn.allow_tf32
    yield
    torch.set_float32_matmul_precision(precision)
    torch.backends.cudnn.allow_tf32 = cudnn_tf32


@pytest.mark.parametrize("precision", ["medium", "high", "highest", "high"])
def test_matmul_precision_uses_one_torch_api(precision, monkeypatch, restore_precision):
    """Mixing torch's legacy flags (allow_tf32) with set_float32_matmul_precision makes
    get_float32_matmul_precision() raise after "medium" (Lightning and user code call it).
    The callback only touches CUDA flags on a CUDA machine, so pretend to be one: it sets
    process flags only, no CUDA call is made."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    MatmulPrecision(precision).setup(None, None, "fit")
    assert torch.get_float32_matmul_precision() == precision
    expected = "ieee" if precision == "highest" else "tf32"
    assert torch.backends.cuda.matmul.fp32_precision == expected
