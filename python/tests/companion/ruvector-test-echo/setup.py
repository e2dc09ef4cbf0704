"""ruvector-test-echo: a test companion wheel, built exactly like
ruvector-agent and ruvector-text, that carries the test fixture plugin
feature_echo (tests/fixtures/feature_echo.c). The pytest suite installs and
uninstalls it to prove that a companion's plugin becomes discoverable by
`pip install` alone and disappears with `pip uninstall`. Never published.
"""

import sys
from pathlib import Path

# python/companion_setup.py, three levels up
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from companion_setup import companion_setup  # noqa: E402

companion_setup(
    package="ruvector_test_echo",
    plugins={"feature_echo": "tests/fixtures/feature_echo.la"},
)
