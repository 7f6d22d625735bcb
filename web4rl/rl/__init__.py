"""Pure RL maths shared by the Stage 2/3 algorithms (AWR weights, GAE, KL, ...): tensor
functions with the paper's equation in the docstring, no module state, no trainer."""
