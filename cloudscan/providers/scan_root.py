"""Where the ids of file-based resources start: the root of the git repository that holds the
scanned paths, or outside a repository the deepest directory holding them all. Ids, SARIF
locations and fingerprints then do not depend on the working directory, on the path given on
the command line, or on the machine: `scan terraform tf/` from the repository root and
`scan terraform .` from tf/ name every resource alike."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

Display = Callable[[Path], str]


def scan_root(paths: list[Path]) -> Path:
    # Absolute, not resolved: a symlink inside the scan is named where it is, not where it points.
    directories = [p if p.is_dir() else p.parent for p in (Path(os.path.abspath(path)) for path in paths)]
    if not directories:
        return Path.cwd()
    common = Path(os.path.commonpath(directories))
    for candidate in (common, *common.parents):
        if (candidate / ".git").exists():  # a directory, or a file in a worktree or submodule
            return candidate
    return common


def relative_to(root: Path) -> Display:
    """A path as the reports show it: relative to `root`, with forward slashes."""

    def display(path: Path) -> str:
        absolute = os.path.abspath(path)
        try:
            relative = os.path.relpath(absolute, root)
        except ValueError:  # another drive on Windows
            return Path(absolute).as_posix()
        return Path(relative).as_posix()

    return display
