"""A job's comparison is derived on read from its stored measurements (soundy.jobs.results):
old analyses show the current targets' advice, another language is the same comparison, and
repeated reads are served from a bounded cache."""

from __future__ import annotations

import json
import typing
import uuid
from pathlib import Path
from typing import Any

import pytest

from soundy import jobs
from soundy.compare import profiles
from soundy.config import get_settings
from soundy.jobs.results import ComparisonCache
from soundy.result import Comparison

COMPARISON_KEYS = set(typing.get_type_hints(Comparison))
SHIPPED = Path(profiles.__file__).parent / "genres"


@pytest.fixture
def measurements(analysis_result: dict[str, Any]) -> dict[str, Any]:
    """What a worker stores: the measurements alone."""
    return {k: v for k, v in analysis_result.items() if k not in COMPARISON_KEYS}


@pytest.fixture
def operator_genre(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An operator's genre file in SOUNDY_GENRES_DIR (a copy of the shipped trap profile)."""
    profile = json.loads((SHIPPED / "trap.json").read_text(encoding="utf-8"))
    path = tmp_path / "studio_test.json"
    path.write_text(json.dumps({**profile, "key": "studio_test", "label": "Studio test"}))
    monkeypatch.setenv("SOUNDY_GENRES_DIR", str(tmp_path))
    get_settings.cache_clear()
    profiles._load_all.cache_clear()
    yield path
    monkeypatch.delenv("SOUNDY_GENRES_DIR")
    get_settings.cache_clear()
    profiles._load_all.cache_clear()


async def _completed_job(api, token, auth, upload_bytes, db_session, measurements, **body) -> str:
    file_key = await upload_bytes(api, token, b"0123456789")
    response = await api.post(
        "/api/audio/analyze", json={"file_key": file_key, **body}, headers=auth(token)
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job"]["id"]
    assert await jobs.start_attempt(db_session, job_id)
    assert await jobs.complete(db_session, job_id, result=measurements)
    return str(job_id)


def _loudness_row(result: dict[str, Any]) -> dict[str, Any]:
    rows = [m for m in result["score"]["metrics"] if m["metric"] == "loudness.integrated_lufs"]
    assert len(rows) == 1
    return rows[0]


async def test_changing_a_genre_target_changes_the_advice_of_an_old_job(
    api, client_token, auth, upload_bytes, db_session, measurements, operator_genre
):
    job_id = await _completed_job(
        api, client_token, auth, upload_bytes, db_session, measurements, genre="studio_test"
    )
    before = (await api.get(f"/api/jobs/{job_id}", headers=auth(client_token))).json()["result"]
    assert before["targets"]["genre"] == "studio_test"
    assert {k: before[k] for k in measurements} == measurements  # the measurements as stored

    # The operator moves the genre's loudness target 6 LU down and restarts the service.
    profile = json.loads(operator_genre.read_text())
    loudness = profile["metrics"]["loudness.integrated_lufs"]
    profile["metrics"]["loudness.integrated_lufs"] = {
        k: (v - 6.0 if isinstance(v, float | int) else v) for k, v in loudness.items()
    }
    operator_genre.write_text(json.dumps(profile))
    profiles._load_all.cache_clear()

    after = (await api.get(f"/api/jobs/{job_id}", headers=auth(client_token))).json()["result"]
    assert after["targets"]["version"] != before["targets"]["version"]
    assert _loudness_row(after)["target"] == pytest.approx(_loudness_row(before)["target"] - 6.0)
    advice = [s for s in after["suggestions"] if s["metric"] == "loudness.integrated_lufs"]
    assert [s["target"] for s in advice] == [_loudness_row(after)["target"]]
    assert {k: after[k] for k in measurements} == measurements


async def test_another_language_is_the_same_comparison_in_other_words(
    api, client_token, auth, upload_bytes, db_session, measurements
):
    job_id = await _completed_job(
        api, client_token, auth, upload_bytes, db_session, measurements, genre="trap", lang="en"
    )
    url = f"/api/jobs/{job_id}"
    english = (await api.get(url, headers=auth(client_token))).json()["result"]
    portuguese = (await api.get(f"{url}?lang=pt-BR", headers=auth(client_token))).json()["result"]
    assert english["score"] == portuguese["score"]
    assert english["targets"] == portuguese["targets"]
    assert [s["metric"] for s in english["suggestions"]] == [
        s["metric"] for s in portuguese["suggestions"]
    ]
    assert english["suggestions"], "a 4 s noise track is off a trap master's targets"
    assert [s["message"] for s in english["suggestions"]] != [
        s["message"] for s in portuguese["suggestions"]
    ]


async def test_a_reference_job_is_compared_with_the_reference_measurements(
    api, client_token, auth, upload_bytes, db_session, measurements
):
    reference = await _completed_job(
        api, client_token, auth, upload_bytes, db_session, measurements
    )
    job_id = await _completed_job(
        api, client_token, auth, upload_bytes, db_session, measurements,
        mode="reference", reference_job_id=reference,
    )  # fmt: skip
    result = (await api.get(f"/api/jobs/{job_id}", headers=auth(client_token))).json()["result"]
    assert result["targets"]["source"] == "reference"
    assert result["reference"]["similarity"] == 100.0  # the same measurements


def test_the_cache_keeps_the_most_recent_entries_only(analysis_result) -> None:
    comparison = {k: analysis_result[k] for k in COMPARISON_KEYS if k in analysis_result}
    cache = ComparisonCache(2)
    keys = [(uuid.uuid4(), "v1", "en") for _ in range(3)]
    cache.put(keys[0], comparison)
    cache.put(keys[1], comparison)
    assert cache.get(keys[0]) is comparison  # now the most recent
    cache.put(keys[2], comparison)
    assert len(cache) == 2
    assert cache.get(keys[1]) is None and cache.get(keys[0]) is comparison
    none = ComparisonCache(0)
    none.put(keys[0], comparison)
    assert len(none) == 0
