"""Uploaded action files are read in a worker process, a few at a time, one per Union.

Why a process and not a thread: a thread shares the bot's memory and cannot be stopped, so a
file that costs more than expected takes the whole bot with it (four 190 KB workbooks once took
it from 75 MB to 1.77 GB, and other people's commands waited three minutes), and a CPU-heavy
parse competes with the event loop for the GIL. A process has its own memory with a ceiling
(RLIMIT_AS, `MEMORY_BYTES`) and a CPU ceiling (RLIMIT_CPU), runs at a lower priority (nice 10,
so the bot's loop wins a busy core), gives its memory back to the system when it exits, and is
killed when it outlives `KILL_AFTER_S`. Starting one costs ~50 ms and ~12 MB (it imports only
the importer, not the bot), once per upload. The file is also checked before a worker starts
(`action_import.precheck`: size and the zip's directory), so a plain zip bomb never costs one.

`ImportGate` (one per running bot, in `services.extras`) admits an import: at most one per Union
at a time (a second upload for the same Union is answered at once), at most `WORKERS` parsing
and `WAITING` more queued across the instance — a queued import waits for a worker (at most a few
parses of ≤ 30 s each) rather than being refused, and beyond that the uploader is told to retry
in a few minutes. The handler runs the import outside the update (`services.run_in_background`),
so the uploader's update slot is free and other people's updates keep flowing meanwhile.

    python -m bot.services.import_worker --memory BYTES --cpu SECONDS   # the worker itself:
    stdin: one JSON line (file name, Comuni, Union name, limits), then the file's bytes;
    stdout: one JSON object (rows, errors, peak RSS).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.services import action_import as importer
from bot.services.xlsx_reader import (
    DEFAULT_LIMITS,
    E_TOO_HEAVY,
    E_TOO_SLOW,
    E_UNREADABLE,
    FileProblem,
    Limits,
)

logger = logging.getLogger(__name__)

WORKERS = 2  # parses at once: the machine's cores are shared with the bot and its database
WAITING = 8  # imports queued for a worker beyond those; each holds its file (≤ 2 MB)
MEMORY_BYTES = (
    256 * 1024 * 1024
)  # a worker's address space: ~5× what the costliest legal file needs
CPU_SECONDS = int(DEFAULT_LIMITS.seconds) + 10
KILL_AFTER_S = DEFAULT_LIMITS.seconds + 10  # wall clock, from the start of the worker
_ROOT = Path(__file__).resolve().parents[2]  # where the `bot` package is


class Busy(enum.Enum):
    """Why an import was not admitted."""

    UNION = "union"  # this Union already has one being read
    FULL = "full"  # the instance reads and queues as many as it will


@dataclass
class Outcome:
    result: importer.ParseResult
    seconds: float
    peak_rss_kb: int = 0  # the worker's, 0 when it never reported


@dataclass
class ImportGate:
    workers: int = WORKERS
    waiting: int = WAITING
    limits: Limits = DEFAULT_LIMITS
    memory_bytes: int = MEMORY_BYTES
    kill_after_s: float = KILL_AFTER_S
    unions: set[int] = field(default_factory=set)  # admitted and not yet released
    parsing: int = 0  # workers running now
    _slots: asyncio.Semaphore | None = None

    def admit(self, union_id: int) -> Ticket | Busy:
        if union_id in self.unions:
            return Busy.UNION
        if len(self.unions) >= self.workers + self.waiting:
            return Busy.FULL
        self.unions.add(union_id)
        return Ticket(self, union_id)

    def slots(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        return self._slots


_GATE_KEY = __name__


def gate_of(extras: dict[str, Any]) -> ImportGate:
    """The running bot's gate (`services.extras`: state per bot, never a module global)."""
    gate = extras.get(_GATE_KEY)
    if gate is None:
        gate = extras[_GATE_KEY] = ImportGate()
    assert isinstance(gate, ImportGate)
    return gate


@dataclass
class Ticket:
    """An admitted import: `parse` waits for a worker; `release` (always) frees the Union."""

    gate: ImportGate
    union_id: int
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.gate.unions.discard(self.union_id)

    async def parse(
        self,
        *,
        data: bytes,
        file_name: str | None,
        municipalities: Mapping[str, int],
        union_name: str | None,
    ) -> importer.ParseResult:
        gate = self.gate
        started = time.monotonic()
        try:
            importer.precheck(data, file_name, gate.limits)
        except FileProblem as refused:
            logger.info("Import refused before parsing (%d bytes)", len(data))
            return importer.ParseResult(errors=[importer.ImportError_(refused.message)])
        async with gate.slots():
            gate.parsing += 1
            try:
                outcome = await run_worker(
                    data=data,
                    file_name=file_name,
                    municipalities=municipalities,
                    union_name=union_name,
                    limits=gate.limits,
                    memory_bytes=gate.memory_bytes,
                    kill_after_s=gate.kill_after_s,
                )
            finally:
                gate.parsing -= 1
        result = outcome.result
        logger.info(
            "Import read in a worker: %d bytes, %s, %.2f s (%.2f s waiting), worker peak %.0f MB",
            len(data),
            f"{len(result.rows)} rows" if result.ok else f"{len(result.errors)} errors",
            outcome.seconds,
            time.monotonic() - started - outcome.seconds,
            outcome.peak_rss_kb / 1024,
        )
        return result


# --- the parent's side --------------------------------------------------------------------


def _errors(message: str) -> importer.ParseResult:
    return importer.ParseResult(errors=[importer.ImportError_(message)])


def _result_from_json(payload: Mapping[str, Any]) -> importer.ParseResult:
    return importer.ParseResult(
        rows=[importer.ActionRow.from_json(r) for r in payload.get("rows", [])],
        errors=[
            importer.ImportError_(
                message=str(e["message"]),
                row=e.get("row"),
                column=e.get("column"),
                value=e.get("value"),
                params=tuple((str(k), str(v)) for k, v in e.get("params", [])),
            )
            for e in payload.get("errors", [])
        ],
    )


def _worker_environment() -> dict[str, str]:
    """Nothing of the bot's environment (its token, its database URL) reaches the worker."""
    return {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"}


async def run_worker(
    *,
    data: bytes,
    file_name: str | None,
    municipalities: Mapping[str, int],
    union_name: str | None,
    limits: Limits = DEFAULT_LIMITS,
    memory_bytes: int = MEMORY_BYTES,
    kill_after_s: float = KILL_AFTER_S,
) -> Outcome:
    """Parse one file in a fresh worker process; whatever happens there, an Outcome."""
    header = {
        "file_name": file_name,
        "municipalities": dict(municipalities),
        "union_name": union_name,
        "limits": asdict(limits),
    }
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-s",
        "-m",
        __name__,
        "--memory",
        str(memory_bytes),
        "--cpu",
        str(CPU_SECONDS),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=_ROOT,
        env=_worker_environment(),
    )
    try:
        async with asyncio.timeout(kill_after_s):
            out, err = await process.communicate(json.dumps(header).encode() + b"\n" + data)
    except TimeoutError:
        logger.warning("Import worker killed after %.0f s", kill_after_s)
        return Outcome(_errors(E_TOO_SLOW), time.monotonic() - started)
    finally:
        if process.returncode is None:  # timed out, or the import was cancelled (shutdown)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    seconds = time.monotonic() - started
    try:
        payload = json.loads(out)
        result = _result_from_json(payload)
    except (ValueError, KeyError, TypeError):
        # Killed by a limit (SIGXCPU, SIGKILL) or died: no answer. Never log its output (it
        # may quote the file); the exit status and the last line's first word say enough.
        last = err.decode("utf-8", "replace").strip().rsplit("\n", 1)[-1].split(":", 1)[0]
        logger.warning("Import worker gave no answer (exit %s, %s)", process.returncode, last[:80])
        return Outcome(_errors(E_TOO_HEAVY if process.returncode else E_UNREADABLE), seconds)
    return Outcome(result, seconds, int(payload.get("peak_rss_kb") or 0))


# --- the worker's side --------------------------------------------------------------------


def _limit_self(memory_bytes: int, cpu_seconds: int) -> None:
    try:
        import resource
    except ImportError:  # not a Unix: the parent's wall clock still applies
        return
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(OSError):
        os.nice(10)


def _peak_rss_kb() -> int:
    """This process's peak resident memory. Not getrusage's ru_maxrss: after fork and exec it
    still counts the bot's own pages, which the worker never touched."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def work(raw: bytes) -> dict[str, Any]:
    """The worker's job: bytes in (header line, file), a JSON-able answer out."""
    header_line, _, data = raw.partition(b"\n")
    header = json.loads(header_line)
    limits = Limits(**header["limits"])
    try:
        result = importer.parse_actions(
            data,
            header["file_name"],
            municipalities=header["municipalities"],
            union_name=header["union_name"],
            limits=limits,
        )
    except MemoryError:
        result = _errors(E_TOO_HEAVY)
    return {
        "rows": [row.to_json() for row in result.rows],
        "errors": [
            {
                "message": e.message,
                "row": e.row,
                "column": e.column,
                "value": e.value,
                "params": [list(p) for p in e.params],
            }
            for e in result.errors
        ],
        "peak_rss_kb": _peak_rss_kb(),
    }


def main() -> None:
    import argparse  # the worker process's only: the bot that imports this module never parses

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memory", type=int, default=MEMORY_BYTES)
    parser.add_argument("--cpu", type=int, default=CPU_SECONDS)
    args = parser.parse_args()
    _limit_self(args.memory, args.cpu)
    answer = work(sys.stdin.buffer.read())
    sys.stdout.buffer.write(json.dumps(answer).encode())


if __name__ == "__main__":
    main()
