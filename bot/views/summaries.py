"""Summaries and decisions as people read them: the summary's and the decisions' buttons,
/decisione's list, /esporta's question, the outcome of a decision, and every answer to them.

Plain functions of plain data (no Telegram, no session). The use cases in
bot.services.summaries call them for what they queue in the outbox (the summary's keyboard, a
decision's message and outcome); the handlers in bot.handlers.summaries for what they answer
at once. The summary's own text is built in bot.services.summaries.summary.

Buttons (callback data `area:verb:id[:arg]`, ids only; the handlers re-check everything):

    sum:xlsx:<union>                  under the summary: the spreadsheet (any member)
    exp:xlsx:<union>, exp:csv:<union> /esporta's formats (the coordinator, the Sindaci)
    dec:vote:<decision>:<choice>      approve | reject | postpone (one vote per Comune)
    dec:close:<decision>              «Chiudi la votazione»: the outcomes in place of the votes
    dec:outcome:<decision>:<outcome>  approved | rejected | postponed
    dec:back:<decision>               back from the outcomes to the votes
    dec:done:<decision>               «Segna come attuata», on the decision's own messages
    dec:done_listed:<decision>        the same, from /decisione's list of pending decisions
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import callback_data as cb
from bot.i18n import N_, Translator, format_datetime
from bot.views.answer import Answer
from bot.views.common import STALE_BUTTON
from bot.views.dashboard.links import mini_app_url
from bot.views.dashboard.telegram import dashboard_button
from bot.views.keyboard import Button, Keyboard, open_chat_button
from storage.models import DecisionStatus, DecisionVoteChoice

SUM_AREA, DEC_AREA, EXP_AREA = "sum", "dec", "exp"
SHEET, CSV = "xlsx", "csv"  # the export's formats, as in the buttons' data
VOTE, CLOSE, OUTCOME, BACK, DONE, DONE_LISTED = (
    "vote",
    "close",
    "outcome",
    "back",
    "done",
    "done_listed",
)

APPROVE, REJECT, POSTPONE = "approve", "reject", "postpone"
CHOICE_ICONS = {APPROVE: "✅", REJECT: "❌", POSTPONE: "⏸"}
CHOICE_LABELS = {APPROVE: N_("Approva"), REJECT: N_("Respingi"), POSTPONE: N_("Rinvia")}
OUTCOME_LABELS = {
    "approved": N_("Approvata"),
    "rejected": N_("Respinta"),
    "postponed": N_("Rinviata"),
    "done": N_("Attuata"),
    "open": N_("In votazione"),
}
# A choice and an outcome in a button's data are their stored values: `dec:vote:7:approve`.
CHOICES = {choice.value: choice for choice in DecisionVoteChoice}
OUTCOMES = {
    status.value: status
    for status in (DecisionStatus.APPROVED, DecisionStatus.REJECTED, DecisionStatus.POSTPONED)
}
# /decisione without text lists at most this many pending decisions (one button each).
PENDING_LISTED = 20
QUESTION_MAX = 300  # a question's characters, in the summary and in /decisione's list

Keyboarded = tuple[str, Keyboard | None]


def clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters: spaces folded, a cut marked «…»."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- the summary --------------------------------------------------------------------------


def summary_keyboard(tr: Translator, union_id: int, dashboard: Button | None = None) -> Keyboard:
    """Under the summary's last text message: the spreadsheet of the same data, and the
    dashboard on this Union when it is configured (issue 20)."""
    button = Button("📤 " + tr.gettext("Foglio di calcolo"), cb.encode(SUM_AREA, SHEET, union_id))
    rows: tuple[tuple[Button, ...], ...] = ((button,),)
    if dashboard is not None:
        rows += ((dashboard,),)
    return Keyboard(rows)


def dashboard_link(
    tr: Translator,
    union_id: int,
    *,
    private: bool,
    webapp_url: str | None,
    bot_username: str | None,
) -> Button | None:
    """The dashboard's button under a summary (issue 20): `webapp_url` is the configured
    WEBAPP_URL (None: not configured, no button); in a group it needs the bot's username."""
    return dashboard_button(
        tr,
        union_id=union_id,
        private=private,
        webapp_url=mini_app_url(webapp_url) if webapp_url else None,
        bot_username=bot_username,
    )


def summary_messages(
    tr: Translator, parts: Sequence[str], union_id: int, dashboard: Button | None = None
) -> list[Keyboarded]:
    """The summary's text messages; the spreadsheet's button (and the dashboard's) goes under
    the last one."""
    last = len(parts) - 1
    return [
        (text, summary_keyboard(tr, union_id, dashboard) if index == last else None)
        for index, text in enumerate(parts)
    ]


# --- a decision's buttons -----------------------------------------------------------------


def decision_keyboard(tr: Translator, decision_id: int, status: DecisionStatus) -> Keyboard | None:
    """Votes and «Chiudi» while open; only «Chiudi» once postponed (it also returns to the next
    meeting's agenda, whose minutes close it); «Segna come attuata» once approved; nothing once
    done or rejected (nothing to carry out)."""
    _ = tr.gettext
    if status == DecisionStatus.OPEN:
        votes = [
            Button(
                f"{CHOICE_ICONS[c]} " + _(CHOICE_LABELS[c]),
                cb.encode(DEC_AREA, VOTE, decision_id, c),
            )
            for c in (APPROVE, REJECT, POSTPONE)
        ]
        return Keyboard.of(votes, [_close_button(tr, decision_id)])
    if status.waiting:  # postponed: back at the next meeting, or closed from here
        return Keyboard.of([_close_button(tr, decision_id)])
    if status == DecisionStatus.APPROVED:
        done = Button("✔️ " + _("Segna come attuata"), cb.encode(DEC_AREA, DONE, decision_id))
        return Keyboard.of([done])
    return None


def _close_button(tr: Translator, decision_id: int) -> Button:
    return Button(
        "🔒 " + tr.gettext("Chiudi la votazione (chi coordina)"),
        cb.encode(DEC_AREA, CLOSE, decision_id),
    )


def closing_keyboard(tr: Translator, decision_id: int) -> Keyboard:
    """The coordinator's choice of outcome, in place of the votes."""
    _ = tr.gettext
    icons = {"approved": "✅", "rejected": "❌", "postponed": "⏸"}
    outcomes = [
        Button(f"{icon} " + _(OUTCOME_LABELS[o]), cb.encode(DEC_AREA, OUTCOME, decision_id, o))
        for o, icon in icons.items()
    ]
    back = Button("↩️ " + _("Indietro"), cb.encode(DEC_AREA, BACK, decision_id))
    return Keyboard((tuple(outcomes), (back,)))


# --- the outcome, recorded and announced --------------------------------------------------


@dataclass(frozen=True)
class CountedVote:
    comune: str
    choice: str  # approve | reject | postpone


def outcome_text(tr: Translator, votes: Sequence[CountedVote]) -> str:
    """The votes behind an outcome, as recorded with the decision."""
    _ = tr.gettext
    if not votes:
        return _("Nessun Comune ha votato.")
    detail = ", ".join(f"{v.comune}: {_(CHOICE_LABELS[v.choice])}" for v in votes)
    return _("Voti: {detail}").format(detail=detail)


def outcome_announcement(
    tr: Translator,
    *,
    question: str,
    where: Sequence[str],
    outcome: DecisionStatus | None,
    outcome_text: str | None,
) -> str:
    """The decision as the technical table reads it; `outcome` only for a question the political
    table voted on (a decision recorded with /decisione says itself what was decided)."""
    _ = tr.gettext
    text = "📣 " + _("<b>Decisione del tavolo politico</b>") + "\n" + html.escape(question)
    place = ", ".join(html.escape(x) for x in where if x)
    if place:
        text += f"\n<i>{place}</i>"
    if outcome is not None:
        text += "\n\n" + _("<b>Esito: {outcome}</b>").format(
            outcome=html.escape(_(OUTCOME_LABELS[outcome.value]))
        )
        if outcome_text:
            text += "\n" + html.escape(outcome_text)
    return text


_ASKER_NOTICES = {
    DecisionStatus.APPROVED: (
        "✅",
        N_("Il tavolo politico ha <b>approvato</b> la questione che hai posto: «{question}»."),
    ),
    DecisionStatus.REJECTED: (
        "❌",
        N_("Il tavolo politico ha <b>respinto</b> la questione che hai posto: «{question}»."),
    ),
    DecisionStatus.POSTPONED: (
        "⏸",
        N_(
            "Il tavolo politico ha <b>rinviato</b> la questione che hai posto: «{question}». "
            "Torna alla prossima riunione."
        ),
    ),
}


def asker_notice(
    tr: Translator, *, question: str, outcome: DecisionStatus, outcome_text: str | None
) -> str:
    """To the technician who asked: what the political table decided on their question (a
    closed question's outcome: approved, rejected or postponed), said with its verb."""
    icon, said = _ASKER_NOTICES[outcome]
    text = icon + " " + tr.gettext(said).format(question=html.escape(question))
    if outcome_text:
        text += "\n" + html.escape(outcome_text)
    return text


# --- answers to a decision's buttons ------------------------------------------------------

_REFUSALS = {
    # reason: (text, shown as an alert)
    "not_member": (N_("Riservato ai membri del Team energia dell'Unione."), True),
    "not_its_message": (
        N_("Qui questo pulsante non funziona: usa quelli sotto il messaggio della questione."),
        True,
    ),
    "vote_closed": (N_("La votazione è chiusa."), False),
    "invalid": (STALE_BUTTON, False),
    "not_a_voter": (N_("Votano il Sindaco di ogni Comune o, al suo posto, l'Assessore."), True),
    "sindaco_voted": (N_("Il Sindaco ha già votato per il tuo Comune."), True),
    "not_coordinator": (N_("Solo chi coordina l'Unione può chiudere una questione."), True),
    "not_coordinator_done": (
        N_("Solo chi coordina l'Unione può segnare una decisione come attuata."),
        True,
    ),
    "already_closed": (N_("La questione è già chiusa."), False),
    "still_open": (N_("Prima va chiusa la votazione."), False),
    "already_done": (N_("Già segnata come attuata."), False),
    "not_approved": (
        N_(
            "Solo una decisione approvata si segna come attuata: una questione respinta non ha "
            "nulla da attuare, una rinviata torna alla prossima riunione."
        ),
        True,
    ),
}


def decision_refused(tr: Translator, reason: str) -> Answer:
    text, alert = _REFUSALS[reason]
    return Answer(toast=tr.gettext(text), alert=alert)


def vote_recorded(tr: Translator, choice: DecisionVoteChoice) -> Answer:
    return Answer(
        toast=tr.gettext("Voto registrato: {choice}.").format(
            choice=tr.gettext(CHOICE_LABELS[choice.value])
        )
    )


def choose_outcome(tr: Translator, message_tr: Translator, decision_id: int, text: str) -> Answer:
    """«Chiudi» pressed: the toast in the presser's language (`tr`); the decision's message,
    with the outcomes as its buttons, in the language of its messages (`message_tr`)."""
    return Answer(
        toast=tr.gettext("Scegli l'esito."),
        text=text,
        keyboard=closing_keyboard(message_tr, decision_id),
    )


def outcome_recorded(tr: Translator) -> Answer:
    return Answer(toast=tr.gettext("Esito registrato e inviato al tavolo tecnico."))


def marked_done(tr: Translator) -> Answer:
    return Answer(toast=tr.gettext("Segnata come attuata: non comparirà più nei riepiloghi."))


# --- /decisione ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingDecision:
    decision_id: int
    question: str
    open: bool  # not approved (being voted, or postponed): not to be marked as carried out
    postponed: bool = False


def decision_desk(
    tr: Translator, pending: Sequence[PendingDecision]
) -> tuple[list[list[str]], Keyboard | None]:
    """/decisione without text: how to write one, and the decisions not yet carried out, with
    a button for each decided one. Sections of rows (long questions are split at row
    boundaries by the caller); the buttons go under the last part."""
    _ = tr.gettext
    intro = [
        _(
            "Scrivi la decisione dopo il comando, ad esempio:\n<code>/decisione Si parte con il bando per le scuole</code>"
        )
    ]
    rows: list[str] = []
    buttons: list[Button] = []
    if pending:
        intro.append(_("<b>Decisioni non ancora attuate</b> (premi per segnarle come attuate):"))
        for d in pending[:PENDING_LISTED]:
            state = ""
            if d.open:  # said, so the list's head («non ancora attuate») does not mislead
                state = " " + (
                    _("<i>(rinviata)</i>") if d.postponed else _("<i>(in votazione)</i>")
                )
            rows.append(f"• {html.escape(clip(d.question, QUESTION_MAX))}{state}")
            if not d.open:
                short = d.question if len(d.question) <= 40 else d.question[:39] + "…"
                buttons.append(
                    Button("✔️ " + short, cb.encode(DEC_AREA, DONE_LISTED, d.decision_id))
                )
        if len(pending) > PENDING_LISTED:
            rows.append(_("…e altre {n}.").format(n=len(pending) - PENDING_LISTED))
    return [intro, rows], Keyboard.column(buttons)


_DESK_REFUSALS = {
    "not_coordinator": N_("Solo chi coordina l'Unione registra le decisioni del tavolo politico."),
    "technical_group": N_(
        "Le decisioni si registrano nel gruppo del tavolo politico o in privato: per scriverla "
        "in privato, apri la chat con me con il pulsante qui sotto."
    ),
    "too_long": N_("Il testo è troppo lungo: al massimo 2000 caratteri."),
}


def decision_not_recorded(tr: Translator, reason: str) -> str:
    return tr.gettext(_DESK_REFUSALS[reason])


def decision_repeated(tr: Translator, created_at: datetime, timezone: str) -> str:
    """A retry: the same decision, moments ago (bot.services.repeats)."""
    return tr.gettext(
        "Questa decisione è già registrata ({date}): non la registro una seconda volta."
    ).format(date=format_datetime(created_at, ZoneInfo(timezone), tr.language))


def decision_recorded(tr: Translator, *, technical_group: bool) -> str:
    _ = tr.gettext
    if technical_group:
        return _("Decisione registrata e inviata al gruppo del tavolo tecnico.")
    return _(
        "Decisione registrata. Il gruppo del tavolo tecnico non è collegato: l'ho mandata ai coordinatori."
    )


# --- /esporta -----------------------------------------------------------------------------


def export_question(tr: Translator, union_name: str, union_id: int) -> Keyboarded:
    text = tr.gettext(
        "Esporto i dati dell'Unione (<b>{union}</b>). In che formato?\n"
        "📤 Excel: azioni, storico degli aggiornamenti, note dal gruppo tecnico e riunioni.\n"
        "📤 CSV: le azioni, e in un secondo file le note dal gruppo tecnico (se ce ne sono)."
    ).format(union=html.escape(union_name))
    buttons = [
        Button("📤 Excel", cb.encode(EXP_AREA, SHEET, union_id)),
        Button("📤 CSV", cb.encode(EXP_AREA, CSV, union_id)),
    ]
    return text, Keyboard((tuple(buttons),))


def open_chat(tr: Translator, bot_username: str | None, payload: str) -> Keyboard | None:
    """«💬 Apri la chat con me»: t.me/<bot>?start=<payload> (bot.services.summaries.links);
    None without the bot's username (then the text alone says where to go)."""
    return open_chat_button(bot_username, tr, payload) if bot_username else None


def export_in_private(tr: Translator) -> str:
    return tr.gettext(
        "L'esportazione si chiede in privato: apri la chat con me con il pulsante qui sotto."
    )


def export_refused(tr: Translator, reason: str) -> str:
    """`not_member` (of the Union the button names) or `not_allowed` (neither the coordinator
    nor a Sindaco)."""
    if reason == "not_member":
        return tr.gettext("Riservato ai membri del Team energia dell'Unione.")
    return tr.gettext("L'esportazione è riservata a chi coordina l'Unione e ai Sindaci.")


def export_preparing(tr: Translator) -> str:
    return tr.gettext("Preparo il file…")


def export_cannot_reach(tr: Translator) -> str:
    return tr.gettext(
        "Non riesco a scriverti in privato: apri la chat con me con il pulsante qui sotto e "
        "premi Avvia, ti mando subito il file."
    )


NOTES_FILE_PART = "note-gruppo-tecnico"


def export_captions(tr: Translator) -> dict[str, str]:
    """The caption of each file of an export, by what it holds."""
    _ = tr.gettext
    return {
        "xlsx": _(
            "Azioni (colonne del monitoraggio del Patto dei Sindaci), storico aggiornamenti, note dal gruppo tecnico e riunioni."
        ),
        "csv": _("Azioni (colonne del monitoraggio del Patto dei Sindaci)."),
        "notes": _(
            "Note dal gruppo tecnico con il testo completo, una per riga (data, Comune, aggiornamento mensile, autore, origine)."
        ),
    }
