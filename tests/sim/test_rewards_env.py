"""Reward rules, the episode core, the gymnasium env, the batched form, logs.

Most tests run under both tool profiles (web4, the default, and cursor): the same task in
canonical form is translated to each, and the action texts below are each profile's own.
"""

import json

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import web4rl.sim  # noqa: F401  (registers the env id)
from web4rl.sim.env import ENV_ID, BatchedToolUseEnv, ToolUseEnv
from web4rl.sim.episode import Episode, verify_task
from web4rl.sim.logs import EpisodeLogger, read_log, render_episode
from web4rl.sim.rewards import COMPONENT_NAMES, RewardConfig, style_issues
from web4rl.sim.tasks import as_task
from web4rl.sim.tools import PROFILE_NAMES, get_profile


def act(tools, tool, **args):
    return get_profile(tools).format_action(tool, args)


ACTIONS = {
    "cursor": {
        "READ": act("cursor", "read_file", target_file="main.ts"),
        "WC": act("cursor", "run_terminal_cmd", command="wc -l main.ts"),
        "LIST": act("cursor", "list_dir", target_directory="."),
        "write": lambda path, text: act("cursor", "write", file_path=path, contents=text),
        "run": lambda cmd: act("cursor", "run_terminal_cmd", command=cmd),
        "read_missing": act("cursor", "read_file", target_file="missing.ts"),
    },
    "web4": {
        "READ": act("web4", "read_file", path="main.ts"),
        "WC": act("web4", "run_terminal_command", command="wc -l main.ts"),
        "LIST": act("web4", "ls", path="."),
        "write": lambda path, text: act("web4", "create_new_file", path=path, content=text),
        "run": lambda cmd: act("web4", "run_terminal_command", command=cmd),
        "read_missing": act("web4", "read_file", path="missing.ts"),
    },
}
READ = ACTIONS["web4"]["READ"]
WC = ACTIONS["web4"]["WC"]
LIST = ACTIONS["web4"]["LIST"]
KEEP_GOING = RewardConfig(end_on_error=False)


@pytest.mark.parametrize("tools", PROFILE_NAMES)
def test_worked_example_earns_23(count_task, tools):
    """read_file: +5 correct +2 schema -0.5 step = 6.5; wc -l: 6.5 + 10 complete = 16.5; total 23.

    Same numbers in both profiles (read_file {path} / {target_file}, run_terminal_command /
    run_terminal_cmd).
    """
    a = ACTIONS[tools]
    ep = Episode(count_task, tools=tools)
    first, second = ep.step(a["READ"]), ep.step(a["WC"])
    assert first.reward == 6.5 and not first.terminated
    assert second.reward == 16.5 and second.terminated and not second.truncated
    assert first.reward + second.reward == 23.0
    assert second.info["success"] is True and second.info["tools"] == tools
    assert verify_task(count_task, tools=tools).reward == 23.0


def test_profiles_reject_each_others_arguments(count_task):
    """The cursor spelling is a schema failure under web4 and the other way round."""
    c, _ = components(Episode(count_task, KEEP_GOING), ACTIONS["cursor"]["READ"])
    assert c == {"schema_fail": -5.0, "step": -0.5}  # right tool name, wrong argument
    c, _ = components(Episode(count_task, KEEP_GOING, tools="cursor"), ACTIONS["web4"]["WC"])
    assert c == {"wrong_tool": -3.0, "schema_fail": -5.0, "step": -0.5}  # unknown tool


def test_every_step_carries_all_components(count_task):
    ep = Episode(count_task, KEEP_GOING)
    total = 0.0
    for text in ["nonsense", LIST, READ]:
        out = ep.step(text)
        assert tuple(out.info["reward_components"]) == COMPONENT_NAMES
        assert out.reward == sum(out.info["reward_components"].values())
        total += out.reward
    assert ep.total_reward == total


def components(ep, text):
    out = ep.step(text)
    return {k: v for k, v in out.info["reward_components"].items() if v}, out


def test_parse_failures(count_task):
    ep = Episode(count_task, KEEP_GOING)
    c, out = components(ep, "not json")
    assert c == {"wrong_tool": -3.0, "schema_fail": -5.0, "step": -0.5}
    assert "invalid_json" in out.observation and out.info["parse_error"]["kind"] == "invalid_json"
    assert not out.terminated  # end_on_error=False: the model may read the error and retry
    c, _ = components(ep, '{"tool": "delete", "args": {}}')
    assert c == {"wrong_tool": -3.0, "schema_fail": -5.0, "step": -0.5}
    # Right tool, bad arguments: no tool credit (the call failed), schema penalty, no
    # wrong_tool either; the expected pointer does not move.
    c, _ = components(ep, '{"tool_calls": [{"name": "read_file", "parameters": {}}]}')
    assert c == {"schema_fail": -5.0, "step": -0.5}
    c, _ = components(ep, READ)
    assert c["correct_tool"] == 5.0


@pytest.mark.parametrize("text", ["not json", '{"tool": "delete", "args": {}}'])
def test_errors_end_the_episode_by_default(count_task, text):
    """Seed default (rewards.end_on_error): a JSON / schema / execution error ends it."""
    ep = Episode(count_task)
    out = ep.step(text)
    assert out.terminated and not out.truncated and ep.done and not ep.success
    assert out.info["ended_by_error"] and out.info["reward_components"]["failed"] == 0.0


@pytest.mark.parametrize("tools", PROFILE_NAMES)
def test_failed_execution_costs_exec_error_and_no_tool_credit(count_task, tools):
    """Reading a missing file with the expected tool: +2 schema -0.5 step -3 exec error."""
    ep = Episode(count_task, tools=tools)
    c, out = components(ep, ACTIONS[tools]["read_missing"])
    assert c == {"schema_pass": 2.0, "step": -0.5, "exec_error": -3.0}
    assert out.terminated and out.info["guardrail"] is None and "no such file" in out.observation
    ep = Episode(count_task, KEEP_GOING, tools=tools)
    components(ep, ACTIONS[tools]["read_missing"])
    c, out = components(ep, ACTIONS[tools]["READ"])  # the pointer did not move: still read_file
    assert c["correct_tool"] == 5.0 and not out.terminated


@pytest.mark.parametrize("tools", PROFILE_NAMES)
def test_command_outside_the_subset_is_an_error_not_a_guardrail(count_task, tools):
    ep = Episode(count_task, KEEP_GOING, tools=tools)
    c, out = components(ep, ACTIONS[tools]["run"]("npm test"))
    assert out.info["guardrail"] is None and "guardrail" not in c
    assert c["exec_error"] == -3.0 and "command not found" in out.observation


@pytest.mark.parametrize("tools", PROFILE_NAMES)
def test_wrong_tool_redundant_and_past_expected(count_task, tools):
    a = ACTIONS[tools]
    ep = Episode(count_task, tools=tools)
    c, _ = components(ep, a["LIST"])
    assert c == {"wrong_tool": -3.0, "schema_pass": 2.0, "step": -0.5}
    c, _ = components(ep, a["LIST"])
    assert c == {"wrong_tool": -3.0, "schema_pass": 2.0, "step": -0.5, "redundant": -2.0}
    # The same action after the workspace changed is not redundant.
    components(ep, a["write"]("x.ts", "x\n"))
    c, _ = components(ep, a["LIST"])
    assert "redundant" not in c


@pytest.mark.parametrize("tools", PROFILE_NAMES)
def test_style_pass_only_for_clean_writes(count_task, tools):
    a = ACTIONS[tools]
    ep = Episode(count_task, tools=tools)
    c, _ = components(ep, a["write"]("a.ts", "export const a = 1;\n"))
    assert c.get("style_pass") == 1.0
    c, _ = components(ep, a["write"]("b.ts", "var a = 1;  \n"))
    assert "style_pass" not in c
    assert style_issues("a.ts", "var x = 1") == [
        "missing final newline",
        "uses `var` (use const/let)",
    ]
    assert style_issues("a.json", "{bad}\n")[0].startswith("invalid JSON")
    assert style_issues("notes.txt", "ok\n")  # unlinted types never pass


@pytest.mark.parametrize("tools", PROFILE_NAMES)
def test_guardrail_ends_episode_with_penalty(count_task, tools):
    run = ACTIONS[tools]["run"]
    ep = Episode(count_task, tools=tools)
    c, out = components(ep, run("rm -rf /"))
    assert c == {"guardrail": -10.0, "step": -0.5}  # seed: -10 and the episode ends
    assert out.terminated and "rm -rf" in out.info["guardrail"] and "guardrail" in out.observation
    assert ep.ws.files() == count_task.initial_files
    ep2 = Episode(count_task, RewardConfig(guardrail_also_fails=True), tools=tools)
    c, _ = components(ep2, run("sudo ls"))
    assert c == {"guardrail": -10.0, "failed": -5.0, "step": -0.5}


def test_budget_exhaustion_fails(count_task):
    ep = Episode(count_task, KEEP_GOING)
    outs = [ep.step(LIST if i % 2 else "x") for i in range(count_task.max_steps)]
    assert outs[-1].truncated and not outs[-1].terminated
    assert outs[-1].info["reward_components"]["failed"] == -5.0
    after = ep.step(READ)
    assert after.reward == 0.0 and after.terminated


def test_list_of_actions_in_one_step(count_task):
    ep = Episode(count_task)
    out = ep.step(f"[{READ}, {WC}]")
    assert out.reward == 23.0 and out.terminated and len(out.info["actions"]) == 2
    # The real data's form: several calls in one tool_calls list.
    calls = [json.loads(READ)["tool_calls"][0], json.loads(WC)["tool_calls"][0]]
    out = Episode(count_task).step(json.dumps({"tool_calls": calls}))
    assert out.reward == 23.0 and out.info["success"]


def test_custom_reward_numbers(count_task):
    ep = Episode(count_task, RewardConfig(complete=100.0, step=0.0))
    ep.step(READ)
    assert ep.step(WC).reward == 107.0


@pytest.mark.parametrize("tools", PROFILE_NAMES)
def test_gym_make_and_env_checker(count_task, tools):
    env = gym.make(ENV_ID, tools=tools)
    assert isinstance(env.unwrapped, ToolUseEnv) and env.unwrapped.tools == tools
    check_env(ToolUseEnv(tools=tools), skip_render_check=True)
    obs, info = env.reset(seed=0, options={"task": count_task.to_dict()})
    assert info["task_id"] == "test/count-lines" and "Read main.ts" in obs and "read_file(" in obs
    assert info["tools"] == tools
    assert ("view_diff()" in obs) == (tools == "web4")
    assert env.unwrapped.catalog_text() in obs
    obs, reward, terminated, truncated, info = env.step(ACTIONS[tools]["READ"])
    assert reward == 6.5 and "console.log(a + b);" in obs


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown tool profile 'vscode'"):
        ToolUseEnv(tools="vscode")


def run_script(task, actions):
    env = ToolUseEnv(rewards=KEEP_GOING, tools="cursor")
    obs, _ = env.reset(seed=1, options={"task": task})
    trace = [obs]
    for text in actions:
        obs, reward, terminated, truncated, info = env.step(text)
        trace.append((obs, reward, terminated, truncated, json.dumps(info, sort_keys=True)))
    return trace, env.workspace_files()


def test_same_task_same_actions_same_everything(count_task):
    actions = [
        ACTIONS["cursor"]["LIST"],
        "garbage",
        json.dumps(
            {"tool": "write", "args": {"file_path": "src/new.ts", "contents": "export {};\n"}}
        ),
        json.dumps({"tool": "grep", "args": {"pattern": "const", "output_mode": "count"}}),
        json.dumps({"tool": "codebase_search", "args": {"query": "console log"}}),
        ACTIONS["cursor"]["READ"],
        ACTIONS["cursor"]["WC"],
    ]
    first, second = run_script(count_task, actions), run_script(count_task, actions)
    assert first == second
    assert first[1]["src/new.ts"] == "export {};\n"


def test_reset_seed_picks_the_same_generated_task():
    a, b = ToolUseEnv(), ToolUseEnv()
    obs_a = [a.reset(seed=s)[0] for s in range(5)]
    obs_b = [b.reset(seed=s)[0] for s in range(5)]
    assert obs_a == obs_b and len(set(obs_a)) > 1


def test_batched_group_of_one_task(count_task):
    batch = BatchedToolUseEnv(include_catalog=False)
    obs = batch.reset_group(count_task, group_size=4)
    assert len(obs) == 4 and len(set(obs)) == 1
    _, rewards, term, trunc, _ = batch.step([READ, "bad", LIST, f"[{READ}, {WC}]"])
    assert rewards == [6.5, -8.5, -0.5 - 3 + 2, 23.0]
    assert term == [False, True, False, True]  # "bad" ends its episode (end_on_error)
    _, rewards, term, _, infos = batch.step([WC, WC, WC, WC])
    assert rewards[0] == 16.5 and rewards[1] == 0.0 and rewards[3] == 0.0 and infos[3]["finished"]
    assert batch.returns()[0] == 23.0 and batch.done == [True, True, False, True]
    assert batch.tools == "web4" and "view_diff()" in batch.catalog_text()
    with pytest.raises(ValueError):
        batch.step([READ])


def test_episode_log_roundtrip_and_render(tmp_path, count_task):
    log = tmp_path / "episodes.jsonl"
    env = ToolUseEnv(log_path=log, rewards=KEEP_GOING)
    for _ in range(2):
        env.reset(seed=7, options={"task": count_task})
        env.step("oops")
        env.step(READ)
        env.step(WC)
    env.logger.close()
    episodes = read_log(log)
    assert len(episodes) == 2 and [r["type"] for r in episodes[0]] == [
        "start",
        "step",
        "step",
        "step",
        "end",
    ]
    assert episodes[0][-1] == {"type": "end", "success": True, "return": 14.5, "steps": 3}
    assert episodes[0][1]["components"]["schema_fail"] == -5.0
    assert episodes[0][0]["tools"] == "web4"
    # The logged task is the canonical one (reloadable); "tools" says how it was played.
    logged = as_task(episodes[0][0]["task"])
    assert logged == count_task
    assert logged.for_tools("web4").expected_actions[0] == {
        "tool": "read_file",
        "args": {"path": "main.ts"},
    }
    text = render_episode(episodes[0])
    assert "test/count-lines" in text and "parse error (invalid_json)" in text and "SUCCESS" in text


def test_read_log_errors_name_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "start", "task": {}}\n{broken\n')
    with pytest.raises(ValueError, match=":2: malformed JSON"):
        read_log(bad)
    bad.write_text('{"type": "step"}\n')
    with pytest.raises(ValueError, match="before any start"):
        read_log(bad)


def test_logger_is_lazy(tmp_path):
    logger = EpisodeLogger(tmp_path / "never.jsonl")
    logger.close()
    assert not (tmp_path / "never.jsonl").exists()


def test_rollout_runs_a_group_to_completion(count_task):
    batch = BatchedToolUseEnv(include_catalog=False)
    batch.reset_group(count_task, group_size=3)
    calls = []

    def policy(observations):
        calls.append(len(observations))
        step = len(calls)
        # Episode 0 solves in 2 steps, 1 in one list action, 2 flails until the budget runs out.
        scripted = {0: [READ, WC], 1: [f"[{READ}, {WC}]"], 2: [LIST] * 10}
        active = [i for i in range(3) if not batch.episodes[i].done]
        return [scripted[i][min(step - 1, len(scripted[i]) - 1)] for i in active]

    trajectories = batch.rollout(policy)
    assert [t.success for t in trajectories] == [True, True, False]
    assert [t.total_reward for t in trajectories] == batch.returns()
    assert trajectories[0].total_reward == 23.0 and len(trajectories[0].observations) == 3
    assert len(trajectories[2].actions) == count_task.max_steps
    assert calls[:3] == [3, 2, 1]


def test_env_updates_its_curriculum():
    env = ToolUseEnv(include_catalog=False)
    env.reset(seed=0)
    for _ in range(env.episode.task.max_steps):
        *_, terminated, truncated, _ = env.step("x")
        if terminated or truncated:
            break
    assert env.curriculum.episodes == 1
