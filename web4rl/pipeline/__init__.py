"""Stage 0 to 4 in one command: ``python -m web4rl pipeline --config configs/pipeline_cpu.yaml``."""

from web4rl.pipeline.run import Pipeline, StageFailed, StageResult
from web4rl.pipeline.spec import PipelineSpec, PipelineSpecError, load_spec

__all__ = ["Pipeline", "PipelineSpec", "PipelineSpecError", "StageFailed", "StageResult", "load_spec"]
