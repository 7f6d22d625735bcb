"""RolloutBatch: a batch of played episodes as tensors (shapes per field)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import torch


@dataclass
class RolloutBatch:
    """N whole conversations (system, task, assistant and tool turns), right-padded to T
    tokens, with S = the most assistant turns of any episode.

    Token-aligned convention: ``policy_mask[i, t]`` says token ``input_ids[i, t]`` was sampled
    by the policy, and ``behaviour_logps[i, t]`` is its log-prob at sampling time (the logits
    at position t - 1 produced it). Shift by one (``[:, 1:]``) to compare with a forward pass.

    Attributes:
        input_ids: [N, T] int64 token ids (pad after the end).
        attention_mask: [N, T] int64, 1 on real tokens.
        policy_mask: [N, T] bool, True only on sampled assistant tokens; system, user,
            tool-result, template and padding tokens are never trained on.
        behaviour_logps: [N, T] float32 log softmax(logits / temperature) of the sampled
            token (0 where ``policy_mask`` is False).
        turn_end: [N, S] int64 position of each turn's last sampled token (-1: no such turn).
        turn_rewards: [N, S] float32 reward of each turn (0 where no turn).
        turn_components: name -> [N, S] float32 reward components.
        returns: [N] float32 episode return (sum of turn rewards).
        success: [N] bool, task solved.
        num_turns: [N] int64 assistant turns played.
        truncated: [N] bool, ended by the turn cap or the context length, not by the task.
        group_index: [N] int64, episodes of one GRPO group share it (contiguous).
        group_size: episodes per group (1 when not grouped).
        temperature: sampling temperature of the behaviour policy.
        task_ids, categories, difficulties: N strings each.
        actions: N lists of the assistant turns' texts (for logs and inspection).
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    policy_mask: torch.Tensor
    behaviour_logps: torch.Tensor
    turn_end: torch.Tensor
    turn_rewards: torch.Tensor
    turn_components: dict[str, torch.Tensor]
    returns: torch.Tensor
    success: torch.Tensor
    num_turns: torch.Tensor
    truncated: torch.Tensor
    group_index: torch.Tensor
    group_size: int = 1
    temperature: float = 1.0
    task_ids: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    difficulties: list[str] = field(default_factory=list)
    actions: list[list[str]] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])

    @property
    def num_generated_tokens(self) -> int:
        return int(self.policy_mask.sum())

    def token_rewards(self) -> torch.Tensor:
        """[N, T] float32: each turn's reward on the turn's last sampled token, 0 elsewhere."""
        out = torch.zeros(self.input_ids.shape, dtype=torch.float32, device=self.input_ids.device)
        valid = self.turn_end >= 0
        rows = torch.arange(len(self), device=out.device)[:, None].expand_as(self.turn_end)
        out.index_put_((rows[valid], self.turn_end[valid]), self.turn_rewards[valid].float(),
                       accumulate=True)
        return out

    def to(self, device: torch.device | str) -> RolloutBatch:
        moved = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, torch.Tensor):
                value = value.to(device)
            elif f.name == "turn_components":
                value = {k: v.to(device) for k, v in value.items()}
            moved[f.name] = value
        return RolloutBatch(**moved)

    def select(self, index: torch.Tensor | list[int]) -> RolloutBatch:
        """The episodes at ``index`` (a minibatch), trimmed to their longest conversation."""
        index = torch.as_tensor(index, dtype=torch.long)
        idx = index.to(self.input_ids.device)
        length = int(self.attention_mask[idx].sum(-1).max())
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, torch.Tensor):
                value = value[idx]
                if f.name in ("input_ids", "attention_mask", "policy_mask", "behaviour_logps"):
                    value = value[:, :length]
            elif f.name == "turn_components":
                value = {k: v[idx] for k, v in value.items()}
            elif isinstance(value, list):
                value = [value[i] for i in index.tolist()]
            out[f.name] = value
        return RolloutBatch(**out)
