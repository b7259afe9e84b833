import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402

from evals.fixtures import Suite, load_suite  # noqa: E402


@pytest.fixture(scope="session")
def core_suite() -> Suite:
    """The shipped core suite, loaded once per test session."""
    return load_suite("core")
