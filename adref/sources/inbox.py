"""The files a deployment run may read: those inside the input folders (``ADREF_INPUT_DIRS``).

The viewer's file picker lists them and sends back a folder number and a relative path, never
a path of the browser's making; the choice is checked again here, so neither ``..`` nor a link
pointing out of a folder reaches a worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from adref.errors import InputError
from adref.sources.local import require_inside

MAX_LISTED = 1000


@dataclass(frozen=True)
class InputFile:
    folder: int  # index into settings.input_folders
    relative: str  # POSIX path inside that folder
    size_bytes: int


def list_input_files(folders: list[Path], limit: int = MAX_LISTED) -> list[InputFile]:
    """Regular files inside ``folders`` (hidden ones skipped), at most ``limit``, sorted by
    path; a link is listed only if it points inside its folder."""
    found: list[InputFile] = []
    for index, folder in enumerate(folders):
        root = folder.resolve()
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                real = path.resolve()
                if not real.is_relative_to(root) or not real.is_file():
                    continue
                rel = path.relative_to(root).as_posix()
                found.append(InputFile(index, rel, real.stat().st_size))
                if len(found) >= limit:
                    return found
    return found


def picked_file(folders: list[Path], folder: int, relative: str) -> Path:
    """The absolute path of a file chosen from ``list_input_files``, checked again."""
    if not 0 <= folder < len(folders):
        raise InputError(f"no input folder number {folder}", "the list of folders changed")
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts or not relative.strip():
        raise InputError(f"cannot read {relative}", "not a path inside an input folder")
    path = require_inside(folders[folder] / rel, [folders[folder]])
    if not path.is_file():
        raise InputError(f"cannot read {relative}", "no such file in the input folder")
    return path
