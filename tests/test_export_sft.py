"""export-sft: reference solutions as multi-turn SFT rows in the rollout layout."""

import json

from web4rl.cli import main as web4rl_main
from web4rl.rollout import SimTurnEnv, opening_messages
from web4rl.rollout.export import conversation_rows
from web4rl.rollout.tasksplit import split_tasks
from web4rl.sim.generators import generate_task


def test_rows_follow_the_rollout_layout_and_solve_the_task():
    """Row k holds the opening (same as rollouts), then k assistant actions with the tool
    results between them; replaying the actions solves the task."""
    task = generate_task("multi_step", "medium", 3)
    rows = conversation_rows(task, "web4")
    assert len(rows) >= 2
    env = SimTurnEnv(task, tools="web4")
    assert rows[0]["messages"][:2] == opening_messages("web4", env.first_message())
    last = rows[-1]["messages"]
    assert [m["role"] for m in last[2:]] == ["assistant", "tool"] * (len(rows) - 1) + ["assistant"]
    for k, row in enumerate(rows):
        assert row["messages"] == last[: 3 + 2 * k]
    actions = [m["content"] for m in last if m["role"] == "assistant"]
    assert all(json.loads(a)["tool_calls"] for a in actions)  # the web4 action form
    outs = [env.step(a) for a in actions]
    assert outs[-1].success and [o.reply for o in outs[:-1]] == [
        m["content"] for m in last if m["role"] == "tool"]


def test_cli_writes_rows_without_heldout_tasks(tmp_path, capsys):
    out = tmp_path / "warm.jsonl"
    code = web4rl_main(["sim", "export-sft", "--out", str(out), "--generated", "1",
                        "--categories", "tool_use", "multi_step"])
    assert code == 0, capsys.readouterr().out
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    _, held = split_tasks()
    assert rows and not {r["task_id"] for r in rows} & {t.id for t in held}
    capsys.readouterr()
    assert web4rl_main(["sim", "export-sft", "--out", str(out)]) == 2  # no silent overwrite
    assert str(out) in capsys.readouterr().out
