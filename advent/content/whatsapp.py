"""A post as WhatsApp carries it inside an approved template: one variable, on one line.

Outside a friend's 24-hour window WhatsApp only takes a template Meta approved, so the day's
post travels as the template's variable, and Meta refuses some text there that a free-form
message may hold. The limits and their sources are in docs/whatsapp-template-rules.md. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Twilio's Content API: a variable's value is at most 255 characters.
MAX_VARIABLE = 255
# Twilio error 63021: the template's own text and its values together at most 1,024.
MAX_TEMPLATE_TOTAL = 1024
# Twilio error 63013: more than 4 whitespace characters in a row are refused.
MAX_WHITESPACE_RUN = 4
# Between two lines that do not end a sentence (a list, a poem, a heading), a visible mark
# keeps them apart once they share one line; after a full stop a space reads naturally.
LINE_MARK = " · "
SENTENCE_END = ".!?…:;,"

_PARAGRAPH = re.compile(r"\n[ \t\u00a0]*\n")
_WHITESPACE_RUN = re.compile(rf"\s{{{MAX_WHITESPACE_RUN + 1},}}")
_LINE_WHITESPACE_RUN = re.compile(rf"[^\S\n]{{{MAX_WHITESPACE_RUN + 1},}}")

PER_POST_FIX = "or use one template per post: `advent templates create --per-post`"


def variable_text(post_text: str) -> str:
    """The post folded onto one line: each line break (blank lines too) becomes a space after a
    sentence's end and " · " elsewhere; tabs and runs of spaces become one space."""
    text = (post_text or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    folded = ""
    for line in filter(None, lines):
        if folded:
            folded += " " if folded.endswith(tuple(SENTENCE_END)) else LINE_MARK
        folded += line
    return folded


def value_problems(value: str, template_text: str = "") -> list[str]:
    """What Meta or Twilio would refuse in `value` as a template variable, each with its fix.

    `template_text` is the template's own fixed text, when known, for the 1,024 total."""
    problems = []
    if not value.strip():
        problems.append("is empty; a template variable needs some text")
        return problems
    if "\n" in value or "\r" in value or "\t" in value:
        problems.append(
            "has line breaks or tabs, which WhatsApp refuses in a template variable (Twilio error 63013); "
            "put it on one line"
        )
    if _WHITESPACE_RUN.search(value):
        problems.append(
            f"has more than {MAX_WHITESPACE_RUN} spaces in a row, which WhatsApp refuses in a template "
            "variable (Twilio error 63013); use one space"
        )
    if len(value) > MAX_VARIABLE:
        problems.append(
            f"is {len(value)} characters; a template variable takes at most {MAX_VARIABLE}: shorten it"
        )
    total = len(template_text) + len(value)
    if template_text and total > MAX_TEMPLATE_TOTAL:
        problems.append(
            f"with the template's text comes to {total:,} characters; WhatsApp takes at most "
            f"{MAX_TEMPLATE_TOTAL:,} (Twilio error 63021): shorten it or the template's text"
        )
    return problems


def variables_problems(variables: Mapping[str, str], name: str) -> list[str]:
    """`value_problems` for each of a template's variables (`name` says which field they are in)."""
    return [
        f'{name}: "{key}" {problem}' for key, value in variables.items() for problem in value_problems(value)
    ]


def post_as_variable(post_text: str) -> list[str]:
    """Warnings for a post sent as the daily template's variable: what folding does
    to it, and whether it fits once folded. The words are the same for every post that has the
    same problem, so the check can list them once."""
    text = (post_text or "").strip()
    if not text:
        return []  # an empty post is already an error of its own
    warnings = []
    # Outside the window the post goes as the template's variable, where Meta refuses line breaks.
    if _PARAGRAPH.search(text) or "\n" in text or "\r" in text:
        what = "paragraphs" if _PARAGRAPH.search(text) else "line breaks"
        warnings.append(
            f"has {what}: on WhatsApp outside the 24-hour window it is sent as a template's "
            "variable, where line breaks are refused, so it goes folded into one line; to keep "
            "them, use one template per post: `advent templates create --per-post`"
        )
    # Two or three spaces are folded without a word: only what Meta would refuse is worth one.
    if "\t" in text or _LINE_WHITESPACE_RUN.search(text):
        warnings.append(
            "has tabs or long runs of spaces: on WhatsApp outside the 24-hour window each run is "
            f"sent as one space (more than {MAX_WHITESPACE_RUN} in a row are refused in a template)"
        )
    folded = variable_text(text)
    if len(folded) > MAX_VARIABLE:
        warnings.append(
            f"is {len(folded)} characters on one line; WhatsApp takes at most {MAX_VARIABLE} in a "
            "template variable, so friends outside the 24-hour window would get nothing: shorten it "
            f"to {MAX_VARIABLE} characters, " + PER_POST_FIX
        )
    return warnings


def closing_as_variable(post_text: str, closing: str) -> list[str]:
    """A warning when the last post fits a template's variable but not with its closing line:
    then those friends get the post without it (see ApprovedTemplate.variables)."""
    own, whole = variable_text(post_text), variable_text(f"{post_text}\n\n{closing}")
    if len(whole) <= MAX_VARIABLE or len(own) > MAX_VARIABLE:
        return []  # it fits, or the post alone is already too long (warned of above)
    room = MAX_VARIABLE - (len(whole) - len(own))
    return [
        f"with the closing line it is {len(whole)} characters on one line; WhatsApp takes at most "
        f"{MAX_VARIABLE} in a template variable, so friends outside the 24-hour window would get "
        f"the post without the closing line: shorten the post to {room} characters to carry it, "
        + PER_POST_FIX
    ]
