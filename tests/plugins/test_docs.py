"""docs/plugins.md documents every hookspec with its exact signature."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from actdesk.plugins import hookspecs

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
SPEC_MARK = hookspecs.PROJECT_NAME + "_spec"


def hookspec_functions() -> list:
    return [f for _, f in sorted(vars(hookspecs).items()) if inspect.isfunction(f) and hasattr(f, SPEC_MARK)]


def signature_text(func) -> str:
    """``name(param: Type, ...) -> Return`` as written in the source, string-annotation quotes removed."""
    def text(annotation: object) -> str:
        return annotation.strip("'\"") if isinstance(annotation, str) else inspect.formatannotation(annotation)

    signature = inspect.signature(func)
    params = ", ".join(f"{p.name}: {text(p.annotation)}" for p in signature.parameters.values())
    return f"{func.__name__}({params}) -> {text(signature.return_annotation)}"


def guide_sections() -> dict[str, str]:
    """Code in a ``### `...` `` heading -> the text up to the next heading, for the guide's hook headings."""
    parts = re.split(r"^(#+ .*)$", GUIDE.read_text(encoding="utf-8"), flags=re.M)
    sections = {}
    for heading, body in zip(parts[1::2], parts[2::2]):
        code = re.fullmatch(r"### `([^`]+)`\s*", heading)
        if code:
            sections[code.group(1)] = body
    return sections


def test_hookspecs_are_found():
    assert {f.__name__ for f in hookspec_functions()} >= {
        "actdesk_register_models", "actdesk_build_model", "actdesk_import_weights"}


@pytest.mark.parametrize("func", hookspec_functions(), ids=lambda f: f.__name__)
def test_every_hookspec_is_documented_with_its_exact_signature(func):
    sections = guide_sections()
    signature = signature_text(func)
    assert signature in sections, f"docs/plugins.md lacks the heading ### `{signature}`"
    body = sections[signature]
    for name in inspect.signature(func).parameters:
        assert f"`{name}`" in body, f"docs/plugins.md does not describe parameter {name!r} of {func.__name__}"
    firstresult = getattr(func, SPEC_MARK)["firstresult"]
    assert ("firstresult" in body) == firstresult, f"docs/plugins.md: say whether {func.__name__} is firstresult"


def test_guide_documents_no_hook_that_does_not_exist():
    names = {f.__name__ for f in hookspec_functions()}
    documented = {heading.split("(")[0] for heading in guide_sections() if heading.startswith("actdesk_")}
    assert documented <= names
