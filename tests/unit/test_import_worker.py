"""The import gate's admissions, and the worker's answer, in and out of its process."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from bot.services import action_import, import_worker
from bot.services.xlsx_reader import DEFAULT_LIMITS, E_TOO_HEAVY

CSV = b'codice;titolo;comune\nA1;=HYPERLINK("x");Canossa\nA2;Scuola;Unione\n'
COMUNI = {"canossa": 7}


def test_one_per_union_and_a_bounded_number_in_all() -> None:
    gate = import_worker.ImportGate(workers=1, waiting=1)
    first = gate.admit(1)
    assert isinstance(first, import_worker.Ticket)
    assert gate.admit(1) is import_worker.Busy.UNION
    second = gate.admit(2)
    assert isinstance(second, import_worker.Ticket)
    assert gate.admit(3) is import_worker.Busy.FULL
    first.release()
    first.release()  # twice is harmless
    assert isinstance(gate.admit(3), import_worker.Ticket)
    assert gate.admit(1) is import_worker.Busy.FULL
    assert import_worker.gate_of({}) is not import_worker.gate_of({})  # one per running bot
    extras: dict[str, object] = {}
    assert import_worker.gate_of(extras) is import_worker.gate_of(extras)


def _request(data: bytes) -> bytes:
    header = {
        "file_name": "azioni.csv",
        "municipalities": COMUNI,
        "union_name": "Unione Val d'Enza",
        "limits": asdict(DEFAULT_LIMITS),
    }
    return json.dumps(header).encode() + b"\n" + data


def test_the_workers_answer_carries_rows_and_errors() -> None:
    answer = json.loads(json.dumps(import_worker.work(_request(CSV))))
    result = import_worker._result_from_json(answer)
    assert [(r.code, r.title, r.municipality_id) for r in result.rows] == [
        ("A1", '=HYPERLINK("x")', 7),
        ("A2", "Scuola", None),
    ]
    bad = import_worker._result_from_json(
        json.loads(json.dumps(import_worker.work(_request(b"codice;titolo;comune\nA1;;X\n"))))
    )
    assert [(e.row, e.column) for e in bad.errors] == [(2, "titolo"), (2, "comune")]
    assert bad.errors[1].format_args()["value"] == "X"
    assert answer["peak_rss_kb"] > 0


def test_a_worker_out_of_memory_answers_too_heavy(monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(*_args: object, **_kwargs: object) -> action_import.ParseResult:
        raise MemoryError

    monkeypatch.setattr(action_import, "parse_actions", exhausted)
    answer = import_worker.work(_request(CSV))
    assert [e["message"] for e in answer["errors"]] == [E_TOO_HEAVY] and answer["rows"] == []


async def test_a_real_worker_reads_a_file_without_the_bots_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:secret-that-the-worker-never-sees-xxxx")
    outcome = await import_worker.run_worker(
        data=CSV, file_name="azioni.csv", municipalities=COMUNI, union_name="Unione"
    )
    assert [r.code for r in outcome.result.rows] == ["A1", "A2"]
    assert 0 < outcome.peak_rss_kb < 100 * 1024  # the worker's own memory, not the parent's
    assert "TELEGRAM_BOT_TOKEN" not in import_worker._worker_environment()
