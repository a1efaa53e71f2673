"""The analysis result, typed: one contract from the engine to the page (docs/result.md).

Every layer speaks these names. :func:`soundy.analysis.measure_file` returns
:class:`Measurements`; :func:`soundy.compare.compare` takes them and returns a
:class:`Comparison`; :func:`soundy.report.analyze_file` returns both merged as an
:class:`AnalysisResult`, which the worker stores, ``JobOut.result`` declares (so
``/openapi.json`` documents every key) and the page reads.

The vocabulary shared by the CLI, the API, the queue and the page lives here too: job statuses,
modes, destinations, stages, languages and the seven bands.

TypedDicts, ``Literal`` and ``StrEnum`` cost nothing per value at run time (the documents stay
plain dicts, JSON as they are); ``typing_extensions.TypedDict`` because pydantic needs it on
Python 3.11 to validate them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, NamedTuple, NotRequired

from typing_extensions import TypedDict

__all__ = [
    "BANDS",
    "BAND_KEYS",
    "LANGS",
    "SCHEMA_VERSION",
    "AlbumMeasure",
    "AlbumOutlier",
    "AlbumPlayback",
    "AlbumReport",
    "AlbumSummary",
    "AlbumTrack",
    "AlbumTrackPlayback",
    "AlbumValues",
    "AnalysisResult",
    "Band",
    "BandKey",
    "BandLevel",
    "BandTarget",
    "ChannelPeaks",
    "Classification",
    "CodecBandChange",
    "CodecCheckEntry",
    "CodecCheckSkipped",
    "Comparison",
    "Destination",
    "Dynamics",
    "Evidence",
    "FileInfo",
    "JobStatus",
    "KeyCandidate",
    "Lang",
    "LimiterStats",
    "Loudness",
    "Measurements",
    "MetricScore",
    "MetricTarget",
    "Mode",
    "Musical",
    "NearestGenre",
    "Peaks",
    "PlatformNormalization",
    "PlaybackEntry",
    "PlaybackRule",
    "Range",
    "ReferenceBand",
    "ReferenceComparison",
    "ReferenceMetric",
    "Score",
    "ScoreParts",
    "Series",
    "Severity",
    "Spectrum",
    "Stage",
    "Status",
    "Stereo",
    "Suggestion",
    "TargetSource",
    "Targets",
    "TempoCandidate",
    "ThirdOctaveLevel",
    "VersionChange",
    "VersionEntry",
]

#: Version of the result's shape; keys are only ever added within one version.
SCHEMA_VERSION = 1


# --- The shared vocabulary -----------------------------------------------------------------


class JobStatus(StrEnum):
    """Where a job is in its lifecycle: ``pending -> processing -> completed | failed``."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class Mode(StrEnum):
    """What a job compares the track with: a genre profile or a reference track's analysis."""

    GENRE = "genre"
    REFERENCE = "reference"


class Destination(StrEnum):
    """Where the master is going; sets the loudness and true-peak targets (docs/scoring.md)."""

    STREAMING = "streaming"
    CLUB = "club"


class Stage(StrEnum):
    """What the file is: a mix before mastering, or a finished master."""

    MIX = "mix"
    MASTER = "master"


class Lang(StrEnum):
    """Languages of the suggestion texts."""

    EN = "en"
    PT_BR = "pt-BR"


LANGS: tuple[str, ...] = tuple(lang.value for lang in Lang)

BandKey = Literal["sub", "bass", "low_mid", "mid", "high_mid", "presence", "air"]


class Band(NamedTuple):
    """One of the seven tonal-balance bands: its key and edges in Hz."""

    key: BandKey
    low_hz: float
    high_hz: float


#: The seven bands of the original system, low to high; the analysis measures them and the
#: comparison targets them, so both read this one table.
BANDS: tuple[Band, ...] = (
    Band("sub", 20.0, 60.0),
    Band("bass", 60.0, 150.0),
    Band("low_mid", 150.0, 500.0),
    Band("mid", 500.0, 2000.0),
    Band("high_mid", 2000.0, 5000.0),
    Band("presence", 5000.0, 10000.0),
    Band("air", 10000.0, 20000.0),
)
BAND_KEYS: tuple[BandKey, ...] = tuple(band.key for band in BANDS)

Severity = Literal["ok", "info", "warning", "critical"]
#: Where a value lies against its range.
Status = Literal["low", "ok", "high"]
TargetSource = Literal["genre", "reference", "destination"]
Classification = Literal["excellent", "good", "fair", "poor"]


# --- Measurements (soundy.analysis) --------------------------------------------------------


class FileInfo(TypedDict):
    name: str
    format: str
    codec: str | None
    duration_s: float
    sample_rate: int
    channels: int
    bit_depth: int | None
    is_float: bool
    channel_layout: str | None
    channel_mask: int | None


class Loudness(TypedDict):
    """ITU-R BS.1770 / EBU R128 loudness."""

    integrated_lufs: float | None
    range_lu: float | None
    momentary_max_lufs: float | None
    short_term_max_lufs: float | None


class ChannelPeaks(TypedDict):
    true_peak_dbtp: float | None
    sample_peak_dbfs: float | None
    clipped_samples: int | None
    clip_events: int | None
    dc_offset: float | None
    dc_offset_dbfs: float | None


class Peaks(TypedDict):
    true_peak_dbtp: float | None
    sample_peak_dbfs: float | None
    clipped_samples: int | None
    clip_events: int | None
    channels: list[ChannelPeaks]


class Dynamics(TypedDict):
    plr_db: float | None
    crest_db: float | None
    dr: int | None
    psr_max_db: float | None


class Stereo(TypedDict):
    """All None for a mono file."""

    correlation: float | None
    width: float | None
    balance_db: float | None
    mono_loss_lu: float | None


class BandLevel(TypedDict):
    key: BandKey
    low_hz: float
    high_hz: float
    level_db: float | None


class ThirdOctaveLevel(TypedDict):
    center_hz: float
    level_db: float | None


class Spectrum(TypedDict):
    """Levels relative to the track's own total power (20 Hz-20 kHz), dB."""

    bands: list[BandLevel]
    third_octave: list[ThirdOctaveLevel]
    centroid_hz: float | None
    rolloff_hz: float | None
    flatness: float | None
    tilt_db_per_octave: float | None


class TempoCandidate(TypedDict):
    """One reading of the tempo: the detected one, or half or double it."""

    bpm: float
    confidence: float
    relation: Literal["detected", "half", "double"]


class KeyCandidate(TypedDict):
    """One reading of the key: the detected one, or its relative major/minor."""

    key: str
    tonic: str
    mode: Literal["major", "minor"]
    correlation: float
    relation: Literal["detected", "relative"]


class Musical(TypedDict):
    tempo_bpm: float | None
    tempo_confidence: float | None
    tempo_candidates: list[TempoCandidate]
    key: str | None
    key_tonic: str | None
    key_mode: Literal["major", "minor"] | None
    key_confidence: float | None
    key_relative: str | None
    key_candidates: list[KeyCandidate]


class Series(TypedDict):
    """Chart series, at most 2000 points each, ``hop_s`` apart."""

    hop_s: float
    momentary_lufs: list[float | None]
    short_term_lufs: list[float | None]
    correlation: list[float | None] | None
    true_peak_dbtp: list[float | None]


#: How sure a platform's rule is: published by the platform, measured by third parties, or
#: repeated without a measurement anyone can check.
Evidence = Literal["documented", "measured", "folklore"]
PlaybackRule = Literal["up_to_true_peak", "down_only", "limiter", "none"]


class LimiterStats(TypedDict):
    """What a playback limiter did to the track (Spotify's Loud mode)."""

    active_fraction: float
    max_reduction_db: float
    median_reduction_db: float


class PlaybackEntry(TypedDict):
    """One platform in one listening mode, simulated on the track's samples."""

    platform: str
    mode: str
    target_lufs: float | None
    rule: PlaybackRule
    peak_ceiling_dbtp: float | None
    gain_db: float
    loudness_after_lufs: float | None
    true_peak_after_dbtp: float | None
    limiter: LimiterStats | None
    evidence: Evidence
    source: str


class CodecBandChange(TypedDict):
    key: BandKey
    change_db: float | None


class CodecCheckEntry(TypedDict):
    """The track encoded with one platform's delivery codec and decoded again."""

    platform: str
    codec: str
    encoder: str
    bitrate_kbps: int
    sample_rate: int
    true_peak_dbtp: float | None
    true_peak_change_db: float | None
    playback_gain_db: float
    clipped_samples_after_gain: int
    loudness_change_lu: float | None
    bands: list[CodecBandChange]
    evidence: Evidence
    source: str


class CodecCheckSkipped(TypedDict):
    """A platform's delivery codec the codec check could not run (its encoder is missing)."""

    platform: str
    codec: str
    encoder: str
    bitrate_kbps: int
    reason: str
    #: The Debian package whose ``ffmpeg`` command carries the encoder (None: none known).
    package: str | None


class Measurements(TypedDict):
    """What :func:`soundy.analysis.measure_file` returns: the file's measurements alone.

    ``playback`` is absent from results stored before it existed; ``codec_check`` and
    ``codec_check_skipped`` are present only when it was asked for (``codec_check_skipped`` is
    also absent from results stored before it existed).
    """

    schema_version: int
    file: FileInfo
    loudness: Loudness
    peaks: Peaks
    dynamics: Dynamics
    stereo: Stereo
    spectrum: Spectrum
    musical: Musical
    series: Series
    playback: NotRequired[list[PlaybackEntry] | None]
    codec_check: NotRequired[list[CodecCheckEntry] | None]
    codec_check_skipped: NotRequired[list[CodecCheckSkipped]]


# --- Comparison (soundy.compare) -----------------------------------------------------------


class Range(TypedDict):
    """A target and its ok-range, the one shape of a range everywhere (None: unbounded)."""

    target: float
    target_min: float | None
    target_max: float | None


class MetricTarget(Range):
    metric: str
    unit: str


class BandTarget(Range):
    """A band's target level, dB of the track's total power."""

    key: BandKey


class Targets(TypedDict):
    """What the track was compared with."""

    version: str
    source: TargetSource
    genre: str | None
    label: str | None
    stage: Stage | None
    destination: Destination | None
    metrics: list[MetricTarget]
    bands: list[BandTarget]


class ScoreParts(TypedDict):
    """Each part's score, 0-100; None when none of its metrics could be scored."""

    loudness: float | None
    peaks: float | None
    dynamics: float | None
    stereo: float | None
    tonal_balance: float | None


class MetricScore(Range):
    metric: str
    part: str
    value: float
    unit: str
    status: Status
    severity: Severity
    score: float


class Score(TypedDict):
    overall: float
    classification: Classification
    parts: ScoreParts
    capped_by_critical: bool
    metrics: list[MetricScore]


class Suggestion(Range):
    metric: str
    severity: Severity
    status: Status
    key: str
    message: str
    action: str
    current: float
    delta: float
    unit: str
    source: str


class NearestGenre(TypedDict):
    """A genre profile the track's balance is close to (soundy.compare.nearest)."""

    genre: str
    label: str
    distance_db: float


class PlatformNormalization(TypedDict):
    platform: str
    target_lufs: float
    gain_db: float
    loudness_after_lufs: float
    true_peak_after_dbtp: float | None
    rule: Literal["down_only", "up_to_true_peak"]
    peak_ceiling_dbtp: float | None
    documented: bool
    source: str


class ReferenceMetric(TypedDict):
    metric: str
    current: float
    reference: float
    delta: float
    unit: str


class ReferenceBand(TypedDict):
    key: BandKey
    current_db: float
    reference_db: float
    delta_db: float


class ReferenceComparison(TypedDict):
    metrics: list[ReferenceMetric]
    bands: list[ReferenceBand]
    similarity: float | None


class Comparison(TypedDict):
    """What :func:`soundy.compare.compare` returns."""

    targets: Targets
    score: Score | None
    suggestions: list[Suggestion]
    normalization: list[PlatformNormalization] | None
    nearest_genres: list[NearestGenre] | None
    reference: NotRequired[ReferenceComparison]


class AnalysisResult(Measurements, Comparison):
    """The whole document: the measurements and their comparison, merged."""


# --- Albums and EPs (soundy.compare.album) ---------------------------------------------------


AlbumMeasure = Literal["loudness", "plr", "tilt", "width"]


class AlbumValues(TypedDict):
    """One value per album measure (a track's own, the album's median, or a deviation)."""

    integrated_lufs: float | None
    plr_db: float | None
    tilt_db_per_octave: float | None
    width: float | None


class AlbumTrackPlayback(TypedDict):
    """What one rule does to one track: its own gain (track mode) and the album's (album mode)."""

    rule: str
    track_gain_db: float | None
    album_gain_db: float | None
    album_minus_track_db: float | None
    loudness_track_mode_lufs: float | None
    loudness_album_mode_lufs: float | None
    true_peak_album_mode_dbtp: float | None


class AlbumTrack(TypedDict):
    index: int
    name: str
    duration_s: float
    values: AlbumValues
    deviation: AlbumValues
    outliers: list[AlbumMeasure]
    true_peak_dbtp: float | None
    playback: list[AlbumTrackPlayback]


class AlbumOutlier(TypedDict):
    index: int
    name: str
    measure: AlbumMeasure
    deviation: float
    limit: float
    unit: str
    message: str


class AlbumPlayback(TypedDict):
    """One album normalisation rule: one gain for every track, set by the loudest track."""

    rule: str
    label: str
    track_target_lufs: float
    album_target_lufs: float
    peak_ceiling_dbtp: float | None
    gain_db: float | None
    loudest_index: int | None
    evidence: Literal["documented", "measured", "folklore"]
    sources: list[str]
    message: str


class AlbumSummary(TypedDict):
    tracks: int
    duration_s: float
    integrated_lufs: float | None
    loudest_index: int | None
    loudness_spread_lu: float | None
    true_peak_dbtp: float | None
    median: AlbumValues


class AlbumReport(TypedDict):
    """What :func:`soundy.compare.album.album_report` returns (docs/result.md#albums)."""

    schema_version: int
    lang: str
    album: AlbumSummary
    tracks: list[AlbumTrack]
    outliers: list[AlbumOutlier]
    limits: AlbumValues
    playback: list[AlbumPlayback]


# --- Versions of a song (soundy.compare.versions) --------------------------------------------


class VersionChange(TypedDict):
    """One measure of a version against the previous version that has a result."""

    metric: str
    unit: str
    value: float | None
    previous: float | None
    delta: float | None
    moved: bool


class VersionEntry(TypedDict):
    """One version of a song in upload order (docs/result.md, "Versions of a song")."""

    version: int
    previous_version: int | None
    score: float | None
    score_delta: float | None
    score_up: bool | None
    changes: list[VersionChange]
    moved: list[str]
    summary: str | None
