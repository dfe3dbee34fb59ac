"""/azioni's texts and keyboards: the list and its filters, the card's buttons, the history, the
coordinator's edits and the import's preview. Plain functions of plain data (the use cases of
bot.services.progress hand over the rows they read); every button of the `act` and `imp` areas
is built here.

Callback data (`area:verb:id[:arg]`, ids only, re-checked by the handlers):

    act:list:<union>:<comune>:<status>:<page>   the list (comune: all, union or an id;
                                                status: all or an ActionStatus value)
    act:by_comune:<union>:<status>              which Comune to filter by
    act:by_status:<union>:<comune>              which status to filter by
    act:show:<action>                           an action's card
    act:history:<action>                        its updates, newest first
    act:template:<union>                        the empty spreadsheet to fill in
    act:export:<union>:<csv|xlsx>               the actions as a file
    act:archive:<action>                        «archive it?»
    act:confirm_archive:<action>                archived
    act:new:<union>                             a new action, typed step by step
    act:edit:<action>                           which field to edit
    act:edit_field:<action>:<field>             type that field's new value
    act:edit_comune:<action>                    which Comune the action belongs to
    act:set_comune:<action|new>:<comune|union>  that Comune chosen
    imp:union:<union>                           the Union an uploaded file is for
    imp:confirm:<union>                         import the previewed file
    imp:cancel:<union>                          drop it
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.callback_data import encode
from bot.i18n import N_, Translator, format_datetime
from bot.views.common import STALE_BUTTON
from bot.views.keyboard import Button, Keyboard
from storage.models import Action, ActionStatus

AREA = "act"
IMPORT_AREA = "imp"
PAGE_SIZE = 15
ALL = "all"  # a list filter that keeps everything
UNION_WIDE = "union"  # the Comune filter for intercommunal actions

STATUS_LABELS = {
    ActionStatus.COMPLETED: N_("Completata"),
    ActionStatus.ONGOING: N_("In corso"),
    ActionStatus.POSTPONED: N_("Rinviata"),
    ActionStatus.NOT_STARTED: N_("Non avviata"),
}
STATUS_ICONS = {
    ActionStatus.COMPLETED: "✅",
    ActionStatus.ONGOING: "🔄",
    ActionStatus.POSTPONED: "⏸",
    ActionStatus.NOT_STARTED: "⚪",
}

# Fields a coordinator edits by typing (key → label); Comune is chosen with buttons.
EDIT_FIELDS = (
    ("title", N_("Titolo")),
    ("sector", N_("Settore")),
    ("responsible", N_("Responsabile")),
    ("start_on", N_("Inizio")),
    ("end_on", N_("Fine")),
    ("energy_saved_mwh", N_("Risparmio MWh/a")),
    ("renewable_mwh", N_("Rinnovabili MWh/a")),
    ("co2_avoided_t", N_("CO2 t/a")),
    ("cost_eur", N_("Costo €")),
)


def status_label(status: ActionStatus, tr: Translator) -> str:
    return tr.gettext(STATUS_LABELS[status])


def progress_after_status(status: ActionStatus, progress: int) -> str:
    """The percentage shown after a status («50%»), or "" where it goes without saying:
    «Non avviata 0%», «Completata 100%» and «Rinviata 0%» say the same thing twice."""
    if status in (ActionStatus.NOT_STARTED, ActionStatus.COMPLETED):
        return ""
    if status == ActionStatus.POSTPONED and progress == 0:
        return ""
    return f"{progress}%"


def where(action: Action, names: Mapping[int, str], tr: Translator) -> str:
    if action.municipality_id is None:
        return tr.gettext("Unione (intercomunale)")
    return names.get(action.municipality_id, "?")


def field_label(key: str, tr: Translator) -> str:
    for k, label in EDIT_FIELDS:
        if k == key:
            return tr.gettext(label)
    return key


def import_counts(tr: Translator, *, new: int, changed: int, same: int = 0) -> str:
    """'3 nuove, 1 modificata': only the counts that are not zero (at least one part)."""
    parts = []
    if new or not (changed or same):
        parts.append(tr.ngettext("{n} nuova", "{n} nuove", new).format(n=new))
    if changed:
        parts.append(tr.ngettext("{n} modificata", "{n} modificate", changed).format(n=changed))
    if same:
        parts.append(tr.ngettext("{n} invariata", "{n} invariate", same).format(n=same))
    return ", ".join(parts)


def _pairs(buttons: Sequence[Button], per_row: int = 2) -> Keyboard | None:
    return Keyboard.of(*(buttons[i : i + per_row] for i in range(0, len(buttons), per_row)))


# --- the list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilter:
    comune: str = ALL  # ALL, UNION_WIDE, or a Comune id
    status: str = ALL  # ALL, or an ActionStatus value
    page: int = 0


@dataclass(frozen=True)
class ActionList:
    """The actions a filter keeps (all pages), as the list shows them."""

    union_id: int
    union_name: str
    coordinator: bool
    filter: ListFilter
    comune_id: int | None  # the Comune filter as read: an id, or None
    union_wide: bool  # only the intercommunal actions
    status: ActionStatus | None
    names: Mapping[int, str]  # every Comune of the Union, archived too
    actions: Sequence[Action]


def render_list(view: ActionList, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    f, actions = view.filter, view.actions
    pages = max(1, (len(actions) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(f.page, 0), pages - 1)
    shown = actions[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    filters_text = []
    if view.union_wide:
        filters_text.append(_("intercomunali"))
    elif view.comune_id is not None:
        filters_text.append(html.escape(view.names[view.comune_id]))
    if view.status is not None:
        filters_text.append(html.escape(status_label(view.status, tr)))
    lines = [_("<b>Azioni del PAES — {union}</b>").format(union=html.escape(view.union_name))]
    if filters_text:
        lines.append(_("Filtro: {f}").format(f=", ".join(filters_text)))
    if not actions:
        lines.append("")
        if filters_text:
            lines.append(_("Nessuna azione con questo filtro."))
        elif view.coordinator:
            lines.append(_("Nessuna azione caricata finora."))
            lines.append(
                _(
                    "Per caricarle mandami il file CSV o Excel (scarica il modello qui sotto), oppure aggiungile una per una."
                )
            )
        else:
            lines.append(_("Le azioni del PAES non sono ancora state caricate."))
    else:
        lines.append(
            tr.ngettext(
                "{n} azione — pagina {page} di {pages}",
                "{n} azioni — pagina {page} di {pages}",
                len(actions),
            ).format(n=len(actions), page=page + 1, pages=pages)
            if pages > 1
            else tr.ngettext("{n} azione", "{n} azioni", len(actions)).format(n=len(actions))
        )
        lines.append("")
        for a in shown:
            lines.append(
                f"{STATUS_ICONS[a.status]} <b>{html.escape(a.code)}</b> {html.escape(a.title[:90])} — {html.escape(where(a, view.names, tr))}, {a.progress}%"
            )
    # With no action at all there is nothing to filter or export: only the ways to add some.
    nothing_yet = not actions and not filters_text
    return "\n".join(lines), _list_keyboard(view, page, pages, shown, nothing_yet, tr)


def _list_keyboard(
    view: ActionList,
    page: int,
    pages: int,
    shown: Sequence[Action],
    nothing_yet: bool,
    tr: Translator,
) -> Keyboard | None:
    _ = tr.gettext
    u, f = view.union_id, view.filter
    codes = [Button(a.code[:20], encode(AREA, "show", a.id)) for a in shown]
    nav = []
    if page > 0:
        nav.append(Button("◀️", encode(AREA, "list", u, f.comune, f.status, page - 1)))
    if page < pages - 1:
        nav.append(Button("▶️", encode(AREA, "list", u, f.comune, f.status, page + 1)))
    filters = [
        Button(_("🏘 Comune"), encode(AREA, "by_comune", u, f.status)),
        Button(_("📊 Stato"), encode(AREA, "by_status", u, f.comune)),
    ]
    adding = [
        Button(_("➕ Nuova azione"), encode(AREA, "new", u)),
        Button(_("📥 Modello"), encode(AREA, "template", u)),
    ]
    exports = [
        Button(_("📤 Excel"), encode(AREA, "export", u, "xlsx")),
        Button(_("📤 CSV"), encode(AREA, "export", u, "csv")),
    ]
    return Keyboard.of(
        *(codes[i : i + 5] for i in range(0, len(codes), 5)),
        nav,
        [] if nothing_yet else filters,
        adding if view.coordinator else [],
        exports if view.coordinator and not nothing_yet else [],
    )


def comune_filter(
    union_id: int, status: str, comuni: Iterable[tuple[int, str]], tr: Translator
) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    buttons = [
        Button(_("Tutti"), encode(AREA, "list", union_id, ALL, status, 0)),
        Button(_("Intercomunali"), encode(AREA, "list", union_id, UNION_WIDE, status, 0)),
        *(
            Button(name[:30], encode(AREA, "list", union_id, mid, status, 0))
            for mid, name in comuni
        ),
    ]
    return _("Quale Comune?"), _pairs(buttons)


def status_filter(union_id: int, comune: str, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    buttons = [
        Button(_("Tutti"), encode(AREA, "list", union_id, comune, ALL, 0)),
        *(
            Button(
                f"{STATUS_ICONS[s]} {status_label(s, tr)}",
                encode(AREA, "list", union_id, comune, s.value, 0),
            )
            for s in STATUS_LABELS
        ),
    ]
    return _("Quale stato?"), _pairs(buttons)


# --- one action ---------------------------------------------------------------------------


def card_keyboard(action: Action, tr: Translator, *, coordinator: bool) -> Keyboard | None:
    _ = tr.gettext
    a = action.id
    editing = [Button(_("✏️ Modifica"), encode(AREA, "edit", a))]
    if action.archived_at is None:
        editing.append(Button(_("🗄 Archivia"), encode(AREA, "archive", a)))
    return Keyboard.of(
        [
            Button(_("📜 Storico"), encode(AREA, "history", a)),
            Button(_("↩️ Elenco"), encode(AREA, "list", action.union_id, ALL, ALL, 0)),
        ],
        editing if coordinator else [],
    )


@dataclass(frozen=True)
class HistoryLine:
    """One update of an action's history, its author's name as the reader sees it."""

    at: datetime
    author: str
    previous_status: ActionStatus | None
    previous_progress: int | None
    status: ActionStatus
    progress: int
    note: str | None
    attachments: int
    question: str | None  # the question for the political table, when it asked one


def render_history(
    action: Action, lines_in: Sequence[HistoryLine], tz: ZoneInfo, tr: Translator
) -> str:
    _ = tr.gettext
    lines = [
        _("📜 <b>Storico di {code}</b> — {title}").format(
            code=html.escape(action.code), title=html.escape(action.title[:80])
        )
    ]
    if not lines_in:
        lines.append(_("Nessun aggiornamento finora."))
    for e in lines_in:
        pct = progress_after_status(e.status, e.progress)
        now = f"{STATUS_ICONS[e.status]} {html.escape(status_label(e.status, tr))}"
        now += f" {pct}" if pct else ""
        if e.previous_status == e.status and e.previous_progress == e.progress:
            # A confirmation («Invariata», «Il resto è invariato»): checked, nothing moved.
            said = _("✔️ invariata ({state})").format(state=now)
        elif e.previous_status is not None:
            said = f"{STATUS_ICONS[e.previous_status]} {e.previous_progress}% → {now}"
        else:
            said = now
        line = f"• {format_datetime(e.at, tz, tr.language)} — {html.escape(e.author)}: {said}"
        if e.note:
            line += "\n   " + html.escape(e.note[:300])
        if e.attachments:
            line += "\n   " + tr.ngettext(
                "📎 {n} allegato", "📎 {n} allegati", e.attachments
            ).format(n=e.attachments)
        if e.question is not None:
            line += "\n   ⚖️ " + html.escape(e.question)
        lines.append(line)
    text = "\n".join(lines)
    while len(text) > 4000 and len(lines) > 2:
        lines.pop()
        text = "\n".join(lines) + "\n…"
    return text


def archive_question(action: Action, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    text = _(
        "Archiviare <b>{code}</b>? Non comparirà più negli elenchi e negli aggiornamenti; lo storico resta."
    ).format(code=html.escape(action.code))
    return text, Keyboard.of(
        [
            Button(_("🗄 Sì, archivia"), encode(AREA, "confirm_archive", action.id)),
            Button(_("Annulla"), encode(AREA, "show", action.id)),
        ]
    )


def archived(tr: Translator) -> str:
    return tr.gettext("Archiviata.")


def history_in_private(sent: bool, tr: Translator) -> str:
    """The toast of «Storico» pressed in a group: the history goes to the presser alone. Not
    `sent` (the bot may not write first): the answer opens the private chat, whose «Avvia»
    brings it (t.me/<bot>?start=hist-<action>)."""
    if sent:
        return tr.gettext("Ti ho mandato lo storico in privato.")
    return tr.gettext("Lo storico te lo mando in privato: ti apro la chat con me, premi Avvia.")


# --- the coordinator's edits ----------------------------------------------------------------


def edit_menu(action: Action, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    buttons = [
        *(
            Button(field_label(k, tr), encode(AREA, "edit_field", action.id, k))
            for k, _l in EDIT_FIELDS
        ),
        Button(_("Comune"), encode(AREA, "edit_comune", action.id)),
    ]
    keyboard = Keyboard.of(
        *(buttons[i : i + 3] for i in range(0, len(buttons), 3)),
        [Button(_("↩️ Indietro"), encode(AREA, "show", action.id))],
    )
    text = _("✏️ Che cosa vuoi modificare di <b>{code}</b>?").format(code=html.escape(action.code))
    return text, keyboard


def comune_choice(
    target: int | str, comuni: Iterable[tuple[int, str]], tr: Translator, *, code: str | None
) -> tuple[str, Keyboard | None]:
    """Which Comune an action belongs to: `target` is the action's id, or "new" for the one
    being typed (`code` None: it has no code to name yet)."""
    _ = tr.gettext
    buttons = [
        Button(_("Unione (intercomunale)"), encode(AREA, "set_comune", target, UNION_WIDE)),
        *(Button(n[:30], encode(AREA, "set_comune", target, mid)) for mid, n in comuni),
    ]
    if code is None:
        return _("Di quale Comune è?"), _pairs(buttons)
    return _("Di quale Comune è <b>{code}</b>?").format(code=html.escape(code)), _pairs(buttons)


def comune_saved(created: bool | None, tr: Translator) -> str:
    """The toast of a Comune chosen: saved (an action's), or the typed action created (or an
    existing one of the same code updated)."""
    _ = tr.gettext
    if created is None:
        return _("Salvato.")
    return _("Azione creata.") if created else _("Azione aggiornata.")


def ask_code(tr: Translator) -> str:
    return tr.gettext("➕ Nuova azione. Scrivi il <b>codice</b> (per esempio A1.3).")


def ask_title(tr: Translator) -> str:
    return tr.gettext("Scrivi il <b>titolo</b> dell'azione.")


def ask_field(field: str, tr: Translator) -> str:
    return tr.gettext("Scrivi il nuovo valore per «{field}» (un trattino «-» lo cancella).").format(
        field=html.escape(field_label(field, tr))
    )


def field_problem(problem: str, text: str, tr: Translator) -> str:
    """A typed value refused: the importer's message for it, then how to go on."""
    message = tr.gettext(problem).format(value=html.escape(text))
    return (
        message[:1].upper()
        + message[1:]
        + " "
        + tr.gettext("Riprova, oppure scrivi «-» per cancellare il valore.")
    )


EDIT_REFUSALS = {
    "not_coordinator": N_("Solo chi coordina l'Unione può modificare le azioni."),
    "empty": N_("Scrivilo come testo, per favore."),
    "code_too_long": N_("Il codice è troppo lungo (massimo 32 caratteri)."),
    "title_too_long": N_("Il titolo è troppo lungo (massimo 300 caratteri)."),
    "gone": N_("Questa azione non esiste più."),
    "use_buttons": N_("Usa i pulsanti qui sopra."),
}


def edit_refusal(reason: str, tr: Translator) -> str:
    return tr.gettext(EDIT_REFUSALS[reason])


def saved_prefix(tr: Translator) -> str:
    return tr.gettext("✅ Salvato.") + "\n\n"


# --- files: the template, the export, an upload ----------------------------------------------


def template_caption(tr: Translator) -> str:
    return tr.gettext(
        "📥 Il modello per le azioni del PAES: compilalo e rimandamelo qui in chat (va bene anche in CSV)."
    )


def export_caption(kind: str, tr: Translator) -> str:
    if kind == "csv":
        return tr.gettext("📤 Le azioni del PAES (CSV).")
    return tr.gettext("📤 Le azioni del PAES (Excel).")


def upload_union_picker(
    unions: Iterable[tuple[int, str]], tr: Translator
) -> tuple[str, Keyboard | None]:
    keyboard = Keyboard.column(
        Button(name, encode(IMPORT_AREA, "union", uid)) for uid, name in unions
    )
    return tr.gettext("Per quale Unione sono queste azioni?"), keyboard


def import_busy(union: bool, tr: Translator) -> str:
    """An upload not admitted: this Union's import is still being read, or too many are."""
    if union:
        return tr.gettext(
            "C'è già un'importazione in corso per questa Unione: aspetta la sua anteprima, "
            "poi rimandami il file se serve."
        )
    return tr.gettext("In questo momento sto leggendo molti file: riprova tra qualche minuto.")


def import_failed(tr: Translator) -> str:
    return tr.gettext("Non sono riuscito a leggere il file: riprova tra poco.")


def download_refused(tr: Translator) -> str:
    return tr.gettext("Non riesco a scaricare il file da Telegram: prova a rimandarlo.")


@dataclass(frozen=True)
class ImportPreview:
    union_id: int
    file_name: str | None
    new: Sequence[str]  # the codes of the new actions
    changed: Sequence[str]  # of the changed ones
    unchanged: int


def render_preview(preview: ImportPreview, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    total = len(preview.new) + len(preview.changed) + preview.unchanged
    text = tr.ngettext(
        "📄 <b>{file}</b>: {n} azione ({counts}).",
        "📄 <b>{file}</b>: {n} azioni ({counts}).",
        total,
    ).format(
        file=html.escape(preview.file_name or "file"),
        n=total,
        counts=import_counts(
            tr, new=len(preview.new), changed=len(preview.changed), same=preview.unchanged
        ),
    )
    if preview.new:
        text += "\n" + _("Nuove: {codes}").format(codes=html.escape(", ".join(preview.new[:40])))
    if preview.changed:
        text += "\n" + _("Modificate: {codes}").format(
            codes=html.escape(", ".join(preview.changed[:40]))
        )
    text += "\n\n" + _(
        "Le azioni che non sono nel file restano come sono; lo storico non si perde."
    )
    u = preview.union_id
    return text, Keyboard.of(
        [
            Button(_("✅ Conferma"), encode(IMPORT_AREA, "confirm", u)),
            Button(_("✖️ Annulla"), encode(IMPORT_AREA, "cancel", u)),
        ]
    )


class FileError(Protocol):
    """One problem of an uploaded file (bot.services.action_import.ImportError_)."""

    @property
    def message(self) -> str: ...

    @property
    def row(self) -> int | None: ...

    @property
    def column(self) -> str | None: ...

    def format_args(self) -> dict[str, str]: ...


MAX_ERRORS_SHOWN = 30


def render_errors(errors: Sequence[FileError], tr: Translator, file_name: str | None) -> str:
    _ = tr.gettext
    lines = [
        tr.ngettext(
            "❌ <b>{file}</b> ha un errore: non ho importato nulla.",
            "❌ <b>{file}</b> ha {n} errori: non ho importato nulla.",
            len(errors),
        ).format(file=html.escape(file_name or "file"), n=len(errors))
    ]
    for e in errors[:MAX_ERRORS_SHOWN]:
        message = tr.gettext(e.message).format(
            **{k: html.escape(v) for k, v in e.format_args().items()}
        )
        if e.row is not None and e.column is not None:
            lines.append(
                _("Riga {row}, colonna «{column}»: {message}").format(
                    row=e.row, column=html.escape(e.column), message=message
                )
            )
        elif e.row is not None:
            lines.append(_("Riga {row}: {message}").format(row=e.row, message=message))
        else:
            lines.append(message)
    if len(errors) > MAX_ERRORS_SHOWN:
        rest = len(errors) - MAX_ERRORS_SHOWN
        lines.append(
            tr.ngettext("…e un altro errore.", "…e altri {n} errori.", rest).format(n=rest)
        )
    lines.append("")
    lines.append(_("Correggi il file e rimandamelo."))
    text = "\n".join(lines)
    return text if len(text) <= 4000 else text[:3990].rsplit("\n", 1)[0] + "\n…"


# What a refused press is told (the use cases' `NotAllowed.reason`).
NOT_ALLOWED = {
    "not_for_you": N_("Questo pulsante non è per te."),
    "coordinator_only": N_("Solo chi coordina l'Unione può farlo."),
    "history": N_("Lo storico di questa azione lo vedono i membri del suo Comune."),
    "no_longer_valid": STALE_BUTTON,
    "in_private": N_("Le azioni si modificano in privato: apri la chat con me e scrivi /azioni."),
    "not_coordinator": N_("Solo chi coordina l'Unione può caricare le azioni da un file."),
    "expired": N_("Questa anteprima è scaduta: rimandami il file."),
    "comuni_changed": N_("Nel frattempo i Comuni sono cambiati: rimandami il file."),
}


def not_allowed(reason: str, tr: Translator) -> str:
    return tr.gettext(NOT_ALLOWED[reason])


def import_cancelled(tr: Translator) -> tuple[str, str]:
    """(toast, text) of a cancelled import."""
    return tr.gettext("Annullato."), tr.gettext("✖️ Importazione annullata: non ho cambiato nulla.")


def import_done(created: int, updated: int, tr: Translator) -> tuple[str, str]:
    """(toast, text) of a confirmed import."""
    _ = tr.gettext
    if created or updated:
        text = _("✅ Fatto: {counts}. Le vedi con /azioni.").format(
            counts=import_counts(tr, new=created, changed=updated)
        )
    else:
        text = _("✅ Nessuna modifica: le azioni erano già così. Le vedi con /azioni.")
    return _("Importate."), text


def press_buttons_or_send(tr: Translator) -> str:
    return tr.gettext("Premi «Conferma» o «Annulla» qui sopra, oppure mandami un altro file.")
