"""Installs pphumanseg (contrib/pphumanseg) and its runtime-only package pphumanseg_deploy.

Dependencies are read from requirements/*.txt, the single place where versions are pinned;
scripts/setup.sh installs from the same files.
"""
import re
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent


def read_requirements(name):
    lines = (ROOT / "requirements" / f"{name}.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


version = re.search(r'__version__ = "([^"]+)"',
                    (ROOT / "contrib/pphumanseg/__init__.py").read_text()).group(1)

setup(
    name="pphumanseg",
    version=version,
    description="PP-HumanSeg (ConnectNet, SC loss, teleconference video data) as a PaddleSeg extension",
    long_description=(ROOT / "README.md").read_text(),
    long_description_content_type="text/markdown",
    python_requires=">=3.8",
    # The runtime-only package lives in deploy/python so that deploy/ can be copied alone; it
    # imports no training code (no paddleseg, no pphumanseg).
    package_dir={"": "contrib", "pphumanseg_deploy": "deploy/python/pphumanseg_deploy"},
    packages=find_packages("contrib") + ["pphumanseg_deploy"],
    include_package_data=True,
    install_requires=read_requirements("base"),
    extras_require={
        "onnx": read_requirements("onnx"),
        "lite": read_requirements("lite"),
        "test": read_requirements("test"),
    },
    entry_points={"console_scripts": ["pphumanseg = pphumanseg.cli.main:main"]},
    license="Apache-2.0",
)
