"""The one ``sqlite3`` module thresher uses: pysqlite3's when it is installed, else the standard library's.

Every module of thresher imports ``sqlite3`` from here, never directly, for two reasons:

- **One module with sqlite-utils.** sqlite-utils picks pysqlite3 over the standard library whenever it can
  import it (``sqlite_utils.utils.sqlite3``). Connections and exception classes of the two modules are
  unrelated types, so a connection opened by one raises errors the other's ``except sqlite3.Error`` does not
  catch. Making the same choice keeps both sides on one set of classes.
- **A current SQLite.** The ``sqlite`` extra installs ``pysqlite3-binary`` (Linux x86-64 wheels only), which
  bundles a recent SQLite (3.51 in late 2026) where Python's build may link an old system library (3.40 on
  Debian 12). On the bench's 100,000-article archive its FTS5 ranks the same queries with 15-20% less CPU
  (``bench/README.md``). Archives stay in the standard file format either way: every SQLite since 3.9
  reads them, FTS5 included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3
else:
    try:
        import pysqlite3 as sqlite3
    except ImportError:
        import sqlite3

__all__ = ["sqlite3"]
