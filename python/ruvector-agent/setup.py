"""ruvector-agent: the companion wheel behind `pip install ruvector[agent]`.

It ships the a2a plugin (plugins/a2a), which links libcurl, libcrypto
(OpenSSL 3) and jansson. scripts/python-test.sh repairs the wheel with
auditwheel so that jansson is carried in it while libcurl and libcrypto stay
the system's (see AGENT_REPAIR there for why); a configure without jansson,
libcurl or OpenSSL builds no plugin and this wheel is then an empty skeleton.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # python/companion_setup.py
from companion_setup import companion_setup  # noqa: E402

companion_setup(
    package="ruvector_agent",
    plugins={"a2a": "plugins/a2a/a2a.la"},
    skeleton_note="SKELETON companion of ruvector[agent]: built without the a2a plugin (no jansson, libcurl or OpenSSL)",
)
