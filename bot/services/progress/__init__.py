"""Progress on the PAES: the Union's actions (/azioni, their cards and history, the
coordinator's edits, imports from a file) and the technicians' updates (/aggiornamento, the
monthly round, notes from the technical group).

Use cases (async, a session and plain values in — ids, `now`, the language of what they queue
or compose, the `Actor` of an update —, a frozen dataclass out; they re-check who acts from the
database, queue what they say in the outbox and never send):

- `actions`    who reads, the list, an action's card and history, the files, archiving
- `editing`    the coordinator's new action and typed edits (a private dialogue)
- `importing`  an uploaded file: for which Union, its preview, the confirmation
- `dialogue`   the technician's update, step by step (the round's hot path): its buttons;
               `written` what is typed or sent to it; `flow` its state and screens
- `rounds`     the monthly round as the tick runs it: opening, invitations, reminders, closing
- `status`     who has answered a round; /aggiornamento stato
- `notes`      notes from the technical group
- `cards`      an action's card with the group's latest notes
- `rules`      the pure rules (the round's calendar and reminders, the next action, who may
               read or change an action, a typed field)

Reading an uploaded file happens in a worker process: bot.services.import_worker, with
bot.services.action_import (the importer's rules) and bot.services.xlsx_reader. They stay
outside this package so that the worker imports them without the database (~50 ms and ~12 MB
to start, bot/services/import_worker.py).

The handlers (bot.handlers.actions, bot.handlers.updates) import what they need from here:
they never import storage.
"""

from __future__ import annotations

from bot.services.progress.actions import (
    Actor,
    ArchiveAsked,
    CardShown,
    ComuneChoices,
    ExportAsked,
    FileMade,
    History,
    NotAllowed,
    Reader,
    action_history,
    action_list,
    action_union_id,
    archive_action,
    ask_to_archive,
    comune_choices,
    coordinator,
    export_actions,
    export_file,
    list_page,
    member_of_union,
    reader,
    show_action,
    template_file,
)
from bot.services.progress.cards import card, render_detail
from bot.services.progress.dialogue import no_news, press_step, rest_unchanged, start_dialogue
from bot.services.progress.editing import (
    EDIT_FLOW,
    NEW,
    ComuneChoice,
    EditMenu,
    Problem,
    Prompt,
    Saved,
    comune_choice,
    comune_target_union,
    edit_menu,
    set_comune,
    start_field_edit,
    start_new_action,
    type_edit,
)
from bot.services.progress.flow import FLOW, FlowState, Language, StepRefused, StepShown
from bot.services.progress.importing import (
    IMPORT_FLOW,
    Cancelled,
    ImportContext,
    Imported,
    ImportInto,
    NotCoordinator,
    PickUnion,
    ToDialogue,
    UploadedFile,
    cancel_import,
    confirm_import,
    hold_upload,
    import_context,
    prepare_import,
    take_held_upload,
    upload_target,
)
from bot.services.progress.links import (
    LINK_HISTORY,
    LINK_UPDATE,
    parse_start_link,
    start_link,
    update_link_of_button,
)
from bot.services.progress.notes import (
    HASHTAG,
    NotePlace,
    NoteRecorded,
    NoteRepeated,
    note_place,
    record_note,
)
from bot.services.progress.rounds import (
    ANNOUNCE_PREFIX,
    RoundsDue,
    on_announcement_sent,
    open_round_ids,
    open_rounds,
    round_duties,
    rounds_to_decide,
)
from bot.services.progress.status import (
    INVITE_PREFIX,
    StatusRefused,
    StatusShown,
    TechnicianState,
    invite_key,
    round_status,
    technician_states,
)
from bot.services.progress.written import Written, type_in_dialogue

__all__ = [
    "ANNOUNCE_PREFIX",
    "EDIT_FLOW",
    "FLOW",
    "HASHTAG",
    "IMPORT_FLOW",
    "INVITE_PREFIX",
    "LINK_HISTORY",
    "LINK_UPDATE",
    "NEW",
    "Actor",
    "ArchiveAsked",
    "Cancelled",
    "CardShown",
    "ComuneChoice",
    "ComuneChoices",
    "EditMenu",
    "ExportAsked",
    "FileMade",
    "FlowState",
    "History",
    "ImportContext",
    "ImportInto",
    "Imported",
    "Language",
    "NotAllowed",
    "NotCoordinator",
    "NotePlace",
    "NoteRecorded",
    "NoteRepeated",
    "PickUnion",
    "Problem",
    "Prompt",
    "Reader",
    "RoundsDue",
    "Saved",
    "StatusRefused",
    "StatusShown",
    "StepRefused",
    "StepShown",
    "TechnicianState",
    "ToDialogue",
    "UploadedFile",
    "Written",
    "action_history",
    "action_list",
    "action_union_id",
    "archive_action",
    "ask_to_archive",
    "cancel_import",
    "card",
    "comune_choice",
    "comune_choices",
    "comune_target_union",
    "confirm_import",
    "coordinator",
    "edit_menu",
    "export_actions",
    "export_file",
    "hold_upload",
    "import_context",
    "invite_key",
    "list_page",
    "member_of_union",
    "no_news",
    "note_place",
    "on_announcement_sent",
    "open_round_ids",
    "open_rounds",
    "parse_start_link",
    "prepare_import",
    "press_step",
    "reader",
    "record_note",
    "render_detail",
    "rest_unchanged",
    "round_duties",
    "round_status",
    "rounds_to_decide",
    "set_comune",
    "show_action",
    "start_dialogue",
    "start_field_edit",
    "start_link",
    "start_new_action",
    "take_held_upload",
    "technician_states",
    "template_file",
    "type_edit",
    "type_in_dialogue",
    "update_link_of_button",
    "upload_target",
]
