"""Where in the model a technical error happened, read from the generated code it went through.

Generated code puts a comment `# <model file>:<line>: <what>` above every processor, handler
operation, key function and inline code block. The innermost frame of the traceback that lies
under such a comment names the model element that failed; frames in this runtime are skipped.
"""

from __future__ import annotations

import linecache
import re
from pathlib import Path
from types import TracebackType

# Applied to lines of generated code, never to client input; linear in any case.
_MODEL_COMMENT = re.compile(r"#\s(\S+\.ya?ml:\d+):\s")
_RUNTIME = str(Path(__file__).resolve().parent)
_MAX_SCAN = 400  # lines above a frame to look for its comment


def model_location(tb: TracebackType | None) -> str:
    """'domain/.../Deposit.yaml:18' for the innermost located frame of `tb`, else ''."""
    frames: list[tuple[str, int]] = []
    while tb is not None:
        frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    for filename, line in reversed(frames):
        if filename.startswith(_RUNTIME):
            continue
        where = _comment_above(filename, line)
        if where:
            return where
    return ""


def _comment_above(filename: str, line: int) -> str:
    for number in range(line, max(0, line - _MAX_SCAN), -1):
        text = linecache.getline(filename, number).strip()
        match = _MODEL_COMMENT.match(text)
        if match:
            return match.group(1)
        if number != line and text.startswith(("def ", "class ", "async def ")):
            return ""  # left the function without finding one: not generated flow code
    return ""
