"""The one place that reads the environment.

Every setting that differs between a laptop, CI and production comes from here.
Unset variables fall back to an embedded default that needs no server:
SQLite, a broker on the filesystem and email printed to the console.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A developer may keep local overrides in .env (see .env.example); the real
# environment always wins over the file.
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
