"""The error tree drawn in soundy/errors.py's docstring is the class tree: every class, under
its real base (a reader decides what is retried, and what a client sees, from that drawing)."""

from __future__ import annotations

import inspect
import re

from soundy import errors


def _drawn_tree() -> dict[str, str | None]:
    """class name -> the name drawn above it, one indentation level up (None for the root)."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^( *)[*+-] (\w+) ", line)
        if not match:
            continue
        indent, name = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((indent, name))
    return parents


def test_the_docstring_draws_every_error_class_under_its_base() -> None:
    classes = {
        name: cls
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.SoundyError) and cls.__module__ == errors.__name__
    }
    drawn = _drawn_tree()
    assert set(drawn) == set(classes)
    for name, cls in classes.items():
        base = cls.__bases__[0]
        assert drawn[name] == (None if cls is errors.SoundyError else base.__name__), name


def test_what_the_worker_must_not_retry_is_one_base() -> None:
    permanent = (
        errors.UnsupportedFormat("x"),
        errors.AudioTooLong("x"),
        errors.EmptyAudio("x"),
        errors.InvalidAudio("x"),
        errors.UploadMissing("x"),
        errors.AnalysisCrashed("x"),
        errors.AnalysisTimeout("x"),
    )
    assert all(isinstance(error, errors.PermanentError) for error in permanent)
    assert not isinstance(errors.TransientError("x"), errors.PermanentError)
    # The job error codes operators and clients switch on (docs/operations.md's fault table).
    assert [error.code for error in permanent[-3:]] == [
        "upload_missing",
        "analysis_crashed",
        "timeout",
    ]
