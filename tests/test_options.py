"""The declarative option-range layer (web4rl.options)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from web4rl.options import (
    Context,
    OptionError,
    Rule,
    check_options,
    constrain,
    constrain_class,
    find_problems,
    option_problems,
    rules_for,
)


@pytest.mark.parametrize("text, value, ok", [
    ("> 0", 1e-9, True), ("> 0", 0, False), ("> 0", -1.0, False),
    (">= 1", 1, True), (">= 1", 0, False),
    ("< 0.5", 0.49, True), ("< 0.5", 0.5, False),
    ("<= 1", 1.0, True), ("<= 1", 1.5, False),
    ("[0, 1)", 0.0, True), ("[0, 1)", 1.0, False), ("[0, 1)", -0.1, False),
    ("(0, 1]", 0.0, False), ("(0, 1]", 1.0, True),
    (">= -1", -1, True), (">= -1", -2, False),
])
def test_rule_bounds(text, value, ok):
    assert (Rule.parse(text).problem(value, {}) is None) == ok


def test_rule_against_another_option():
    rule = Rule.parse("[1, max_length)")
    assert rule.problem(8, {"max_length": 16}) is None
    assert rule.problem(16, {"max_length": 16}) == \
        "must be in [1, max_length) (max_length = 16), got 16"
    assert rule.problem(5, {"max_length": None}) is None  # the other option is off
    assert rule.problem(0, {"max_length": None}) is not None  # the literal bound still holds


def test_rule_ignores_none_and_non_numbers():
    assert Rule.parse("> 0").problem("text", {}) is None
    assert Rule.parse("> 0").problem(True, {}) is None


@pytest.mark.parametrize("text", ["> zero!", "0 < x", "[0 1)", "between 0 and 1", ""])
def test_unreadable_rule_is_refused_at_declaration(text):
    with pytest.raises(ValueError, match="cannot read the option rule"):
        constrain(x=text)


class Base:
    """A base.

    Args:
        lr: the step size.
        ratio: a share
            over two lines.
    """

    def __init__(self, lr: float = 1.0, ratio: float = 0.1) -> None:
        pass


Base = constrain(lr="> 0", ratio="[0, 1)")(Base)


class Child(Base):
    """A child.

    Args:
        beta: the temperature.
        lr: a child's own description.
    """

    def __init__(self, beta: float = 0.1, **kwargs) -> None:
        super().__init__(**kwargs)


Child = constrain(beta="> 0", ratio="[0, 0.5]")(Child)


@dataclass
class Settings:
    """Settings.

    Args:
        r: rank.
    """

    r: int = 4


Settings = constrain(r=">= 1")(Settings)


class Holder:
    def __init__(self, settings: Settings | None = None, items: list[int] | None = None) -> None:
        pass


def test_rules_are_inherited_and_overridable():
    rules = rules_for(Child)
    assert set(rules) == {"lr", "ratio", "beta"}
    assert rules["ratio"].text == "[0, 0.5]"  # the child's own rule wins
    assert option_problems(Child, {"lr": 1.0, "ratio": 0.7, "beta": 0.1}) == [
        ("ratio", "must be in [0, 0.5], got 0.7")]


def test_ranges_are_documented_in_the_docstrings():
    assert "the step size. Range: > 0." in Base.__doc__
    assert "over two lines. Range: [0, 1)." in Base.__doc__  # appended after the last line
    assert "the temperature. Range: > 0." in Child.__doc__
    assert "a child's own description. Range: > 0." in Child.__doc__  # inherited rule
    assert "rank. Range: >= 1." in Settings.__doc__


def test_subclass_defined_later_is_documented():
    class Grandchild(Child):
        """Late.

        Args:
            beta: documented here too.
        """

    assert "documented here too. Range: > 0." in Grandchild.__doc__


def test_check_options_names_every_problem():
    with pytest.raises(OptionError) as info:
        check_options(Child, {"lr": -1, "beta": 0, "ratio": 0.1}, prefix="model.")
    assert info.value.problems == [("model.lr", "must be > 0, got -1"),
                                   ("model.beta", "must be > 0, got 0")]
    assert str(info.value).splitlines() == ["model.lr: must be > 0, got -1",
                                            "model.beta: must be > 0, got 0"]


def test_list_values_are_checked_per_element():
    constrained = constrain(betas="[0, 1)")(type("Opt", (), {}))
    assert option_problems(constrained, {"betas": (0.9, 0.999)}) == []
    assert option_problems(constrained, {"betas": (0.9, 1.5)}) == [
        ("betas", "must be in [0, 1), got 1.5")]


def test_function_rules_see_the_other_options_and_the_stage():
    seen = []

    def rule(value, context: Context):
        """something special"""
        seen.append((value, dict(context.options), context.stage))
        return "bad" if value == "x" else None

    constrained = constrain(name=rule)(type("Opt", (), {}))
    assert find_problems({"class_path": f"{__name__}.Opt", "init_args": {}}) == []  # not importable
    assert option_problems(constrained, {"name": "x", "other": 1}, "k.", "fit") == [("k.name", "bad")]
    assert seen == [("x", {"name": "x", "other": 1}, "fit")]


def test_find_problems_walks_class_paths_lists_and_nested_settings():
    config = {
        "model": {"class_path": f"{__name__}.Child",
                  "init_args": {"lr": 0.0, "beta": 1.0, "ratio": 0.1}},
        "holders": [{"class_path": f"{__name__}.Holder",
                     "init_args": {"settings": {"r": 0}, "items": [1, 2]}}],
    }
    assert find_problems(config) == [
        ("model.init_args.lr", "must be > 0, got 0.0"),
        ("holders[0].init_args.settings.r", "must be >= 1, got 0"),
    ]


def test_classes_we_do_not_own_register_their_rules():
    class Foreign:
        def __init__(self, patience: int = 3) -> None:
            pass

    constrain_class(Foreign, patience=">= 0")
    assert option_problems(Foreign, {"patience": -1}) == [("patience", "must be >= 0, got -1")]


def test_every_shipped_module_declares_its_ranges():
    """The modules the configs use carry declarations (a new module should too)."""
    from web4rl.algorithms import DPO, ORPO, SFT
    from web4rl.callbacks import PlainProgressBar, TokenThroughput
    from web4rl.data import PreferenceDataModule, SFTDataModule
    from web4rl.policy import LoraSettings, Policy

    for cls, option in [(SFT, "lr"), (ORPO, "beta"), (DPO, "label_smoothing"),
                        (SFTDataModule, "max_prompt_length"), (PreferenceDataModule, "batch_size"),
                        (Policy, "init_adapter"), (LoraSettings, "dropout"),
                        (TokenThroughput, "log_every_n_steps"), (PlainProgressBar, "every_seconds")]:
        assert option in rules_for(cls), (cls, option)


def test_library_construction_is_checked_too():
    """The same declarations guard library use: an algorithm built in Python with a bad value
    fails at construction, naming the option, not later in the optimizer."""
    from web4rl.algorithms import DPO
    from web4rl.policy import Policy

    policy = Policy("web4rl/tiny")
    with pytest.raises(OptionError, match=r"^lr: must be >= 0, got -1"):
        DPO(policy=policy, lr=-1)
    with pytest.raises(OptionError, match=r"label_smoothing: must be in \[0, 0.5\)"):
        DPO(policy=policy, label_smoothing=0.7)
    DPO(policy=policy, lr=1e-3, adapter_dir=".")  # the fit-only output check does not apply


def test_adapter_dir_must_be_free_only_for_fit(tmp_path):
    from web4rl.options import output_dir_free

    (tmp_path / "adapter_config.json").write_text("{}")
    taken = {"adapter_dir": str(tmp_path), "overwrite_adapter": False}
    assert "already holds files" in output_dir_free(str(tmp_path), Context(taken, "fit"))
    for stage in ("validate", "test", None):  # evaluating a finished run reads, never writes
        assert output_dir_free(str(tmp_path), Context(taken, stage)) is None
    allowed = {**taken, "overwrite_adapter": True}
    assert output_dir_free(str(tmp_path), Context(allowed, "fit")) is None
    assert output_dir_free(str(tmp_path / "new"), Context(taken, "fit")) is None
