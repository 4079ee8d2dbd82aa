"""Packaging for sentry-sdk: a drop-in, from-scratch Sentry SDK for Python."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'^VERSION = "([^"]+)"', (HERE / "sentry_sdk" / "consts.py").read_text(), re.M).group(1)

setup(
    name="sentry-sdk",
    version=VERSION,
    description="A drop-in Sentry SDK for Python: errors, logs and breadcrumbs to Sentry, cheaply and safely.",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["sentry_sdk", "sentry_sdk.*"]),
    package_data={"sentry_sdk": ["py.typed"]},
    zip_safe=False,
    python_requires=">=3.9",
    install_requires=["urllib3>=1.26.11", "certifi"],
    extras_require={
        "test": [
            "pytest>=7.4",
            "mypy>=1.8",
            "ruff>=0.4",
            "sentry-relay>=0.9",
            "hypothesis>=6.80",
            # The frameworks the web and task-queue integrations are tested on, for real.
            "flask>=2.0",
            "flask-login>=0.6",
            "django>=4.2",
            "celery>=5.3",
            "redis>=4.5",
            "starlette>=0.36",
            "fastapi>=0.110",
            "python-multipart>=0.0.9",
            "httpx>=0.24",
            "uvicorn>=0.27",
            "sqlalchemy>=2.0",
            "requests>=2.28",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Typing :: Typed",
    ],
)
