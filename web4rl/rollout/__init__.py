"""Rollouts: the policy plays multi-turn tool-use episodes (DESIGN.md section 2).

render (what the policy sees), envs (turn environments, reward sources), engine (batched
play), batch (RolloutBatch), datamodule (RolloutDataModule: curriculum, held-out tasks).
Algorithms reach the simulator and the judge only through this package.
"""

from web4rl.rollout.batch import RolloutBatch
from web4rl.rollout.datamodule import Phase, RolloutDataModule
from web4rl.rollout.engine import RolloutEngine
from web4rl.rollout.envs import (
    JudgeReward,
    RewardSource,
    SimTurnEnv,
    SimulatorReward,
    TurnContext,
    TurnEnv,
    TurnOutcome,
    WeightedReward,
)
from web4rl.rollout.render import TurnRenderer, opening_messages, system_prompt

__all__ = [
    "JudgeReward",
    "Phase",
    "RolloutDataModule",
    "RewardSource",
    "RolloutBatch",
    "RolloutEngine",
    "SimTurnEnv",
    "SimulatorReward",
    "TurnContext",
    "TurnEnv",
    "TurnOutcome",
    "TurnRenderer",
    "WeightedReward",
    "opening_messages",
    "system_prompt",
]
