"""Builders for hand-made analysis results (soundy.result.Measurements, docs/result.md).

A plain module (not conftest.py: another directory has one, and ``import conftest`` would be
ambiguous); tests import it by name.
"""

from __future__ import annotations

import copy
from typing import Any

from soundy.compare.metrics import BAND_EDGES_HZ
from soundy.compare.profiles import get_profile

#: A master's loudness, true peak and DR where the genre has no master targets of its own.
_MASTER = {"loudness.integrated_lufs": -14.0, "peaks.true_peak_dbtp": -1.0, "dynamics.dr": 8.0}
_STEREO = {"stereo.correlation": 0.5, "stereo.width": 0.33}


def on_target_result(genre: str) -> dict[str, Any]:
    """A result whose every metric and band sits on ``genre``'s targets (a genre without master
    targets: on the streaming destination's, which is then its default)."""
    p = get_profile(genre)
    m = {**_MASTER, **_STEREO, **{k: v.target for k, v in p.metrics.items()}}
    return {
        "schema_version": 1,
        "file": {
            "name": "x.wav",
            "format": "wav",
            "duration_s": 30.0,
            "sample_rate": 48000,
            "channels": 2,
            "bit_depth": 24,
        },
        "loudness": {
            "integrated_lufs": m["loudness.integrated_lufs"],
            "range_lu": m.get("loudness.range_lu", 6.0),
            "momentary_max_lufs": m["loudness.integrated_lufs"] + 4,
            "short_term_max_lufs": m["loudness.integrated_lufs"] + 2,
        },
        "peaks": {
            "true_peak_dbtp": m["peaks.true_peak_dbtp"],
            "sample_peak_dbfs": m["peaks.true_peak_dbtp"] - 0.3,
            "clipped_samples": 0,
            "channels": [],
        },
        "dynamics": {"plr_db": 9.0, "crest_db": 12.0, "dr": m["dynamics.dr"]},
        "stereo": {
            "correlation": m["stereo.correlation"],
            "width": m["stereo.width"],
            "balance_db": 0.0,
            "mono_loss_lu": 0.5,
        },
        "spectrum": {
            "bands": [
                {"key": k, "low_hz": lo, "high_hz": hi, "level_db": p.bands[k].target}
                for k, (lo, hi) in BAND_EDGES_HZ.items()
            ],
            "centroid_hz": 2000.0,
            "rolloff_hz": 8000.0,
            "tilt_db_per_octave": m["spectrum.tilt_db_per_octave"],
        },
    }


def with_changes(result: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Copy ``result`` with dotted-path changes: ``with_changes(r, **{"stereo.width": 0.1})``;
    ``"bands.<key>"`` sets a band level."""
    out = copy.deepcopy(result)
    for path, value in changes.items():
        if path.startswith("bands."):
            key = path.removeprefix("bands.")
            for band in out["spectrum"]["bands"]:
                if band["key"] == key:
                    band["level_db"] = value
            continue
        section, name = path.split(".")
        out[section][name] = value
    return out
