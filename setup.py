"""Build hook: ship the repository's configs/ inside the package as web4rl/configs/.

configs/ stays the one source (scripts/make_configs.py writes it); every *.yaml there is copied
into the built package, so `python -m web4rl fit --config orpo_a100.yaml` works for a
pip-installed user too. Metadata lives in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithConfigs(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # editable installs read configs/ next to the package
            return
        target = Path(self.build_lib) / "web4rl" / "configs"
        shutil.rmtree(target, ignore_errors=True)  # a config deleted from configs/ must go too
        target.mkdir(parents=True)
        for path in sorted((ROOT / "configs").glob("*.yaml")):
            shutil.copyfile(path, target / path.name)


setup(cmdclass={"build_py": BuildPyWithConfigs})
