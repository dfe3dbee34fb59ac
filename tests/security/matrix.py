"""The authorisation matrix, as data: what each caller gets for each command and button, in
each kind of chat. `tests/security/test_authorization_matrix.py` checks it cell by cell against
the real bot; `python -m tests.security.matrix` prints it as the Markdown tables of
docs/AUTHORIZATION.md (so the document and the test cannot drift apart).

A cell is OK (allowed; for the other Union's coordinator in private: allowed, on their own Union),
or the start of what the refused caller is told (the message or the toast), in Italian.
"""

from __future__ import annotations

from collections.abc import Iterable

from tests.security.world import CALLERS, CHATS

OK = "ok"

# What refused callers are told (the start of the message or toast).
NOT_MEMBER = "Non fai ancora parte di nessun Team energia"
MEMBERS_ONLY = "Questo comando è riservato ai membri del Team energia dell'Unione"
UNLINKED = "Questo gruppo non è collegato a nessuna Unione"
PRIVATE_ONLY = "Questo comando funziona in chat privata con me"
COORD_ONLY = "Questo comando è riservato a chi coordina l'Unione"

Row = dict[str, dict[str, str]]  # chat → caller → cell
# Where buttons are forged: the caller's private chat, Union A's political group, a group
# linked to nothing, Union B's group.
BUTTON_CHATS = ("private", "political", "unlinked", "other")


def row(
    *,
    private: dict[str, str] | None = None,
    group: dict[str, str] | None = None,
    political: dict[str, str] | None = None,
    technical: dict[str, str] | None = None,
    unlinked: dict[str, str] | None = None,
    other: dict[str, str] | None = None,
) -> Row:
    """Cells by chat; `group` is the default for the four group columns."""
    out: Row = {}
    given = {
        "private": private,
        "political": political or group,
        "technical": technical or group,
        "unlinked": unlinked or group,
        "other": other or group,
    }
    for chat in CHATS:
        cells = given[chat] or {}
        out[chat] = {caller: cells.get(caller, cells.get("*", OK)) for caller in CALLERS}
    return out


def everyone(cell: str) -> dict[str, str]:
    return {"*": cell}


def only(allowed: Iterable[str], refused: str, **special: str) -> dict[str, str]:
    cells = {caller: (OK if caller in set(allowed) else refused) for caller in CALLERS}
    cells.update(special)
    return cells


MEMBERS = ("assessore", "sindaco", "tecnico", "coord")
NO_TEAM_YET = "Non fai ancora parte di un Team energia"
NON_MEMBERS_PRIVATE = {"outsider": NOT_MEMBER, "pending": NOT_MEMBER}
# In a group linked to Union A: its active members go on, the others are told it is not for them.
LINKED_MEMBERS = only(MEMBERS, MEMBERS_ONLY)
# In Union B's group a command is about Union B: only its coordinator goes on.
B_GROUP_COMMAND = {**everyone(MEMBERS_ONLY), "other_coord": OK}
MEMBER_READ = row(
    private=NON_MEMBERS_PRIVATE,
    political=LINKED_MEMBERS,
    technical=LINKED_MEMBERS,
    unlinked=everyone(UNLINKED),
    other=B_GROUP_COMMAND,
)


def coordinator_private(refused: str) -> Row:
    """A private-only coordinator command."""
    return row(
        private={
            **NON_MEMBERS_PRIVATE,
            "assessore": refused,
            "sindaco": refused,
            "tecnico": refused,
        },
        group=everyone(PRIVATE_ONLY),
    )


COMMANDS: dict[str, Row] = {
    "/start": row(),
    "/aiuto": row(),
    "/crea_unione": row(group=everyone(PRIVATE_ONLY)),
    "/crea_unione Unione di Prova": row(group=everyone(PRIVATE_ONLY)),
    "/comuni": coordinator_private(COORD_ONLY),
    "/invito": coordinator_private(COORD_ONLY),
    "/team": MEMBER_READ,
    "/collega": row(
        private=everyone("Scrivi /collega dentro il gruppo Telegram"),
        group=only(
            ["coord"],
            "Solo chi coordina un'Unione può collegare questo gruppo",
            other_coord="Per collegare il gruppo devi esserne amministratore",
        ),
        other=only(
            ["other_coord"],
            "Solo chi coordina un'Unione può collegare questo gruppo",
            coord="Per collegare il gruppo devi esserne amministratore",
        ),
    ),
    "/riunione": row(
        private={
            **NON_MEMBERS_PRIVATE,
            "assessore": "Le date delle riunioni le propone chi coordina l'Unione",
            "tecnico": "Le date delle riunioni le propone chi coordina l'Unione",
        },
        political={
            **LINKED_MEMBERS,
            "assessore": "Le date delle riunioni le propone chi coordina l'Unione",
            "tecnico": "Le date delle riunioni le propone chi coordina l'Unione",
        },
        technical={
            **LINKED_MEMBERS,
            "assessore": "Le date delle riunioni le propone chi coordina l'Unione",
            "tecnico": "Le date delle riunioni le propone chi coordina l'Unione",
        },
        unlinked=everyone(UNLINKED),
        other=B_GROUP_COMMAND,
    ),
    "/calendario": MEMBER_READ,
    "/riunioni": MEMBER_READ,  # the calendar's old name, kept as an alias
    "/aggiornamento": row(
        private={
            **NON_MEMBERS_PRIVATE,
            "assessore": "Gli aggiornamenti sulle azioni li danno i funzionari tecnici",
            "sindaco": "Gli aggiornamenti sulle azioni li danno i funzionari tecnici",
        },
        group=everyone("Gli aggiornamenti si danno in privato"),
    ),
    "/azioni": MEMBER_READ,
    "/riepilogo": MEMBER_READ,
    "/decisione": row(
        private={
            **NON_MEMBERS_PRIVATE,
            "assessore": "Solo chi coordina l'Unione registra le decisioni del tavolo politico",
            "sindaco": "Solo chi coordina l'Unione registra le decisioni del tavolo politico",
            "tecnico": "Solo chi coordina l'Unione registra le decisioni del tavolo politico",
        },
        political={
            **LINKED_MEMBERS,
            "assessore": "Solo chi coordina l'Unione registra le decisioni del tavolo politico",
            "sindaco": "Solo chi coordina l'Unione registra le decisioni del tavolo politico",
            "tecnico": "Solo chi coordina l'Unione registra le decisioni del tavolo politico",
        },
        technical={
            **LINKED_MEMBERS,
            "assessore": "Solo chi coordina l'Unione registra le decisioni del tavolo politico",
            "sindaco": "Solo chi coordina l'Unione registra le decisioni del tavolo politico",
            "tecnico": "Solo chi coordina l'Unione registra le decisioni del tavolo politico",
            "coord": "Le decisioni si registrano nel gruppo del tavolo politico o in privato",
        },
        unlinked=everyone(UNLINKED),
        other=B_GROUP_COMMAND,
    ),
    "/annuncio": row(group=everyone("Gli avvisi si preparano in chat privata con me")),
    "/annuncio Avviso di prova": row(
        private={
            **NON_MEMBERS_PRIVATE,
            "assessore": "Solo chi coordina l'Unione manda avvisi a tutto il team",
            "sindaco": "Solo chi coordina l'Unione manda avvisi a tutto il team",
            "tecnico": "Solo chi coordina l'Unione manda avvisi a tutto il team",
        },
        group=everyone("Gli avvisi si preparano in chat privata con me"),
    ),
    "/annuncio stato": row(
        private={
            **NON_MEMBERS_PRIVATE,
            "assessore": "Solo chi coordina l'Unione manda avvisi a tutto il team",
            "sindaco": "Solo chi coordina l'Unione manda avvisi a tutto il team",
            "tecnico": "Solo chi coordina l'Unione manda avvisi a tutto il team",
        },
        group=everyone("Gli avvisi si preparano in chat privata con me"),
    ),
    "/documenti": MEMBER_READ,
    "/verbali": MEMBER_READ,
    "/esporta": row(
        private={
            **NON_MEMBERS_PRIVATE,
            "assessore": "L'esportazione è riservata a chi coordina l'Unione e ai Sindaci",
            "tecnico": "L'esportazione è riservata a chi coordina l'Unione e ai Sindaci",
        },
        group=everyone("L'esportazione si chiede in privato: apri la chat con me"),
    ),
    "/impostazioni": row(
        private={
            **NON_MEMBERS_PRIVATE,
            "assessore": "Solo chi coordina l'Unione ne cambia le impostazioni",
            "sindaco": "Solo chi coordina l'Unione ne cambia le impostazioni",
            "tecnico": "Solo chi coordina l'Unione ne cambia le impostazioni",
        },
        group=everyone("Le impostazioni si cambiano in chat privata con me"),
    ),
    "/lingua": row(),
    "/privacy": row(),
    "/cancellami": row(
        private={
            "outsider": "Non ho nessun tuo dato personale da cancellare",
            "coord": "Nessun altro coordina l'Unione (",
        },
        group=everyone(PRIVATE_ONLY),
    ),
    "/profilo": row(
        private={"outsider": NO_TEAM_YET, "pending": NO_TEAM_YET},
        group=everyone(PRIVATE_ONLY),
    ),
}

# Buttons: callback data templates ({A} = Union A's id, {act} = one of its actions, …) pressed
# (forged, so that every caller can press every button) in a private chat and in Union A's
# political group. Cells: OK or the start of the toast (or message) the refused caller gets.
NOT_FOR_YOU = "Questo pulsante non è per te"
NO_LONGER_VALID = "Questo pulsante non è più valido"
UNION_MEMBERS = "Riservato ai membri del Team energia dell'Unione"
POLL_MEMBERS = "Questo sondaggio è per i membri del Team energia dell'Unione"
POLL_GONE = "Questo pulsante non è più valido: usa i pulsanti del sondaggio più recente"
COORD_OR_PROPOSER = "Solo chi coordina l'Unione o chi ha proposto il sondaggio può gestirlo"


def buttons(
    private: dict[str, str],
    political: dict[str, str] | None = None,
    unlinked: dict[str, str] | None = None,
    other: dict[str, str] | None = None,
) -> Row:
    """Cells in a private chat, in Union A's political group, in a group linked to nothing and
    in Union B's group (each the same as the one before unless given: the server decides by
    the ids)."""
    p = {caller: private.get(caller, private.get("*", OK)) for caller in CALLERS}
    g = p if political is None else {c: political.get(c, political.get("*", OK)) for c in CALLERS}
    u = g if unlinked is None else {c: unlinked.get(c, unlinked.get("*", OK)) for c in CALLERS}
    o = g if other is None else {c: other.get(c, other.get("*", OK)) for c in CALLERS}
    return {"private": p, "political": g, "unlinked": u, "other": o}


# A button on one Union's data works in a group only if the group is linked to that Union
# (bot/scope.py:button_refusal): elsewhere everyone is refused, before anything is read.
OTHER_UNION = "Questo pulsante riguarda un'altra Unione"


def union_button(private: dict[str, str], political: dict[str, str] | None = None) -> Row:
    """A button on Union A's data: as given in private and in A's group; refused to everyone
    in a group linked to nothing and in Union B's group."""
    return buttons(private, political, everyone(UNLINKED), everyone(OTHER_UNION))


def private_button(private: dict[str, str], in_groups: str) -> Row:
    """A button of a private dialogue: refused to everyone in any group."""
    return buttons(private, everyone(in_groups), everyone(in_groups), everyone(in_groups))


# The coordinator's buttons of private commands and dialogues work only in private, where they
# are offered (bot/scope.py:button_refusal with `private_only`, like announcements and the
# progress update): in any group everyone's forged press is refused with where it works.
PRIVATE_BUTTON = "Questo pulsante funziona solo in chat privata con me"
# Buttons that show people's details (member cards, requests, the roster).
COORD_BUTTON = private_button(only(["coord"], NOT_FOR_YOU), PRIVATE_BUTTON)
APPROVAL = private_button(
    only(["coord"], "Solo chi coordina l'Unione può decidere sulle richieste"),
    PRIVATE_BUTTON,
)
COMUNI_BUTTON = private_button(
    only(["coord"], NOT_FOR_YOU), "I Comuni si gestiscono in chat privata con me"
)
# A forged press in a group would post a live invite link there.
INVITE_BUTTON = private_button(
    only(["coord"], NOT_FOR_YOU), "Gli inviti si preparano in chat privata con me"
)
MEMBER_BUTTON_PRIVATE = {"outsider": NOT_MEMBER, "pending": NOT_MEMBER, "other_coord": NOT_MEMBER}
MEMBER_BUTTON_GROUP = {
    "outsider": MEMBERS_ONLY,
    "pending": MEMBERS_ONLY,
    "other_coord": MEMBERS_ONLY,
}
# (The Union picker re-runs the command for the group's own Union: in Union B's group, B's.)
SETTINGS = private_button(
    only(["coord"], "Solo chi coordina l'Unione ne cambia le impostazioni"),
    "Le impostazioni si cambiano in chat privata con me",
)
DOCUMENTS = private_button(
    only(["coord"], "Solo chi coordina l'Unione gestisce i link"),
    "I link si gestiscono in chat privata con me",
)
# A decision's buttons count in a group only on a message the decision was posted as (or a
# list that carries them): the anchor the cells are forged on is none, so everyone is refused.
# tests/security/test_decision_messages.py presses them on the decision's own messages.
NOT_ITS_MESSAGE = "Qui questo pulsante non funziona"


def decision_button(private: dict[str, str]) -> Row:
    return union_button(private, everyone(NOT_ITS_MESSAGE))


DECISION_CLOSE = decision_button(
    {
        **only(["coord"], "Solo chi coordina l'Unione può chiudere una questione"),
        "outsider": UNION_MEMBERS,
        "pending": UNION_MEMBERS,
        "other_coord": UNION_MEMBERS,
    }
)
DECISION_DONE = decision_button(
    {
        **only(["coord"], "Solo chi coordina l'Unione può segnare una decisione come attuata"),
        "outsider": UNION_MEMBERS,
        "pending": UNION_MEMBERS,
        "other_coord": UNION_MEMBERS,
    }
)
# Announcements are prepared in private, like /annuncio.
ANNOUNCEMENT = private_button(
    only(["coord"], "Solo chi coordina l'Unione manda avvisi a tutto il team"),
    "Gli avvisi si preparano in chat privata con me",
)
IMPORT = union_button(
    only(["coord"], "Solo chi coordina l'Unione può caricare le azioni da un file")
)
UPDATE_FLOW_PRIVATE = only(["tecnico", "coord"], "Questo pulsante non è per te")
# The progress update is a private dialogue, like /aggiornamento.
UPDATES_PRIVATE = "Gli aggiornamenti si danno in privato"
UPDATE_FLOW = private_button(UPDATE_FLOW_PRIVATE, UPDATES_PRIVATE)
EXPORT = union_button(
    {
        **only(
            ["sindaco", "coord"], "L'esportazione è riservata a chi coordina l'Unione e ai Sindaci"
        ),
        "outsider": UNION_MEMBERS,
        "pending": UNION_MEMBERS,
        "other_coord": UNION_MEMBERS,
    }
)
# «⚙️ Gestisci» under the poll: the panel in private for the coordinator (or whoever proposed
# the poll), from any message of a group linked to the Union (it only writes to the presser);
# everyone else is told who may. The panel's controls («Chi manca?», «Aggiungi data», «Proroga»,
# «Chiudi ora», «Annulla sondaggio») and their confirmations work in private only.
MEETING_PANEL = union_button(only(["coord"], COORD_OR_PROPOSER))
MEETING_COORD = private_button(only(["coord"], COORD_OR_PROPOSER), PRIVATE_BUTTON)
MEETING_CONFIRM = private_button(only(["coord"], COORD_OR_PROPOSER), PRIVATE_BUTTON)
AGENDA_MEMBERS = "Qui entrano solo i membri del Team energia dell'Unione"
AGENDA_COORD = private_button(
    only(
        ["coord"],
        "Solo chi coordina l'Unione mette in ordine e conferma l'ordine del giorno",
        outsider=AGENDA_MEMBERS,
        pending=AGENDA_MEMBERS,
        other_coord=AGENDA_MEMBERS,
    ),
    PRIVATE_BUTTON,
)
TASK_COORD = private_button(
    only(
        ["coord"],
        "Solo chi coordina l'Unione assegna i compiti",
        outsider=AGENDA_MEMBERS,
        pending=AGENDA_MEMBERS,
        other_coord=AGENDA_MEMBERS,
    ),
    PRIVATE_BUTTON,
)
COORD_ONLY_ACTIONS = "Solo chi coordina l'Unione può farlo"
ACTION_EDIT = union_button(
    {
        **only(["coord"], COORD_ONLY_ACTIONS),
        "outsider": NOT_FOR_YOU,
        "pending": NOT_FOR_YOU,
        "other_coord": NOT_FOR_YOU,
    }
)

# /aiuto's and the welcome's task buttons start a private command for whoever /aiuto offers it
# to; anyone else, and anyone in a group, is told so (bot.handlers.common.commands.on_task).
# The minutes (issue 19): the draft's panel is the coordinator's, in private; a member of
# another Union, or of none, learns nothing of them (not even that they exist).
MINUTES_GONE = "Questo verbale non c'è più"
MINUTES_PANEL = private_button(
    {
        **only(["coord"], "Solo chi coordina l'Unione corregge e approva il verbale"),
        "outsider": MINUTES_GONE,
        "pending": MINUTES_GONE,
        "other_coord": MINUTES_GONE,
    },
    PRIVATE_BUTTON,
)
TASK_REFUSED = "Questo non è tra le cose che puoi fare qui"


# A meeting's attendance (issue 19): the table's members check in on the list in its group
# (here the meeting is 20 days ahead: a member is told when check-ins open, and the e2e story
# tests/e2e/test_attendance_story.py checks in); the coordinator corrects it in private.
ATT_NOT_MEMBER = "Qui entrano solo i membri del Team energia dell'Unione"
ATT_NOT_COORD = "Le presenze le corregge chi coordina l'Unione"
ATT_OUTSIDERS = {
    "outsider": ATT_NOT_MEMBER,
    "pending": ATT_NOT_MEMBER,
    "other_coord": ATT_NOT_MEMBER,
}
ATT_CHECK_IN = union_button(ATT_OUTSIDERS)
ATT_MANAGE = union_button({**only(["coord"], ATT_NOT_COORD), **ATT_OUTSIDERS})
ATT_ROSTER = private_button(
    {**only(["coord"], ATT_NOT_COORD), **ATT_OUTSIDERS},
    "Le presenze si correggono in chat privata con me",
)
# The world's meeting is no workshop: its coordinator is told how to make it one first.
ATT_MATERIALS = private_button(
    {**only([], ATT_NOT_COORD, coord="I materiali sono dei workshop tematici"), **ATT_OUTSIDERS},
    "Le presenze si correggono in chat privata con me",
)


def task_button(allowed: Iterable[str]) -> Row:
    return buttons(only(allowed, TASK_REFUSED), everyone(TASK_REFUSED))


BUTTONS: dict[str, Row] = {
    "lang:set:en": buttons(everyone(OK)),
    "help:go:riunione": task_button(("sindaco", "coord", "other_coord")),
    "help:go:aggiornamento": task_button(("tecnico", "coord", "other_coord")),
    "help:go:invito": task_button(("coord", "other_coord")),
    "help:go:team": task_button((*MEMBERS, "other_coord")),
    # /profilo's buttons: about the presser only, in their own private chat.
    "me:form:f": private_button(only((*MEMBERS, "other_coord"), NO_LONGER_VALID), PRIVATE_BUTTON),
    "me:name": private_button(only((*MEMBERS, "other_coord"), NO_LONGER_VALID), PRIVATE_BUTTON),
    "me:cancel": private_button(only((*MEMBERS, "other_coord"), NO_LONGER_VALID), PRIVATE_BUTTON),
    "pick:team:{A}": buttons(
        MEMBER_BUTTON_PRIVATE, MEMBER_BUTTON_GROUP, everyone(UNLINKED), B_GROUP_COMMAND
    ),
    "pick:azioni:{A}": buttons(
        MEMBER_BUTTON_PRIVATE, MEMBER_BUTTON_GROUP, everyone(UNLINKED), B_GROUP_COMMAND
    ),
    "reg:comune:{inv}:{mun}": buttons(everyone(NO_LONGER_VALID)),
    "reg:role:{inv}:sf": buttons(everyone(NO_LONGER_VALID)),
    "reg:cancel:{inv}": buttons(everyone(NO_LONGER_VALID)),
    "appr:approve:{pending}": APPROVAL,
    "appr:reject:{pending}": APPROVAL,
    "com:add:{A}": COMUNI_BUTTON,
    "com:list:{A}": COMUNI_BUTTON,
    "com:rename:{mun}": COMUNI_BUTTON,
    "com:remove:{mun}": COMUNI_BUTTON,
    "com:remove_yes:{mun}": COMUNI_BUTTON,
    "com:cancel:{A}": COMUNI_BUTTON,
    "inv:list:{A}": INVITE_BUTTON,
    "inv:make:{A}:0:x": INVITE_BUTTON,
    "inv:comuni:{A}": INVITE_BUTTON,
    "inv:roles:{A}:0": INVITE_BUTTON,
    "inv:revoke:{inv}": INVITE_BUTTON,
    "team:list:{A}": COORD_BUTTON,
    "link:set:{A}:p": buttons(
        everyone(NO_LONGER_VALID),
        only(["coord"], "Solo chi coordina l'Unione può collegare il gruppo"),
    ),
    "link:cancel": buttons(only(["coord", "other_coord"], NOT_FOR_YOU)),
    "mbr:show:{sindaco}": COORD_BUTTON,
    "mbr:coordinator:{sindaco}:1": COORD_BUTTON,
    "mbr:remove:{sindaco}": COORD_BUTTON,
    "mbr:remove_yes:{sindaco}": COORD_BUTTON,
    "mbr:roles:{sindaco}": COORD_BUTTON,
    "mbr:set_role:{sindaco}:a": COORD_BUTTON,
    "mbr:comuni:{sindaco}": COORD_BUTTON,
    "mbr:set_comune:{sindaco}:{mun}": COORD_BUTTON,
    "del:cancel": private_button(everyone(OK), PRIVATE_BUTTON),
    "vote:y:{slot}": buttons(
        only(MEMBERS, POLL_MEMBERS),
        everyone(POLL_GONE),  # the poll was never posted in this group
    ),
    "vote:m:{slot}": buttons(only(MEMBERS, POLL_MEMBERS), everyone(POLL_GONE)),
    "vote:n:{slot}": buttons(only(MEMBERS, POLL_MEMBERS), everyone(POLL_GONE)),
    "mtg:answers:{slot}": union_button(
        only(MEMBERS, "Le risposte le vedono solo i membri del Team energia dell'Unione")
    ),
    # «👤 Le mie risposte»: one's own private copy, for the members at the poll's table (here
    # both tables), from any message of a group linked to the Union.
    "mtg:mine:{poll}": union_button(only(MEMBERS, POLL_MEMBERS)),
    "mtg:manage:{poll}": MEETING_PANEL,
    "mtg:missing:{poll}": MEETING_COORD,
    "mtg:close:{poll}": MEETING_COORD,
    "mtg:cancel:{poll}": MEETING_COORD,
    "mtg:confirm_close:{poll}": MEETING_CONFIRM,
    "mtg:confirm_cancel:{poll}": MEETING_CONFIRM,
    "mtg:extend:{poll}": MEETING_COORD,
    "mtg:extend_by:{poll}:3": MEETING_CONFIRM,
    "mtg:invite:{meeting}": union_button(
        only(MEMBERS, "L'invito lo scaricano solo i membri del Team energia dell'Unione")
    ),
    "mtg:add_date:{poll}": MEETING_COORD,
    "min:v:{draft}:p": MINUTES_PANEL,
    "min:o:{draft}:{draft_item}:d": MINUTES_PANEL,
    "min:a:{draft}:{sindaco}:1": MINUTES_PANEL,
    "min:n:{draft}": MINUTES_PANEL,
    "min:w:{draft}:{draft_item}": MINUTES_PANEL,
    "min:ok:{draft}": MINUTES_PANEL,
    "min:f:{filed}": union_button(only(MEMBERS, MINUTES_GONE)),
    "att:in:{meeting}:p": ATT_CHECK_IN,
    "att:manage:{meeting}": ATT_MANAGE,
    "att:tap:{meeting}:{sindaco}": ATT_ROSTER,
    "att:guest:{meeting}": ATT_ROSTER,
    "att:nonorg:{meeting}": ATT_ROSTER,
    "att:gmode:{guest}": ATT_ROSTER,
    "att:gdel:{guest}": ATT_ROSTER,
    "att:ws:{meeting}": ATT_ROSTER,
    "att:nows:{meeting}": ATT_ROSTER,
    "att:mat:{meeting}": ATT_MATERIALS,
    "att:matend:{meeting}": ATT_ROSTER,
    "att:matdel:{material}": ATT_ROSTER,
    "att:get:{meeting}": ATT_CHECK_IN,
    "wiz:stop": buttons(everyone("Questa preparazione è scaduta")),
    "act:show:{act}": union_button(only(MEMBERS, NOT_FOR_YOU)),
    "act:list:{A}:all:all:0": union_button(only(MEMBERS, NOT_FOR_YOU)),
    "act:history:{act}": union_button(
        {
            **only(MEMBERS, NOT_FOR_YOU),
            # the action is Bibbiano's: its history is for Bibbiano's people and the coordinator
            "assessore": "Lo storico di questa azione lo vedono i membri del suo Comune",
        }
    ),
    "act:by_comune:{A}:all": union_button(only(MEMBERS, NOT_FOR_YOU)),
    "act:by_status:{A}:all": union_button(only(MEMBERS, NOT_FOR_YOU)),
    "act:edit:{act}": ACTION_EDIT,
    "act:edit_field:{act}:title": ACTION_EDIT,
    "act:edit_comune:{act}": ACTION_EDIT,
    "act:archive:{act}": ACTION_EDIT,
    "act:confirm_archive:{act}": ACTION_EDIT,
    "act:new:{A}": ACTION_EDIT,
    "act:template:{A}": ACTION_EDIT,
    "act:export:{A}:csv": ACTION_EDIT,
    "act:set_comune:{act}:{mun}": union_button(only(["coord"], NOT_FOR_YOU)),
    "imp:union:{A}": IMPORT,
    "imp:confirm:{A}": IMPORT,
    "imp:cancel:{A}": IMPORT,
    "upd:no_news:{round}": UPDATE_FLOW,
    "upd:rest:{round}": UPDATE_FLOW,
    "upd:pick:{act}": UPDATE_FLOW,
    "upd:same:{act}": UPDATE_FLOW,
    "upd:status:{act}:completed": UPDATE_FLOW,
    "upd:skip:{act}": UPDATE_FLOW,
    "upd:progress:{act}:50": UPDATE_FLOW,
    "upd:question:{act}": UPDATE_FLOW,
    "upd:list:{A}": UPDATE_FLOW,
    "upd:finish:{A}": UPDATE_FLOW,
    "sum:xlsx:{A}": union_button(
        {"outsider": UNION_MEMBERS, "pending": UNION_MEMBERS, "other_coord": UNION_MEMBERS}
    ),
    "exp:csv:{A}": EXPORT,
    "exp:xlsx:{A}": EXPORT,
    "dec:vote:{dec}:approve": decision_button(
        {
            "outsider": UNION_MEMBERS,
            "pending": UNION_MEMBERS,
            "other_coord": UNION_MEMBERS,
            "tecnico": "Votano il Sindaco di ogni Comune",
            "coord": "Votano il Sindaco di ogni Comune",
        }
    ),
    "dec:close:{dec}": DECISION_CLOSE,
    "dec:outcome:{dec}:approved": DECISION_CLOSE,
    "dec:done:{dec}": DECISION_DONE,
    "dec:done_listed:{dec}": DECISION_DONE,
    "dec:back:{dec}": DECISION_CLOSE,
    "ann:send:{ann}:all": ANNOUNCEMENT,
    "ann:comuni:{ann}": ANNOUNCEMENT,
    "ann:cancel:{ann}": ANNOUNCEMENT,
    "ann:back:{ann}": ANNOUNCEMENT,
    "doc:add:{A}": DOCUMENTS,
    "doc:remove:{A}:{doc}": DOCUMENTS,
    "set:menu:{A}": SETTINGS,
    "set:meeting:{A}:ad:up": SETTINGS,
    "set:weekday:{A}:2": SETTINGS,
    "set:round:{A}:ue:toggle": SETTINGS,
    "set:paes:{A}": SETTINGS,
    "set:paes_date:{A}": SETTINGS,
    "set:paes_clear:{A}": SETTINGS,
    "set:hashtag:{A}": SETTINGS,
    # The agenda: «📝 Proponi un punto» for the members at the meeting's table (here both), from
    # the group or in private; the panel and the answers to proposals for the coordinator, in
    # private only.
    "agd:add:{meeting}": union_button(only(MEMBERS, AGENDA_MEMBERS)),
    "agd:up:{item}": AGENDA_COORD,
    "agd:down:{item}": AGENDA_COORD,
    "agd:drop:{item}": AGENDA_COORD,
    "agd:ok:{meeting}": AGENDA_COORD,
    "agd:show:{meeting}": AGENDA_COORD,
    "agd:yes:{proposal}": AGENDA_COORD,
    "agd:no:{proposal}": AGENDA_COORD,
    # Tasks: the coordinator's dialogue, in private; «✔️ Fatto» for the assignee (the Sindaco).
    "tsk:new:{meeting}": TASK_COORD,
    "tsk:who:{meeting}:{sindaco}": TASK_COORD,
    "tsk:act:{meeting}:{act}": TASK_COORD,
    "tsk:due:{meeting}:7": TASK_COORD,
    "tsk:stop:{meeting}": private_button(everyone(OK), PRIVATE_BUTTON),  # ends one's own only
    "tsk:drop:{task}": TASK_COORD,
    "tsk:done:{task}": private_button(
        only(
            ["sindaco"],
            "Questo compito è di un'altra persona",
            outsider=AGENDA_MEMBERS,
            pending=AGENDA_MEMBERS,
            other_coord=AGENDA_MEMBERS,
        ),
        PRIVATE_BUTTON,
    ),
}

CALLER_TITLES = {
    "outsider": "outsider",
    "pending": "pending member",
    "assessore": "Assessore",
    "sindaco": "Sindaco",
    "tecnico": "Funzionario tecnico",
    "other_coord": "coordinator of another Union",
    "coord": "the coordinator",
}


COMMAND_CHAT_TITLES = {
    "private": "a private chat",
    "political": "Union A's political group",
    "technical": "Union A's technical group",
    "unlinked": "a group linked to nothing",
    "other": "Union B's group",
}


def markdown() -> str:
    """The tables of docs/AUTHORIZATION.md: ✅ allowed, ⛔n refused with message n (legend)."""
    codes: dict[str, int] = {}

    def cell(value: str) -> str:
        if value == OK:
            return "✅"
        return f"⛔{codes.setdefault(value, len(codes) + 1)}"

    lines: list[str] = []
    header = "| | " + " | ".join(CALLER_TITLES[c] for c in CALLERS) + " |"
    rule = "|---" * (len(CALLERS) + 1) + "|"
    lines += ["### Commands", ""]
    for chat in CHATS:
        lines += [f"#### In {COMMAND_CHAT_TITLES[chat]}", "", header, rule]
        for command, cells in COMMANDS.items():
            lines.append(
                f"| `{command}` | " + " | ".join(cell(cells[chat][c]) for c in CALLERS) + " |"
            )
        lines.append("")
    lines += ["### Buttons (forged presses: any caller can send any callback data)", ""]
    titles = {
        "private": "In a private chat",
        "political": "In Union A's political group",
        "unlinked": "In a group linked to nothing",
        "other": "In Union B's group (Union A's buttons pressed in another Union's group)",
    }
    for chat, title in titles.items():
        lines += [f"#### {title}", "", header, rule]
        for data, cells in BUTTONS.items():
            lines.append(
                f"| `{data}` | " + " | ".join(cell(cells[chat][c]) for c in CALLERS) + " |"
            )
        lines.append("")
    lines += ["### What refused callers are told", ""]
    lines += [f"{n}. «{text}…»" for text, n in codes.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
