"""Rollout engine: conversation layout and masks, behaviour log-probs, reward sources,
the data module's held-out split and state."""

import pytest
import torch

from web4rl.policy import LoraSettings, Policy
from web4rl.rollout import (
    RolloutDataModule,
    RolloutEngine,
    SimTurnEnv,
    SimulatorReward,
    TurnContext,
    TurnRenderer,
    WeightedReward,
    opening_messages,
)
from web4rl.sequence import token_logps
from web4rl.sim.generators import generate_task

TOOLS = "web4"


@pytest.fixture(scope="module")
def policy():
    torch.manual_seed(0)
    return Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8))


def test_turn_rendering_equals_the_chat_template(policy):
    """Opening + action + stop + tool turn + action + stop, built piece by piece, is exactly
    the chat template's rendering of the whole message list; without a stop token (length
    cut) the tool-turn text closes the assistant turn itself."""
    tok = policy.tokenizer
    r = TurnRenderer(tok)
    msgs = opening_messages(TOOLS, "Do the task.")
    stop = tok.decode([tok.eos_token_id])
    a1, reply, a2 = '{"tool": "list_dir", "args": {}}', "Result:\nsrc/", '{"tool": "grep"}'
    pieces = (tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
              + a1 + stop + r.tool_turn_text(reply, stop) + a2 + stop)
    full = msgs + [{"role": "assistant", "content": a1}, {"role": "tool", "content": reply},
                   {"role": "assistant", "content": a2}]
    assert pieces + "\n" == tok.apply_chat_template(full, tokenize=False)
    assert r.tool_turn_text(reply, None).startswith(stop)


def test_policy_mask_covers_only_sampled_turns(policy):
    """Each conversation is opening ids + (sampled turn + tool turn ids)*: the mask is True
    exactly on the sampled turns, never on system, task, tool-result or padding tokens."""
    engine = RolloutEngine(tools=TOOLS, max_turns=3, max_new_tokens=6)
    tasks = [generate_task("tool_use", "simple", s) for s in range(2)]
    batch, _ = engine.play_tasks(policy.model, policy.tokenizer, tasks, seed=3, group_size=2)
    r = TurnRenderer(policy.tokenizer)
    stop_ids = {policy.tokenizer.eos_token_id}
    for i in range(len(batch)):
        env = SimTurnEnv(tasks[i // 2], tools=TOOLS, max_turns=3)
        expected = r.opening_ids(opening_messages(TOOLS, env.first_message()))
        mask = [False] * len(expected)
        ids = batch.input_ids[i].tolist()
        pos = len(expected)
        for j, action in enumerate(batch.actions[i]):
            end = int(batch.turn_end[i, j]) + 1
            run = ids[pos:end]
            expected += run
            mask += [True] * len(run)
            out = env.step(action)
            if not out.done:
                stop = policy.tokenizer.decode([run[-1]]) if run[-1] in stop_ids else None
                tool = r.tool_turn_ids(out.reply, stop)
                expected += tool
                mask += [False] * len(tool)
            pos = len(expected)
        n = int(batch.attention_mask[i].sum())
        assert ids[:n] == expected
        assert batch.policy_mask[i, :n].tolist() == mask
        assert not batch.policy_mask[i, n:].any()
        assert int(batch.num_turns[i]) == len(batch.actions[i])
    assert batch.returns.tolist() == pytest.approx(batch.turn_rewards.sum(-1).tolist())
    # Turn rewards land on each turn's last sampled token.
    assert batch.token_rewards().sum().item() == pytest.approx(batch.returns.sum().item())


def test_behaviour_logps_equal_a_fresh_forward_pass(policy):
    """log softmax(logits / T) of the sampled tokens from one full forward pass over the
    finished conversations equals what sampling recorded, turn after turn."""
    engine = RolloutEngine(tools=TOOLS, max_turns=2, max_new_tokens=6, temperature=0.7)
    tasks = [generate_task("multi_step", "simple", s) for s in range(3)]
    batch, _ = engine.play_tasks(policy.model, policy.tokenizer, tasks, seed=5)
    labels = batch.input_ids.masked_fill(~batch.policy_mask, -100)
    policy.model.eval()
    with torch.no_grad():
        logits = policy(batch.input_ids, batch.attention_mask) / 0.7
    fresh, mask = token_logps(logits, labels)
    assert torch.equal(mask, batch.policy_mask[:, 1:])
    assert torch.allclose(fresh[mask], batch.behaviour_logps[:, 1:][mask], atol=1e-4)


def test_weighted_reward_sums_sources():
    """Two simulator sources with weights 1 and 0.5 give 1.5 x the simulator reward."""
    env = SimTurnEnv(generate_task("tool_use", "simple", 0), tools=TOOLS)
    out = env.step("not json")
    ctx = TurnContext(env.task, "not json", out, 0)
    reward, comps = WeightedReward([SimulatorReward(), SimulatorReward()], [1.0, 0.5])(ctx)
    assert reward == pytest.approx(1.5 * out.reward) and reward < 0
    assert comps["schema_fail"] == out.components["schema_fail"]


def test_datamodule_heldout_never_trained_and_state_roundtrip():
    """Training tasks never come from the held-out set; update k's tasks depend only on
    (seed, rank, k, curriculum state), differ across ranks, and survive a state round trip."""
    dm = RolloutDataModule(RolloutEngine(tools=TOOLS), episodes_per_update=8, group_size=4,
                           seed=1)
    assert dm.heldout and all(t.difficulty in ("simple", "medium") for t in dm.heldout)
    seen = [t.id for k in range(30) for t in dm.sample_tasks(k)]
    assert not set(seen) & dm.heldout_ids
    assert [t.id for t in dm.sample_tasks(3)] == [t.id for t in dm.sample_tasks(3)]
    assert [t.id for t in dm.sample_tasks(3, rank=1)] != [t.id for t in dm.sample_tasks(3)]
    dm.curriculum.update("simple", True)
    dm.update = 7
    other = RolloutDataModule(RolloutEngine(tools=TOOLS), episodes_per_update=8, group_size=4,
                              seed=1)
    other.load_state_dict(dm.state_dict())
    assert other.update == 7 and other.curriculum.state_dict() == dm.curriculum.state_dict()
    with pytest.raises(ValueError, match="must divide"):
        RolloutDataModule(episodes_per_update=6, group_size=4)


def test_episode_logs_replay(policy, tmp_path):
    """Rollout episodes are written in the simulator's JSONL log format: read_log finds
    every episode and `sim replay` renders them."""
    from web4rl.sim.cli import main as sim_main
    from web4rl.sim.logs import read_log

    engine = RolloutEngine(tools=TOOLS, max_turns=2, max_new_tokens=4)
    dm = RolloutDataModule(engine, episodes_per_update=4, log_dir=str(tmp_path))
    tasks = [generate_task("tool_use", "simple", s) for s in range(3)]
    batch, envs = engine.play_tasks(policy.model, policy.tokenizer, tasks, seed=0)
    dm._log_episodes(envs, "update000000", seed=0)
    log = tmp_path / "update000000-rank0.jsonl"
    episodes = read_log(log)
    assert len(episodes) == 3
    assert [e[-1]["type"] for e in episodes] == ["end"] * 3
    assert [len([r for r in e if r["type"] == "step"]) for e in episodes] == batch.num_turns.tolist()
    with (tmp_path / "out.txt").open("w") as fh:
        assert sim_main(["replay", str(log)], stdout=fh) == 0


def test_heldout_set_is_played_once_per_policy_during_fit(tmp_path, monkeypatch):
    """With val_check_interval equal to num_updates, Lightning validates after the last update
    and again at the end of the (unsized) epoch, with the same weights. The held-out set is
    played once: the second pass yields no batch (a SmolLM2 GRPO run spent ~5 CPU minutes
    replaying it); a standalone `validate` still plays it every time."""
    from tests.helpers import cpu_trainer
    from web4rl.algorithms import GRPO

    engine = RolloutEngine(tools=TOOLS, max_turns=1, max_new_tokens=4)
    dm = RolloutDataModule(engine, episodes_per_update=4, group_size=4, num_updates=2,
                           categories=["tool_use"], eval_limit=2, eval_batch_size=2, seed=0)
    played = []
    real = engine.play_tasks

    def counting(model, tokenizer, tasks, *args, **kwargs):
        if all(t.id in dm.heldout_ids for t in tasks):
            played.append(dm.update)
        return real(model, tokenizer, tasks, *args, **kwargs)

    monkeypatch.setattr(engine, "play_tasks", counting)
    module = GRPO(policy=Policy("web4rl/tiny", lora=LoraSettings(r=4, alpha=8)), lr=1e-3,
                  minibatch_size=4)
    trainer = cpu_trainer(tmp_path, max_epochs=1, val_check_interval=2,
                          check_val_every_n_epoch=None, num_sanity_val_steps=0)
    trainer.fit(module, dm)
    assert played == [2]
    assert "val/success_rate" in trainer.callback_metrics
    trainer.validate(module, dm)
    trainer.validate(module, dm)
    assert played == [2, 2, 2]
