"""Meetings as the people read them: the poll in the group, its reminder, «Chi manca?», the
announcement, the meeting reminders, the /riunione wizard, /riunioni — texts and keyboards.

Plain functions of plain data (no Telegram, no session). The use cases in
bot.services.meetings call them for what they queue in the outbox; the handlers in
bot.handlers.meetings call them for what they answer at once.

Buttons (callback data `area:verb:id[:arg]`, ids only; the handlers re-check everything):

    vote:y|m|n:<slot>            an answer (Sì, Se necessario, No) for one date
    mtg:answers:<slot>           the date's label: who answered what
    mtg:missing:<poll>           «Chi manca?»
    mtg:add_date:<poll>          «Aggiungi data» (the date is then written in private)
    mtg:extend:<poll>            «Proroga»: the choices, in private
    mtg:extend_by:<poll>:<days>  one of those choices
    mtg:close:<poll>             «Chiudi ora»: the question, in private
    mtg:confirm_close:<poll>     «Sì, chiudi»
    mtg:cancel:<poll>            «Annulla sondaggio»: the question, in private
    mtg:confirm_cancel:<poll>    «Sì, annulla il sondaggio»
    mtg:invite:<meeting>         the .ics invitation, in private
    wiz:<verb>[:<arg>]           the /riunione wizard: table, skip, toggle, next, deadline,
                                 publish, stop
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot import callback_data as cb
from bot.i18n import N_, Translator, format_datetime, format_month
from bot.views.keyboard import Button, Keyboard
from storage.models import Answer, Meeting, MeetingPoll, PollStatus, PollTable, Slot, Union
from storage.repositories.meetings import TableMember

VOTE_AREA = "vote"
MTG_AREA = "mtg"
WIZ_AREA = "wiz"

# The answer's code in a vote button's data (`vote:y:<slot>`): short, the hot path's data.
ANSWER_CODES = {"y": Answer.YES, "m": Answer.MAYBE, "n": Answer.NO}
_CODE_OF = {answer: code for code, answer in ANSWER_CODES.items()}
ANSWER_ICONS = {Answer.YES: "✅", Answer.MAYBE: "❔", Answer.NO: "❌"}
ANSWER_NAMES = {Answer.YES: N_("Sì"), Answer.MAYBE: N_("Se necessario"), Answer.NO: N_("No")}
TABLE_NAMES = {
    PollTable.POLITICAL: N_("tavolo politico"),
    PollTable.TECHNICAL: N_("tavolo tecnico"),
    PollTable.BOTH: N_("tavolo politico e tecnico insieme"),
}
TABLE_CODES = {"p": PollTable.POLITICAL, "t": PollTable.TECHNICAL, "b": PollTable.BOTH}
Keyboarded = tuple[str, Keyboard | None]  # a text and its buttons
# Days a deadline can be extended by (the buttons offered); anything else is forged.
EXTEND_DAYS = (1, 2, 3, 7)


def when(dt: datetime, tz: ZoneInfo, tr: Translator, *, year: bool = False) -> str:
    return format_datetime(dt, tz, tr.language, year=year)


# --- the poll as plain data -----------------------------------------------------------------


class Tally(Protocol):
    """What a poll message shows of a date's count (bot.services.meetings.rules.SlotTally)."""

    @property
    def yes(self) -> int: ...
    @property
    def maybe(self) -> int: ...
    @property
    def no(self) -> int: ...
    @property
    def covered(self) -> frozenset[int]: ...


@dataclass(frozen=True)
class SlotView:
    slot: Slot
    tally: Tally
    names: dict[Answer, list[str]]


@dataclass(frozen=True)
class PollView:
    """A poll as its messages show it, read by bot.services.meetings.load_poll_view."""

    poll: MeetingPoll
    union: Union
    tz: ZoneInfo
    slots: list[SlotView]
    voters: dict[int, TableMember]  # member id → who sits at this poll's table
    answered: set[int]  # members with at least one answer
    answers: dict[tuple[int, int], Answer]  # (slot id, member id) → answer
    comuni: dict[int, str]
    chosen: SlotView | None = None
    missing_by_comune: list[tuple[str, bool, list[str]]] = field(default_factory=list)
    missing_without_comune: list[str] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.poll.status == PollStatus.OPEN

    def missing_members(self) -> list[TableMember]:
        return [m for mid, m in self.voters.items() if mid not in self.answered]


# --- the poll in the group ------------------------------------------------------------------


def _slot_rows(view: PollView, tr: Translator) -> list[list[Button]]:
    rows = []
    for sv in view.slots:
        sid = sv.slot.id
        label = when(sv.slot.starts_at, view.tz, tr)
        rows.append(
            [Button(label, cb.encode(MTG_AREA, "answers", sid))]
            + [
                Button(ANSWER_ICONS[answer], cb.encode(VOTE_AREA, _CODE_OF[answer], sid))
                for answer in (Answer.YES, Answer.MAYBE, Answer.NO)
            ]
        )
    return rows


def _poll_status_line(view: PollView, tr: Translator) -> str | None:
    _ = tr.gettext
    status = view.poll.status
    if status == PollStatus.OPEN:
        return _("Rispondi entro <b>{deadline}</b>: ✅ Sì · ❔ Se necessario · ❌ No").format(
            deadline=when(view.poll.deadline_at, view.tz, tr)
        )
    if status == PollStatus.CLOSED and view.chosen is not None:
        return _("✅ Sondaggio chiuso. Data scelta: <b>{date}</b>").format(
            date=when(view.chosen.slot.starts_at, view.tz, tr)
        )
    if status == PollStatus.NO_DATE:
        return _(
            "Sondaggio chiuso: nessuna data va bene a nessun Comune. Il coordinatore proporrà nuove date."
        )
    if status == PollStatus.CANCELLED:
        return _("❌ Sondaggio annullato.")
    return None


def render_poll(view: PollView, tr: Translator) -> tuple[str, Keyboard | None]:
    """The poll message in the group: dates with tallies and Comuni covered, and its buttons."""
    _ = tr.gettext
    poll = view.poll
    lines = [f"🗓 <b>{html.escape(poll.title)}</b>"]
    lines.append(_("Per il {table}.").format(table=_(TABLE_NAMES[poll.table])))
    if poll.place:
        lines.append(_("📍 {place}").format(place=html.escape(poll.place)))
    if poll.agenda:
        agenda = poll.agenda if len(poll.agenda) <= 600 else poll.agenda[:600] + "…"
        lines.append(_("Ordine del giorno: {agenda}").format(agenda=html.escape(agenda)))
    if (status_line := _poll_status_line(view, tr)) is not None:
        lines.append(status_line)
    lines.append("")
    for sv in view.slots:
        t = sv.tally
        mark = "👉 " if view.chosen is not None and view.chosen.slot.id == sv.slot.id else ""
        lines.append(f"{mark}<b>{when(sv.slot.starts_at, view.tz, tr)}</b>")
        lines.append(
            _("✅ {yes} · ❔ {maybe} · ❌ {no} — Comuni: {covered}/{total}").format(
                yes=t.yes, maybe=t.maybe, no=t.no, covered=len(t.covered), total=len(view.comuni)
            )
        )
    lines.append("")
    lines.append(
        tr.ngettext(
            "Ha risposto {n} persona su {total}.",
            "Hanno risposto {n} persone su {total}.",
            len(view.answered),
        ).format(n=len(view.answered), total=len(view.voters))
    )
    text = "\n".join(lines)
    if poll.status != PollStatus.OPEN:
        return text, None
    pid = poll.id
    # Two short rows that fit a phone; "Annulla sondaggio" so that nobody takes it for
    # "cancel my answer".
    manage = [
        [
            Button(_("Chi manca?"), cb.encode(MTG_AREA, "missing", pid)),
            Button(_("Aggiungi data"), cb.encode(MTG_AREA, "add_date", pid)),
            Button(_("Proroga"), cb.encode(MTG_AREA, "extend", pid)),
        ],
        [
            Button(_("Chiudi ora"), cb.encode(MTG_AREA, "close", pid)),
            Button(_("Annulla sondaggio"), cb.encode(MTG_AREA, "cancel", pid)),
        ],
    ]
    return text, Keyboard.of(*_slot_rows(view, tr), *manage)


def render_reminder(view: PollView, tr: Translator) -> tuple[str, Keyboard | None]:
    """The private reminder to someone who has not answered: the same vote buttons."""
    _ = tr.gettext
    text = _(
        "⏰ Non hai ancora risposto al sondaggio «{title}» ({table}).\n"
        "Si chiude <b>{deadline}</b>. Tocca ✅ Sì, ❔ Se necessario o ❌ No per ogni data: "
        "vale come nel gruppo."
    ).format(
        title=html.escape(view.poll.title),
        table=_(TABLE_NAMES[view.poll.table]),
        deadline=when(view.poll.deadline_at, view.tz, tr),
    )
    return text, Keyboard.of(*_slot_rows(view, tr))


def render_missing(view: PollView, tr: Translator) -> str:
    _ = tr.gettext
    if not view.missing_by_comune and not view.missing_without_comune:
        return _("Hanno risposto tutti. 🎉")
    lines = [_("Non hanno ancora risposto:")]
    for comune, represented, names in view.missing_by_comune:
        note = _(" (Comune già rappresentato)") if represented else ""
        lines.append(f"• {html.escape(comune)}{note}: {html.escape(', '.join(names))}")
    if view.missing_without_comune:
        lines.append(
            _("• Unione: {names}").format(names=html.escape(", ".join(view.missing_without_comune)))
        )
    return "\n".join(lines)


def render_slot_details(view: PollView, slot_id: int, member_id: int, tr: Translator) -> str | None:
    """A date's label pressed: who answered what (an alert, at most 200 characters)."""
    _ = tr.gettext
    sv = next((s for s in view.slots if s.slot.id == slot_id), None)
    if sv is None:
        return None
    parts = [when(sv.slot.starts_at, view.tz, tr)]
    mine = view.answers.get((slot_id, member_id))
    if mine is not None:
        parts.append(_("La tua risposta: {answer}").format(answer=_(ANSWER_NAMES[mine])))
    for answer in Answer:
        if sv.names[answer]:
            parts.append(f"{ANSWER_ICONS[answer]} {', '.join(sv.names[answer])}")
    text = "\n".join(parts)
    return text[:197] + "…" if len(text) > 200 else text


# --- votes ----------------------------------------------------------------------------------


def render_vote_recorded(answer: Answer, starts_at: datetime, tz: ZoneInfo, tr: Translator) -> str:
    _ = tr.gettext
    return _("Registrato: {answer} per {date}").format(
        answer=_(ANSWER_NAMES[answer]), date=when(starts_at, tz, tr)
    )


def render_vote_refused(reason: str, table: PollTable | None, tr: Translator) -> str:
    """The toast of a vote not recorded (bot.services.meetings.VoteRefused's reasons)."""
    _ = tr.gettext
    if reason == "closed":
        return _("Il sondaggio è chiuso: la risposta non è stata registrata.")
    if reason == "deadline_passed":
        return _("Il tempo per rispondere è scaduto: la risposta non è stata registrata.")
    if reason == "not_a_member":
        return _(
            "Questo sondaggio è per i membri del Team energia di questa Unione: la tua risposta non è stata registrata."
        )
    if reason == "not_at_table" and table is not None:
        return _(
            "Questo sondaggio è per il {table}: la tua risposta non è stata registrata."
        ).format(table=_(TABLE_NAMES[table]))
    return _("Questo sondaggio non esiste più.")


# --- closing --------------------------------------------------------------------------------


def render_announcement(view: PollView, meeting: Meeting, tr: Translator) -> str:
    _ = tr.gettext
    t = view.chosen.tally if view.chosen else None
    lines = [
        _("📣 <b>{title}</b>: si terrà <b>{date}</b>.").format(
            title=html.escape(meeting.title), date=when(meeting.starts_at, view.tz, tr, year=True)
        )
    ]
    if t is not None:
        lines.append(
            tr.ngettext(
                "Ci sarà {covered} Comune su {total} (✅ {yes} · ❔ {maybe}).",
                "Ci saranno {covered} Comuni su {total} (✅ {yes} · ❔ {maybe}).",
                len(t.covered),
            ).format(covered=len(t.covered), total=len(view.comuni), yes=t.yes, maybe=t.maybe)
        )
    if meeting.place:
        lines.append(_("📍 {place}").format(place=html.escape(meeting.place)))
    if meeting.agenda:
        lines.append(
            _("Ordine del giorno: {agenda}").format(agenda=html.escape(meeting.agenda[:1500]))
        )
    lines.append(_("Qui sotto l'invito da aggiungere al calendario."))
    return "\n".join(lines)


def render_ics_caption(tr: Translator) -> str:
    return tr.gettext("Invito per il calendario (.ics)")


def render_invite_caption(meeting: Meeting, tz: ZoneInfo, tr: Translator) -> str:
    return tr.gettext("Invito per il calendario: {title}, {date}").format(
        title=html.escape(meeting.title), date=when(meeting.starts_at, tz, tr, year=True)
    )


def ics_name(meeting: Meeting, tz: ZoneInfo) -> str:
    return f"riunione-{meeting.starts_at.astimezone(tz):%Y-%m-%d}.ics"


def ics_description(union_name: str, agenda: str | None, tr: Translator) -> str:
    text = tr.gettext("Team energia di {union}").format(union=union_name)
    return (text + "\n" + (agenda or "")).strip()


def render_no_date(title: str, tr: Translator) -> str:
    """To a coordinator: the poll closed and no date covers any Comune."""
    return tr.gettext(
        "Il sondaggio «{title}» si è chiuso ma nessuna data va bene a nessun Comune. "
        "Proponi nuove date con /riunione."
    ).format(title=html.escape(title))


def render_unreachable(title: str, names: Sequence[str], tr: Translator) -> str:
    """To a coordinator: who the poll's reminder could not reach."""
    return tr.ngettext(
        "Non sono riuscito a mandare il promemoria del sondaggio «{title}» a: {names}.\n"
        "Forse non ha mai avviato la chat con me o mi ha bloccato: avvisalo tu.",
        "Non sono riuscito a mandare il promemoria del sondaggio «{title}» a: {names}.\n"
        "Forse non hanno mai avviato la chat con me o mi hanno bloccato: avvisali tu.",
        len(names),
    ).format(title=html.escape(title), names=html.escape(", ".join(sorted(names))))


def render_meeting_reminder(
    kind: str, meeting: Meeting, tz: ZoneInfo, now: datetime, tr: Translator
) -> str:
    """`day` (the day before; «Oggi» when caught up on the day itself) or `hour`."""
    _ = tr.gettext
    at = f"{meeting.starts_at.astimezone(tz):%H:%M}"
    title = html.escape(meeting.title)
    if kind == "day" and meeting.starts_at.astimezone(tz).date() == now.astimezone(tz).date():
        text = _("⏰ Oggi alle {time}: {title}.").format(time=at, title=title)
    elif kind == "day":
        text = _("⏰ Domani, {date}: {title}.").format(
            date=when(meeting.starts_at, tz, tr), title=title
        )
    else:
        text = _("⏰ Tra un'ora, alle {time}: {title}.").format(time=at, title=title)
    if meeting.place:
        text += "\n" + _("📍 {place}").format(place=html.escape(meeting.place))
    return text


# --- the monthly poll -----------------------------------------------------------------------


def monthly_title(tr: Translator, year: int, month: int) -> str:
    return tr.gettext("Riunione del Team energia — {month}").format(
        month=format_month(year, month, tr.language)
    )


def default_title(tr: Translator) -> str:
    return tr.gettext("Riunione del Team energia")


def render_monthly_skipped(reason: str, month_name: str, tr: Translator) -> str | None:
    """To the coordinators: why this month's automatic poll did not open (None: no word)."""
    _ = tr.gettext
    if reason == "no linked group":
        return _(
            "Non ho potuto aprire il sondaggio della riunione di {month}: nessun gruppo "
            "del tavolo è collegato. Collega il gruppo con /collega, poi usa /riunione."
        ).format(month=month_name)
    if reason == "month almost over":
        return _(
            "Il sondaggio automatico della riunione di {month} non è partito: "
            "restano troppo pochi giorni utili. Se serve, proponi tu le date con /riunione."
        ).format(month=month_name)
    return None


# --- the poll's management row --------------------------------------------------------------


def render_manage_refusal(reason: str, tr: Translator) -> str:
    """bot.services.meetings.NotAllowed's reasons for the management row."""
    _ = tr.gettext
    if reason == "not_on_the_poll":
        return _("Qui questo pulsante non funziona: usa quelli sotto il sondaggio.")
    if reason == "not_a_manager":
        return _("Solo il coordinatore (o chi ha proposto il sondaggio) può farlo.")
    if reason == "closed":
        return _("Il sondaggio è già chiuso.")
    if reason == "too_many_dates":
        return _("Il sondaggio ha già 8 date: è il massimo.")
    if reason == "deadline_too_late":
        return _("Non si può: la scadenza deve restare almeno 24 ore prima della prima data.")
    if reason == "cannot_extend":
        return _(
            "Non si può prorogare: la scadenza deve restare almeno 24 ore prima della prima data."
        )
    if reason == "stale_button":
        return _("Questo pulsante non è più valido.")
    return _("Questo sondaggio non esiste più.")


def confirmations_in_private_only(tr: Translator) -> str:
    return tr.gettext("Questo pulsante funziona solo in chat privata con me.")


def render_close_question(view: PollView, best: SlotView | None, tr: Translator) -> Keyboarded:
    _ = tr.gettext
    text = _("Chiudere ora il sondaggio «{title}»?").format(title=html.escape(view.poll.title))
    text += "\n" + (
        _("Verrebbe scelta: <b>{date}</b>.").format(date=when(best.slot.starts_at, view.tz, tr))
        if best
        else _("Per ora nessuna data va bene a nessun Comune.")
    )
    button = Button(_("Sì, chiudi"), cb.encode(MTG_AREA, "confirm_close", view.poll.id))
    return text, Keyboard.of([button])


def render_cancel_question(view: PollView, tr: Translator) -> Keyboarded:
    _ = tr.gettext
    text = _("Annullare il sondaggio «{title}»? Le risposte non conteranno più.").format(
        title=html.escape(view.poll.title)
    )
    button = Button(
        _("Sì, annulla il sondaggio"), cb.encode(MTG_AREA, "confirm_cancel", view.poll.id)
    )
    return text, Keyboard.of([button])


def render_extend_choices(
    view: PollView, choices: Sequence[tuple[int, datetime]], tr: Translator
) -> Keyboarded:
    """«Proroga»: one button per (days, new deadline) still allowed."""
    _ = tr.gettext
    text = _("Di quanto prorogare la scadenza del sondaggio «{title}» (ora {deadline})?").format(
        title=html.escape(view.poll.title), deadline=when(view.poll.deadline_at, view.tz, tr)
    )
    buttons = [
        Button(
            _("+{days} g ({date})").format(days=days, date=when(deadline, view.tz, tr)),
            cb.encode(MTG_AREA, "extend_by", view.poll.id, days),
        )
        for days, deadline in choices
    ]
    return text, Keyboard.column(buttons)


def render_add_date_prompt(view: PollView, tr: Translator) -> str:
    return tr.gettext(
        "Scrivimi la nuova data per «{title}», per esempio «giovedì 17 dicembre ore 17». "
        "Deve essere almeno 24 ore dopo la scadenza ({deadline})."
    ).format(title=html.escape(view.poll.title), deadline=when(view.poll.deadline_at, view.tz, tr))


def render_cancelled(tr: Translator) -> str:
    return tr.gettext("Sondaggio annullato.")


def render_closed(starts_at: datetime | None, tz: ZoneInfo, tr: Translator) -> str:
    _ = tr.gettext
    if starts_at is None:
        return _("Sondaggio chiuso senza data. Proponi nuove date con /riunione.")
    return _("Sondaggio chiuso: data scelta {date}.").format(date=when(starts_at, tz, tr))


def render_extended(deadline: datetime, tz: ZoneInfo, tr: Translator) -> str:
    return tr.gettext("Nuova scadenza: {date}.").format(date=when(deadline, tz, tr))


def render_date_added(
    outcome: str, starts_at: datetime | None, tz: ZoneInfo, holiday: bool, tr: Translator
) -> str:
    """The answer to a date written for «Aggiungi data» (bot.services.meetings.add_date)."""
    _ = tr.gettext
    if outcome == "added" and starts_at is not None:
        text = _("Aggiunta al sondaggio: {date}.").format(date=when(starts_at, tz, tr, year=True))
        return text + (" " + _("Attenzione: è un giorno festivo.") if holiday else "")
    if outcome == "already_there" and starts_at is not None:
        return _("{date} è già tra le date del sondaggio.").format(
            date=when(starts_at, tz, tr, year=True)
        )
    if outcome == "too_early" and starts_at is not None:
        return _("La nuova data deve essere almeno 24 ore dopo la scadenza ({date}).").format(
            date=when(starts_at, tz, tr)
        )
    return render_manage_refusal(outcome, tr)


# --- answers in private ---------------------------------------------------------------------


def told_in_private(tr: Translator) -> str:
    return tr.gettext("Ti ho scritto in privato.")


def missing_sent_in_private(tr: Translator) -> str:
    return tr.gettext("Ti ho mandato in privato chi non ha ancora risposto.")


def cannot_write_privately(tr: Translator) -> str:
    return tr.gettext(
        "Non riesco a scriverti in privato: apri la chat con me e premi Avvia, poi riprova."
    )


def only_members_see_answers(tr: Translator) -> str:
    return tr.gettext("Solo i membri del Team energia vedono le risposte.")


def only_members_get_invites(tr: Translator) -> str:
    return tr.gettext("Solo i membri del Team energia possono scaricare l'invito.")


def invite_sent(in_private: bool, tr: Translator) -> str:
    _ = tr.gettext
    return _("Ecco l'invito.") if in_private else _("Ti ho mandato l'invito in privato.")


# --- /riunioni ------------------------------------------------------------------------------


def render_meetings(
    meetings: Sequence[Meeting], polls: Sequence[MeetingPoll], tz: ZoneInfo, tr: Translator
) -> tuple[str, Keyboard | None]:
    """/riunioni: the meetings ahead (each with its invitation) and the open polls."""
    _ = tr.gettext
    lines = [_("<b>Prossime riunioni</b>")]
    buttons = []
    if not meetings:
        lines.append(_("Nessuna riunione fissata."))
    for meeting in meetings:
        line = (
            f"• <b>{when(meeting.starts_at, tz, tr, year=True)}</b> — {html.escape(meeting.title)}"
        )
        line += f" ({_(TABLE_NAMES[meeting.table])})"
        if meeting.place:
            line += "\n  📍 " + html.escape(meeting.place)
        lines.append(line)
        buttons.append(
            Button(
                _("📅 Invito .ics — {date}").format(date=when(meeting.starts_at, tz, tr)),
                cb.encode(MTG_AREA, "invite", meeting.id),
            )
        )
    if polls:
        lines.append("")
        lines.append(
            tr.ngettext("{n} sondaggio aperto:", "{n} sondaggi aperti:", len(polls)).format(
                n=len(polls)
            )
        )
        for poll in polls:
            lines.append(
                _("• {title}: rispondi entro {deadline}").format(
                    title=html.escape(poll.title), deadline=when(poll.deadline_at, tz, tr)
                )
            )
    return "\n".join(lines), Keyboard.column(buttons)


# --- /riunione: the wizard ------------------------------------------------------------------

STEP_TABLE, STEP_TITLE, STEP_PLACE, STEP_AGENDA, STEP_DATES, STEP_DEADLINE, STEP_CONFIRM = (
    "table",
    "title",
    "place",
    "agenda",
    "dates",
    "deadline",
    "confirm",
)


def _wiz(label: str, action: str, *args: object) -> Button:
    return Button(label, cb.encode(WIZ_AREA, action, *args))


def render_wizard(step: str, state: Mapping[str, Any], tr: Translator) -> Keyboarded:
    """The wizard's message at `step`, from its stored state (bot.services.meetings.wizard)."""
    _ = tr.gettext
    tz = ZoneInfo(state["tz"])
    stop = [_wiz(_("Annulla"), "stop")]
    if step == STEP_TABLE:
        rows = [
            [_wiz(_(TABLE_NAMES[PollTable(t)]).capitalize(), "table", code)]
            for code, t in (("p", "political"), ("t", "technical"), ("b", "both"))
            if t in state["tables"]
        ]
        return _("Nuova riunione. Per quale tavolo?"), Keyboard.of(*rows, stop)
    if step == STEP_TITLE:
        text = _("Scrivi il titolo della riunione, oppure usa «{title}».").format(
            title=html.escape(default_title(tr))
        )
        return text, Keyboard.of([_wiz(_("Usa questo titolo"), "skip")], stop)
    if step == STEP_PLACE:
        text = _("Dove? Scrivi il luogo o il link della videochiamata.")
        return text, Keyboard.of([_wiz(_("Lo dirò dopo"), "skip")], stop)
    if step == STEP_AGENDA:
        text = _("Ordine del giorno? Scrivilo in un messaggio.")
        return text, Keyboard.of([_wiz(_("Nessun ordine del giorno"), "skip")], stop)
    if step == STEP_DATES:
        return _render_dates(state, tz, tr, stop)
    if step == STEP_DEADLINE:
        options = [datetime.fromisoformat(raw) for raw in state["deadline_options"]]
        rows = [[_wiz(when(d, tz, tr), "deadline", i)] for i, d in enumerate(options)]
        text = _(
            "Entro quando rispondere? La scadenza deve essere almeno 24 ore prima della prima data. "
            "Puoi anche scrivermela."
        )
        return text, Keyboard.of(*rows, stop)
    return _render_summary(state, tz, tr), Keyboard.of(
        [_wiz(_("Pubblica nel gruppo"), "publish")], stop
    )


def _render_dates(
    state: Mapping[str, Any], tz: ZoneInfo, tr: Translator, stop: list[Button]
) -> Keyboarded:
    _ = tr.gettext
    chosen = set(state["chosen"])
    buttons = [
        _wiz(
            ("✔️ " if raw in chosen else "") + when(datetime.fromisoformat(raw), tz, tr),
            "toggle",
            i,
        )
        for i, raw in enumerate(state["options"])
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    count = len(chosen)
    label = tr.ngettext("Avanti ({n} data scelta)", "Avanti ({n} date scelte)", count)
    rows.append([_wiz(label.format(n=count), "next")])
    text = _(
        "Scegli da 2 a 8 date toccandole. Puoi anche scrivermi una data, per esempio "
        "«giovedì 10 dicembre ore 17» o «9/12 17:30»."
    )
    return text, Keyboard.of(*rows, stop)


def _render_summary(state: Mapping[str, Any], tz: ZoneInfo, tr: Translator) -> str:
    _ = tr.gettext
    lines = [
        _("<b>Riepilogo</b>"),
        _("Titolo: {title}").format(title=html.escape(state["title"] or default_title(tr))),
        _("Tavolo: {table}").format(table=_(TABLE_NAMES[PollTable(state["table"])])),
    ]
    if state["place"]:
        lines.append(_("Luogo: {place}").format(place=html.escape(state["place"])))
    if state["agenda"]:
        lines.append(_("Ordine del giorno: {agenda}").format(agenda=html.escape(state["agenda"])))
    lines.append(_("Date:"))
    lines += [
        f"• {when(datetime.fromisoformat(raw), tz, tr, year=True)}"
        for raw in sorted(state["chosen"])
    ]
    deadline = datetime.fromisoformat(state["deadline"])
    lines.append(_("Scadenza per rispondere: {date}").format(date=when(deadline, tz, tr)))
    return "\n".join(lines)


@dataclass(frozen=True)
class Note:
    """What the wizard says about the last press or text, before showing its step again.

    `code` picks the words; `at` is the date it names (in the wizard's zone); `problem` the
    reason a written date was not understood (bot.services.italian_dates.ParseProblem's kind,
    day, weekday and words).
    """

    code: str
    at: datetime | None = None
    problem: tuple[str, date | None, int | None, tuple[str, ...]] | None = None
    default_time: bool = False
    holiday: bool = False
    groups: tuple[str, ...] = ()


def render_note(note: Note, tz: ZoneInfo, tr: Translator) -> str:
    """A wizard note as text (also the toasts of its buttons)."""
    _ = tr.gettext
    at = note.at
    if note.problem is not None:
        kind, day, weekday, words = note.problem
        return problem_text(kind, tr, day=day, weekday=weekday, words=words)
    if note.code == "added" and at is not None:
        text = _("Aggiunta: {date}.").format(date=when(at, tz, tr, year=True))
        if note.default_time:
            text += " " + _("(Ora non indicata: ho messo quella solita.)")
        if note.holiday:
            text += " " + _("Attenzione: è un giorno festivo.")
        return text
    if note.code == "too_close" and at is not None:
        return _("{date} è troppo vicina: servono almeno 24 ore per rispondere.").format(
            date=when(at, tz, tr, year=True)
        )
    if note.code == "already_chosen" and at is not None:
        return _("{date} è già tra le date scelte.").format(date=when(at, tz, tr, year=True))
    if note.code == "deadline_too_late" and at is not None:
        return _("La scadenza deve essere almeno 24 ore prima della prima data ({date}).").format(
            date=when(at, tz, tr)
        )
    if note.code == "deadline_set" and at is not None:
        return _("Scadenza: {date}.").format(date=when(at, tz, tr, year=True))
    if note.code == "published":
        return _("Sondaggio pubblicato in: {groups}.").format(
            groups=html.escape(", ".join(note.groups))
        )
    return _wizard_words(note.code, tr)


def _wizard_words(code: str, tr: Translator) -> str:
    _ = tr.gettext
    words = {
        "expired": _("Questa preparazione è scaduta: ricomincia con /riunione."),
        "stopped": _("Va bene, nessun sondaggio creato."),
        "stopped_toast": _("Annullato."),
        "published_toast": _("Pubblicato."),
        "empty": _("Scrivimi un testo oppure usa i pulsanti."),
        "title_lines": _("Il titolo va scritto su una riga sola: riscrivilo senza andare a capo."),
        "place_lines": _(
            "Il luogo va scritto su una riga sola (un indirizzo o un link): "
            "riscrivilo senza andare a capo. L'ordine del giorno lo chiedo subito dopo."
        ),
        "use_buttons": _("Usa i pulsanti qui sopra."),
        "max_dates": _("Al massimo 8 date."),
        "full": _("Hai già 8 date: togline una prima di aggiungerne altre."),
        "min_dates": _("Scegli almeno 2 date."),
        "first_too_close": _(
            "La prima data è troppo vicina: servono almeno 24 ore per rispondere."
        ),
        "stale_button": _("Questo pulsante non è più valido."),
        "may_not_propose": _("Non puoi più proporre riunioni per questo tavolo."),
        "dates_count": _("Scegli da 2 a 8 date."),
        "deadline_invalid": _(
            "La scadenza non va più bene: deve essere nel futuro e almeno 24 ore prima della prima data."
        ),
        "no_group": _(
            "Prima va collegato il gruppo del tavolo: il coordinatore lo fa con /collega nel gruppo."
        ),
        "proposers_only": _(
            "Le date delle riunioni le propone il coordinatore (o un Sindaco per il tavolo politico)."
        ),
    }
    return words.get(code, words["stale_button"])


def render_wizard_started_in_group(sent: bool, tr: Translator) -> str:
    _ = tr.gettext
    if sent:
        return _("Ti ho scritto in privato per preparare il sondaggio.")
    return _(
        "Per preparare il sondaggio scrivimi in privato: apri la chat con me, premi Avvia e poi /riunione."
    )


_WEEKDAYS = (
    N_("lunedì"),
    N_("martedì"),
    N_("mercoledì"),
    N_("giovedì"),
    N_("venerdì"),
    N_("sabato"),
    N_("domenica"),
)


def problem_text(
    kind: str,
    tr: Translator,
    *,
    day: date | None = None,
    weekday: int | None = None,
    words: Sequence[str] = (),
) -> str:
    """Why a written date was not understood (bot.services.italian_dates.ParseProblem)."""
    _ = tr.gettext
    day_text = ""
    if day is not None:
        day_text = format_datetime(
            datetime.combine(day, time(12)).replace(tzinfo=ZoneInfo("UTC")),
            ZoneInfo("UTC"),
            tr.language,
            year=True,
        ).split(",")[0]
    if kind == "weekday_mismatch" and day is not None and weekday is not None:
        return _("Il {date} è {actual}, non {written}: quale intendi?").format(
            date=day_text.split(" ", 1)[-1],
            actual=_(_WEEKDAYS[day.weekday()]),
            written=_(_WEEKDAYS[weekday]),
        )
    if kind == "unknown_words":
        written = " ".join(words)
        if len(written) > 80:  # echo a short piece: the whole text may exceed a message
            written = written[:80] + "…"
        return _(
            "Non ho capito «{words}». Scrivi la data così: «giovedì 10 dicembre ore 17» o «9/12 17:30»."
        ).format(words=html.escape(written))
    messages = {
        "empty": _("Scrivimi una data, per esempio «giovedì 10 dicembre ore 17»."),
        "no_date": _("Non trovo il giorno: scrivi per esempio «9/12 17:00» o «martedì alle 17»."),
        "no_time": _("Manca l'ora: scrivi per esempio «9/12 17:00»."),
        "bad_time": _("L'ora non è valida: usa per esempio 17:30."),
        "bad_date": _("Questa data non esiste: controlla giorno e mese."),
        "past": _("{day} è già passato: scegli una data futura.").format(day=day_text.capitalize()),
        "dst_gap": _(
            "Quell'ora non esiste quel giorno (cambio dell'ora legale): scegline un'altra."
        ),
        "too_far": _("È troppo lontano: scegli una data entro un anno."),
    }
    return messages.get(kind, messages["no_date"])
