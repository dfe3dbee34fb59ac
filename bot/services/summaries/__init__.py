"""Summaries and decisions: the summary to the political table (scheduled after each update
round, and on demand), the decisions loop between the two tables, /esporta and the Covenant
clock.

Use cases (async, a session and plain values in, a frozen dataclass out; they queue their
messages in the outbox and never send):

- `posting`    the scheduled summary (`summaries_due`, `read_scheduled_summary`,
               `queue_summary`, then `queue_pictures`; `pictures_owed`) and /riepilogo's
               (`read_summary_now`)
- `decisions`  decisions from the technicians' updates, the outcome, /decisione
- `voting`     the votes under a decision, the coordinator's closing, «attuata»
- `exporting`  who may have the files, the data, the files
- `covenant`   the warnings ahead of the Covenant reports
- `links`      the t.me links that open a dialogue in private (`?start=exp-<union>` …)

Pure parts beside them: `summary` (the summary's text, at the level of detail that fits, a
decision's message, the Covenant rules), `build` (from the stored facts to the summary's
input), `chart` (the pictures), `export` (the XLSX/CSV files), `targets` (where a table is posted to).

The handlers (bot.handlers.summaries) import what they need from here, enums and models
included: they never import storage.
"""

from __future__ import annotations

from bot.services.summaries.covenant import CovenantDue, covenant_warnings_due, warn_covenant
from bot.services.summaries.decisions import (
    DecisionDesk,
    DecisionNotRecorded,
    DecisionRecorded,
    DecisionRepeated,
    DecisionShown,
    close_decision,
    decision_desk,
    decision_link,
    decision_message_now,
    decision_message_sent,
    record_decision,
    sync_decisions,
)
from bot.services.summaries.exporting import (
    ExportAllowed,
    ExportFile,
    ExportOffer,
    ExportRead,
    ExportRefused,
    export_access,
    export_files,
    export_link,
    export_offer,
    export_tables,
    read_export,
)
from bot.services.summaries.links import (
    LINK_DECISION,
    LINK_EXPORT,
    LINK_SHEET,
    parse_start_link,
    start_link,
)
from bot.services.summaries.posting import (
    DueSummary,
    PicturesOwed,
    SummaryDraft,
    SummaryQueued,
    pictures_owed,
    queue_pictures,
    queue_summary,
    read_scheduled_summary,
    read_summary_now,
    summaries_due,
    summary_message_sent,
    summary_pictures,
    summary_texts,
)
from bot.services.summaries.voting import (
    DecisionChanged,
    DecisionRefused,
    OutcomeAsked,
    VoteCast,
    ask_outcome,
    back_to_votes,
    close_with_outcome,
    decision_union_id,
    mark_done,
    vote_on_decision,
)
from storage.models import DecisionMessage, DecisionStatus, DecisionVoteChoice, TableKind

__all__ = [
    "LINK_DECISION",
    "LINK_EXPORT",
    "LINK_SHEET",
    "CovenantDue",
    "DecisionChanged",
    "DecisionDesk",
    "DecisionMessage",
    "DecisionNotRecorded",
    "DecisionRecorded",
    "DecisionRefused",
    "DecisionRepeated",
    "DecisionShown",
    "DecisionStatus",
    "DecisionVoteChoice",
    "DueSummary",
    "ExportAllowed",
    "ExportFile",
    "ExportOffer",
    "ExportRead",
    "ExportRefused",
    "OutcomeAsked",
    "PicturesOwed",
    "SummaryDraft",
    "SummaryQueued",
    "TableKind",
    "VoteCast",
    "ask_outcome",
    "back_to_votes",
    "close_decision",
    "close_with_outcome",
    "covenant_warnings_due",
    "decision_desk",
    "decision_link",
    "decision_message_now",
    "decision_message_sent",
    "decision_union_id",
    "export_access",
    "export_files",
    "export_link",
    "export_offer",
    "export_tables",
    "mark_done",
    "parse_start_link",
    "pictures_owed",
    "queue_pictures",
    "queue_summary",
    "read_export",
    "read_scheduled_summary",
    "read_summary_now",
    "record_decision",
    "start_link",
    "summaries_due",
    "summary_message_sent",
    "summary_pictures",
    "summary_texts",
    "sync_decisions",
    "vote_on_decision",
    "warn_covenant",
]
