"""Typed batch containers handed from the DataModules to the LightningModules.

They are plain mutable dataclasses (not frozen) so that Lightning's ``move_data_to_device``,
which rebuilds dataclasses field by field, can move every tensor to the accelerator.

Shape letters: ``B`` batch rows, ``T`` padded sequence length (prompt + completion).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from web4rl.sequence import IGNORE_INDEX


@dataclass
class SequenceBatch:
    """One tokenized ``prompt + completion`` per row, right-padded.

    Labels are NOT shifted: ``labels[i, t] == input_ids[i, t]`` on completion tokens, so the
    model's usual shift (logits at ``t - 1`` predict the token at ``t``) applies. The first
    non-ignored label of a row is the first completion token.

    Attributes:
        input_ids: ``[B, T]`` long. Prompt tokens, then completion tokens (ending in EOS unless
            cut by ``max_length``), then ``pad_token_id``.
        attention_mask: ``[B, T]`` long, 1 on real (prompt or completion) tokens, 0 on padding.
        labels: ``[B, T]`` long, equal to ``input_ids`` on completion tokens and
            ``IGNORE_INDEX`` on prompt and padding positions.
        index: ``[B]`` long, the row's index within its split (train/val/test). Stable across
            epochs; rows repeated by category balancing share their index.
        weights: ``[B]`` float per-sample loss weights (e.g. AWR), or ``None`` meaning all 1.
    """

    input_ids: Tensor
    attention_mask: Tensor
    labels: Tensor
    index: Tensor
    weights: Tensor | None = None

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])

    @property
    def completion_mask(self) -> Tensor:
        """``[B, T]`` bool, True exactly on completion tokens (the positions that carry loss)."""
        return self.labels != IGNORE_INDEX


@dataclass
class PreferenceBatch:
    """Chosen and rejected completions of the same prompts; row ``i`` pairs with row ``i``.

    ``chosen`` and ``rejected`` are padded to the SAME length ``T`` so an algorithm can run both
    in one forward pass with ``torch.cat`` along the batch dimension.

    Attributes:
        chosen: prompt + chosen completion per row.
        rejected: prompt + rejected completion per row (identical prompt tokens).
        index: ``[B]`` long, the pair's index within its split.
        categories: ``B`` category names (``"uncategorized"`` for rows without one), for
            per-category metrics.
    """

    chosen: SequenceBatch
    rejected: SequenceBatch
    index: Tensor
    categories: list[str]

    def __len__(self) -> int:
        return int(self.index.shape[0])
