"""Preference pairs packed with their prompt computed once (prefix sharing), same maths.

The plain layout runs every pair as two padded rows, ``prompt + chosen`` and ``prompt +
rejected``: the prompt goes through the model twice and every row is padded to the longest of
the batch. The packed layout puts each pair in ONE segment ``prompt | chosen | rejected``:

- positions restart for the rejected completion (``p .. p+r-1``, as in its plain row);
- a 4D attention mask keeps every segment causal and hides the chosen tokens from the rejected
  ones, so each rejected token attends to exactly the keys/values it sees in its plain row
  (the prompt's, computed once, and its own predecessors);
- segments are packed first-fit-decreasing into rows as long as the longest segment, so
  padding shrinks from ``2B x max(p + max(c, r))`` to a few tokens per row;
- the output head runs only on the positions that predict a completion token (the first
  rejected token is predicted from the prompt's last position, like the first chosen one).

Per-token log-probs are scattered back into the plain ``[2B, T-1]`` layout, so every loss
(DPO sums, ORPO means, NLL) is computed by the same code as before. Gradients are the plain
path's too: the prompt's activations receive the chosen and the rejected gradients summed,
which is what the two prompt copies' parameter gradients add up to. Only float summation
order differs (tests check equality to 1e-5).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from web4rl.sequence import IGNORE_INDEX


@dataclass
class PackedPairs:
    """One preference batch in the packed layout (``R`` rows of length ``L``; ``N`` targets).

    Attributes:
        input_ids: [R, L] long, padding = the batch's pad id.
        allowed: [R, 1, L, L] bool, True where query i may attend key j.
        position_ids: [R, L] long.
        source: [N] long, flat index (row * L + col) of the hidden state predicting target n.
        target: [N] long, the token id predicted.
        out_index: [N] long, flat index into the plain shifted layout [2B, T-1].
        out_shape: (2B, T-1).
        real_tokens: tokens in the packed rows that are not padding.
    """

    input_ids: torch.Tensor
    allowed: torch.Tensor
    position_ids: torch.Tensor
    source: torch.Tensor
    target: torch.Tensor
    out_index: torch.Tensor
    out_shape: tuple[int, int]
    real_tokens: int


def _pair_lengths(input_ids: torch.Tensor, attention_mask: torch.Tensor,
                  labels: torch.Tensor) -> list[tuple[int, int, int]] | None:
    """(prompt, chosen, rejected) lengths per pair, or None when the batch cannot be packed
    exactly (prompts differ between the two sides, an empty prompt, or loss positions that
    are not one contiguous completion right after the prompt)."""
    b = input_ids.shape[0] // 2
    loss = labels != IGNORE_INDEX
    firsts = loss.int().argmax(dim=1).tolist()  # first completion position per row
    counts = loss.sum(dim=1).tolist()
    lastly = attention_mask.sum(dim=1).tolist()
    out = []
    for i in range(b):
        sides = []
        for row in (i, b + i):
            p, c, n = firsts[row], counts[row], lastly[row]
            # contiguous completion p..n-1: its count is n - p and it ends at the last real token
            if c == 0 or p < 1 or p + c != n or not bool(loss[row, p:n].all()):
                return None
            sides.append((p, c))
        (p, c), (p_r, r) = sides
        if p != p_r or not torch.equal(input_ids[i, :p], input_ids[b + i, :p]):
            return None
        out.append((p, c, r))
    return out


def pack_pairs(input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor,
               pad_id: int) -> PackedPairs | None:
    """The packed layout of a stacked preference batch, or None when it does not have the
    prompt-shared shape (then the caller runs the plain layout).

    Args:
        input_ids, attention_mask, labels: [2B, T] right-padded, rows 0..B-1 the chosen and
            B..2B-1 the rejected sequences of the same B prompts (``stack_pair``'s layout).
        pad_id: token written into padding positions.
    """
    # Built on the CPU (a few small tensors per pair), moved to the model's device by the caller.
    input_ids, attention_mask, labels = input_ids.cpu(), attention_mask.cpu(), labels.cpu()
    lengths = _pair_lengths(input_ids, attention_mask, labels)
    if lengths is None:
        return None
    t = input_ids.shape[1]
    b = input_ids.shape[0] // 2
    sizes = [p + c + r for p, c, r in lengths]
    capacity = max(sizes)
    # First-fit decreasing: rows as long as the longest segment, filled with the others.
    rows: list[list[int]] = []
    room: list[int] = []
    for i in sorted(range(b), key=lambda k: -sizes[k]):
        for row, free in enumerate(room):
            if sizes[i] <= free:
                rows[row].append(i)
                room[row] -= sizes[i]
                break
        else:
            rows.append([i])
            room.append(capacity - sizes[i])
    n_rows = len(rows)
    packed_ids = torch.full((n_rows, capacity), pad_id, dtype=torch.long)
    position_ids = torch.zeros((n_rows, capacity), dtype=torch.long)
    # Padding attends to itself only: a query with no key at all would give NaN hidden states,
    # and NaN times a zero gradient is still NaN in the weight gradients.
    allowed = torch.eye(capacity, dtype=torch.bool).repeat(n_rows, 1, 1)
    source, target, out_index = [], [], []
    width = t - 1  # the plain shifted layout [2B, T-1]
    for row, members in enumerate(rows):
        offset = 0
        for i in members:
            p, c, r = lengths[i]
            s = p + c + r
            ids, rej = input_ids[i], input_ids[b + i]
            packed_ids[row, offset:offset + s] = torch.cat([ids[:p + c], rej[p:p + r]])
            position_ids[row, offset:offset + s] = torch.cat(
                [torch.arange(p + c), torch.arange(p, p + r)])
            block = torch.ones(s, s, dtype=torch.bool).tril()
            block[p + c:, p:p + c] = False  # rejected never sees the chosen completion
            allowed[row, offset:offset + s, offset:offset + s] = block
            base = row * capacity + offset
            # chosen token k sits at p+k; predicted from p+k-1; plain shifted index p+k-1
            k_c = torch.arange(c)
            source.append(base + p + k_c - 1)
            target.append(ids[p:p + c])
            out_index.append(i * width + p + k_c - 1)
            # rejected token k sits at p+c+k; predicted from p-1 (k = 0) or p+c+k-1
            k_r = torch.arange(r)
            src = base + p + c + k_r - 1
            src[0] = base + p - 1
            source.append(src)
            target.append(rej[p:p + r])
            out_index.append((b + i) * width + p + k_r - 1)
            offset += s
    return PackedPairs(
        input_ids=packed_ids, allowed=allowed.unsqueeze(1), position_ids=position_ids,
        source=torch.cat(source), target=torch.cat(target), out_index=torch.cat(out_index),
        out_shape=(2 * b, width), real_tokens=sum(sizes),
    )


def scatter_logps(values: torch.Tensor, packed: PackedPairs, device) -> torch.Tensor:
    """[N] per-target log-probs into the plain shifted layout [2B, T-1] (0 elsewhere),
    differentiably."""
    rows, width = packed.out_shape
    out = values.new_zeros(rows * width)
    out = out.index_put((packed.out_index.to(device),), values)
    return out.view(rows, width)
