"""Hardware knobs that are process settings rather than Trainer arguments."""

from __future__ import annotations

from typing import Literal

import torch
from lightning.pytorch import Callback


class MatmulPrecision(Callback):
    """Set float32 matmul precision when a run starts.

    Uses ``torch.set_float32_matmul_precision`` only: it sets the CUDA matmul TF32 mode too,
    and adding torch's legacy ``allow_tf32`` flags mixes two APIs, after which
    ``torch.get_float32_matmul_precision()`` raises (it did after "medium"). cuDNN convolution
    TF32 (on by default in torch) is left alone: decoder-only LMs run no convolutions.

    Args:
        precision: "high" lets Ampere+ GPUs use TF32 tensor cores for float32 matmuls
            (RTX 4090, A100, H100); "highest" keeps full float32; "medium" allows bf16.
    """

    def __init__(self, precision: Literal["highest", "high", "medium"] = "high") -> None:
        self.precision = precision

    def setup(self, trainer, pl_module, stage: str) -> None:
        torch.set_float32_matmul_precision(self.precision)
