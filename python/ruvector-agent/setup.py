"""ruvector-agent: the companion wheel behind `pip install ruvector[agent]`.

SKELETON: the a2a plugin (plugins/a2a, libcurl + OpenSSL) is not written
yet. Until its make target exists this wheel ships an empty plugin directory;
once plugins/a2a/a2a.la builds, the same setup.py ships it unchanged.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # python/companion_setup.py
from companion_setup import companion_setup  # noqa: E402

companion_setup(
    package="ruvector_agent",
    plugins={"a2a": "plugins/a2a/a2a.la"},
    skeleton_note="SKELETON companion of ruvector[agent]: the a2a plugin is not built yet",
)
