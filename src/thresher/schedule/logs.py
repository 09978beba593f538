"""Logs of unattended runs: ``archive/logs/thresher.log``, rotated, plus the console for what matters.

Only the process holding the crawl lock writes the log file, so two processes never rotate it at once.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

from ..errors import StoreError

__all__ = ["LOG_BACKUPS", "LOG_MAX_BYTES", "LOG_NAME", "run_logging"]

LOG_NAME = "logs/thresher.log"
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 5


@contextlib.contextmanager
def run_logging(
    root: Path, *, quiet: bool, max_bytes: int = LOG_MAX_BYTES, backups: int = LOG_BACKUPS
) -> Iterator[logging.Logger]:
    """Send the ``thresher`` logger to the rotated log file (INFO and up) and to stderr.

    The console gets INFO and up, or only errors when ``quiet`` (cron mails whatever is printed).
    """
    path = root / LOG_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"cannot write the log {path}: {exc.strerror or exc}") from exc
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(message)s"))
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.ERROR if quiet else logging.INFO)
    console.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("thresher")
    old_level, old_propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(file_handler)
    logger.addHandler(console)
    try:
        yield logger
    finally:
        logger.removeHandler(console)
        logger.removeHandler(file_handler)
        file_handler.close()
        logger.setLevel(old_level)
        logger.propagate = old_propagate
