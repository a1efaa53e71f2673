"""Genre profiles: one JSON file per genre, validated on load.

The shipped profiles live in ``soundy/compare/genres/*.json`` (converted from the original system
by the repository's ``scripts/convert_original.py``); an operator can add or override genres
with files in ``SOUNDY_GENRES_DIR`` (written by ``soundy targets build``). A file that does not
validate raises :class:`ProfileError` naming the file and the field.

File shape (schema_version 2, docs/scoring.md)::

    {"schema_version": 2, "key": "trap", "label": "Trap", "source": "...", "notes": ["..."],
     "percussion_db": 0.34,
     "metrics": {"loudness.integrated_lufs": {"target": -10.5, "min": -12.5, "max": -8.5}, ...},
     "bands": {"sub": {"target": -11.2, "target_min": -18.2, "target_max": -4.2}, ...}}

A genre is never tied to a stage: its ``loudness.integrated_lufs``, ``peaks.true_peak_dbtp`` and
``dynamics.dr`` are its *master* targets (used for a finished master going to a club), and every
other metric and band is a matter of the genre whatever the stage. Operator files of
schema_version 1 still load: their band entries ``{target_db, min_db, max_db}`` are read as the
one range shape, and a version-1 ``"stage": "pre-master mix"`` profile's loudness, true-peak
and DR targets are dropped (they were a mix's, which now come from the stage).
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from soundy.config import get_settings
from soundy.errors import InvalidRequest, SoundyError
from soundy.result import BandKey

__all__ = [
    "MASTER_METRICS",
    "SCHEMA_VERSION",
    "BandTarget",
    "GenreProfile",
    "MetricTarget",
    "ProfileError",
    "get_profile",
    "list_profiles",
    "load_profile_file",
    "profiles_digest",
]

ProfileMetric = Literal[
    "loudness.integrated_lufs",
    "loudness.range_lu",
    "peaks.true_peak_dbtp",
    "dynamics.dr",
    "stereo.correlation",
    "stereo.width",
    "stereo.balance_db",
    "spectrum.tilt_db_per_octave",
]
#: The metrics of a profile that are a finished master's (the stage decides when they apply).
MASTER_METRICS: tuple[str, ...] = (
    "loudness.integrated_lufs",
    "peaks.true_peak_dbtp",
    "dynamics.dr",
)


#: The version profile files are written in; version 1 files still load.
SCHEMA_VERSION = 2


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
    """A band level target relative to the track's total power (dB) and its ok-range, in the
    result's one range shape (``soundy.result.Range``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    target: float
    target_min: float
    target_max: float

    @model_validator(mode="before")
    @classmethod
    def _version_1(cls, raw: Any) -> Any:
        # schema_version 1 named them target_db / min_db / max_db.
        if isinstance(raw, dict) and "target_db" in raw:
            names = {"target_db": "target", "min_db": "target_min", "max_db": "target_max"}
            return {names.get(k, k): v for k, v in raw.items()}
        return raw

    @model_validator(mode="after")
    def _ordered(self) -> BandTarget:
        _check_order(self.target_min, self.target, self.target_max)
        if self.target_max > 0.0:
            raise ValueError("a band cannot hold more than the total power (target_max > 0)")
        return self


class GenreProfile(BaseModel):
    """One genre's targets."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    schema_version: Literal[1, 2] = 2
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=64)
    label: str = Field(min_length=1, max_length=100)
    source: str = ""
    notes: list[str] = Field(default_factory=list)
    #: The genre's percussion (dB of the pattern of soundy.compare.tonal) its bands were built
    #: with; None for a profile built from tracks.
    percussion_db: float | None = None
    metrics: dict[ProfileMetric, MetricTarget] = Field(default_factory=dict)
    bands: dict[BandKey, BandTarget] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _version_1(cls, raw: Any) -> Any:
        # schema_version 1 tied a genre to a stage; a pre-master genre's loudness, true-peak and
        # DR targets were a mix's, which the stage now sets for every genre.
        if not isinstance(raw, dict) or raw.get("schema_version") != 1 or "stage" not in raw:
            return raw
        out = {k: v for k, v in raw.items() if k != "stage"}
        if raw["stage"] not in ("master", "pre-master mix"):
            raise ValueError(f"stage: {raw['stage']!r} is neither 'master' nor 'pre-master mix'")
        if raw["stage"] == "pre-master mix" and isinstance(raw.get("metrics"), dict):
            out["metrics"] = {k: v for k, v in raw["metrics"].items() if k not in MASTER_METRICS}
        return out


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


# (the loaded profiles, their digest) per SOUNDY_GENRES_DIR: the digest is computed again only
# when the profiles were loaded again (the identity check; the tuple keeps them alive).
_DIGESTS: dict[Path | None, tuple[dict[str, GenreProfile], str]] = {}


def profiles_digest() -> str:
    """SHA-256 (hex) of every loaded profile's content: part of the targets' version."""
    extra_dir = _extra_dir()
    loaded = _load_all(extra_dir)
    cached = _DIGESTS.get(extra_dir)
    if cached is None or cached[0] is not loaded:
        digest = hashlib.sha256()
        for key in sorted(loaded):
            digest.update(loaded[key].model_dump_json().encode() + b"\0")
        cached = _DIGESTS[extra_dir] = (loaded, digest.hexdigest())
    return cached[1]


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
