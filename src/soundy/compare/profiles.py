"""Genre profiles: one JSON file per genre, validated on load.

The shipped profiles live in ``soundy/compare/genres/*.json`` (converted from the original system
by the repository's ``scripts/convert_original.py``); an operator can add or override genres
with files in ``SOUNDY_GENRES_DIR`` (written by ``soundy targets build``). A file that does not
validate raises :class:`ProfileError` naming the file and the field.

File shape (docs/scoring.md)::

    {"schema_version": 1, "key": "trap", "label": "Trap", "stage": "master",
     "source": "...", "notes": ["..."],
     "metrics": {"loudness.integrated_lufs": {"target": -10.5, "min": -12.5, "max": -8.5}, ...},
     "bands": {"sub": {"target_db": -4.5, "min_db": -12.0, "max_db": 2.9}, ...}}
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from soundy.errors import InvalidRequest, SoundyError

__all__ = [
    "BandTarget",
    "GenreProfile",
    "MetricTarget",
    "ProfileError",
    "get_profile",
    "list_profiles",
    "load_profile_file",
]

Stage = Literal["master", "pre-master mix"]
ProfileMetric = Literal[
    "loudness.integrated_lufs",
    "loudness.range_lu",
    "peaks.true_peak_dbtp",
    "dynamics.dr",
    "stereo.correlation",
    "stereo.width",
    "stereo.balance_db",
]
BandKey = Literal["sub", "bass", "low_mid", "mid", "high_mid", "presence", "air"]


class ProfileError(SoundyError):
    """A genre profile file is malformed (names the file and the field)."""

    code = "invalid_profile"


def _check_order(low: float | None, target: float, high: float | None) -> None:
    for name, value in (("min", low), ("target", target), ("max", high)):
        if value is not None and not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number")
    if low is not None and low > target:
        raise ValueError(f"min {low} is above target {target}")
    if high is not None and high < target:
        raise ValueError(f"max {high} is below target {target}")


# defer_build: the validators are built on the first validation, not at import; a comparison
# without a genre (the default of `soundy analyze`) never loads a profile (~6 ms saved).


class MetricTarget(BaseModel):
    """A target value and its ok-range; None = unbounded on that side."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    target: float
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> MetricTarget:
        _check_order(self.min, self.target, self.max)
        return self


class BandTarget(BaseModel):
    """A band level target relative to the track's total power (dB) and its ok-range."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    target_db: float
    min_db: float
    max_db: float

    @model_validator(mode="after")
    def _ordered(self) -> BandTarget:
        _check_order(self.min_db, self.target_db, self.max_db)
        if self.max_db > 0.0:
            raise ValueError("a band cannot hold more than the total power (max_db > 0)")
        return self


class GenreProfile(BaseModel):
    """One genre's targets."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    schema_version: Literal[1] = 1
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=64)
    label: str = Field(min_length=1, max_length=100)
    stage: Stage
    source: str = ""
    notes: list[str] = Field(default_factory=list)
    metrics: dict[ProfileMetric, MetricTarget]
    bands: dict[BandKey, BandTarget] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _required(self) -> GenreProfile:
        if "loudness.integrated_lufs" not in self.metrics:
            raise ValueError("metrics must include loudness.integrated_lufs")
        return self


def _format_error(path: Path, error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"]) or "(file)"
        parts.append(f"{loc}: {item['msg']}")
    return f"genre profile {path.name}: " + "; ".join(parts)


def load_profile_file(path: Path) -> GenreProfile:
    """Read and validate one profile file; its ``key`` must equal the file's stem."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"genre profile {path.name}: cannot be read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise ProfileError(f"genre profile {path.name}: not valid JSON ({exc})") from exc
    try:
        profile = GenreProfile.model_validate(raw)
    except ValidationError as exc:
        raise ProfileError(_format_error(path, exc)) from exc
    if profile.key != path.stem:
        raise ProfileError(
            f"genre profile {path.name}: key: {profile.key!r} does not match the file name"
        )
    return profile


def _package_dir() -> Path:
    return Path(str(resources.files("soundy.compare").joinpath("genres")))


def _extra_dir() -> Path | None:
    from soundy.config import get_settings

    return getattr(get_settings(), "genres_dir", None)


@lru_cache(maxsize=8)
def _load_all(extra_dir: Path | None) -> dict[str, GenreProfile]:
    profiles: dict[str, GenreProfile] = {}
    for directory in (_package_dir(), extra_dir):
        if directory is None or not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.json")):
            profile = load_profile_file(path)
            profiles[profile.key] = profile
    return profiles


def list_profiles() -> list[GenreProfile]:
    """All profiles (shipped ones, then SOUNDY_GENRES_DIR overriding by key), sorted by label."""
    return sorted(_load_all(_extra_dir()).values(), key=lambda p: p.label.lower())


def get_profile(key: str) -> GenreProfile:
    """The profile of genre ``key``; an unknown key is an :class:`InvalidRequest`."""
    profiles = _load_all(_extra_dir())
    try:
        return profiles[key]
    except KeyError:
        known = ", ".join(sorted(profiles))
        raise InvalidRequest(f"unknown genre {key!r}; known genres: {known}") from None
