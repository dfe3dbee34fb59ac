"""Meetings as the people read them: the poll in the group (a grid of Comuni by date), each
member's private copy of it, the coordinator's panel (⚙️ Gestisci), the reminder, «Chi
manca?», the announcement, the meeting reminders, the /riunione wizard, /calendario — texts
and keyboards.

Plain functions of plain data (no Telegram, no session). The use cases in
bot.services.meetings call them for what they queue in the outbox; the handlers in
bot.handlers.meetings call them for what they answer at once.

Buttons (callback data `area:verb:id[:arg]`, ids only; the handlers re-check everything):

    vote:y|m|n:<slot>            an answer (Sì, Se necessario, No) for one date
    mtg:answers:<slot>           the date's label: who answered what
    mtg:mine:<poll>              «👤 Le mie risposte»: one's private copy of the poll
    mtg:manage:<poll>            «⚙️ Gestisci»: the coordinator's panel, in private
    mtg:missing:<poll>           «Chi manca?» (panel, private)
    mtg:add_date:<poll>          «Aggiungi data» (panel; the date is then written)
    mtg:extend:<poll>            «Proroga» (panel): the choices
    mtg:extend_by:<poll>:<days>  one of those choices
    mtg:close:<poll>             «Chiudi ora» (panel): the question
    mtg:confirm_close:<poll>     «Sì, chiudi»
    mtg:cancel:<poll>            «Annulla sondaggio» (panel): the question
    mtg:confirm_cancel:<poll>    «Sì, annulla il sondaggio»
    mtg:invite:<meeting>         the calendar invitation, in private
    wiz:<verb>[:<arg>]           the /riunione wizard: table, skip, toggle, next, deadline,
                                 publish, stop

Links that open the bot in private (when it cannot write first): `t.me/<bot>?start=mg-<poll>`
(the panel) and `?start=pv-<poll>` (one's own answers), bot.services.meetings.rules.start_link.
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
_ANSWERS = (Answer.YES, Answer.MAYBE, Answer.NO)
TABLE_NAMES = {
    PollTable.POLITICAL: N_("tavolo politico"),
    PollTable.TECHNICAL: N_("tavolo tecnico"),
    PollTable.BOTH: N_("tavolo politico e tecnico insieme"),
}
# A press on a meeting's button (its agenda, tasks, attendance), or a /start link to one, by
# someone who is no active member of the meeting's Union: one refusal, naming nothing of the
# meeting, true of a button and of a link, and the next step.
NOT_A_MEMBER = N_(
    "Qui entrano solo i membri del Team energia dell'Unione. Per farne parte, chiedi un link "
    "d'invito a chi coordina l'Unione."
)
TABLE_CODES = {"p": PollTable.POLITICAL, "t": PollTable.TECHNICAL, "b": PollTable.BOTH}
Keyboarded = tuple[str, Keyboard | None]  # a text and its buttons
# Days a deadline can be extended by (the buttons offered); anything else is forged.
EXTEND_DAYS = (1, 2, 3, 7)
# Telegram: a message is at most 4096 characters, a toast or popup at most 200.
MESSAGE_LIMIT = 4096
POPUP_LIMIT = 200
# How many Comuni a list of the grid names before «+N altri», tried from the first (all)
# down to the last until the message fits.
_GRID_CAPS = (None, 12, 10, 8, 6, 5, 4, 3, 2, 1, 0)


def when(dt: datetime, tz: ZoneInfo, tr: Translator, *, year: bool = False) -> str:
    return format_datetime(dt, tz, tr.language, year=year)


def day_of(dt: datetime, tz: ZoneInfo, tr: Translator) -> str:
    """«gio 10 dic»: the date without the hour."""
    return when(dt, tz, tr).split(",")[0]


def message_length(text: str) -> int:
    """A text's length as Telegram's limit counts it, or more: UTF-16 code units of the HTML
    as written (tags and escapes included), so a text under the limit here is under it there."""
    return len(text.encode("utf-16-le")) // 2


def popup(text: str) -> str:
    """A toast or popup's text within Telegram's 200 characters (cut with «…»)."""
    return text if len(text) <= POPUP_LIMIT else text[: POPUP_LIMIT - 1] + "…"


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
    @property
    def covered_yes(self) -> frozenset[int]: ...


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


@dataclass(frozen=True)
class CopyView:
    """One member's private copy of a poll: their own answers, date by date.

    Read by bot.services.meetings (`copy_view`); `reminder` says it is sent as the reminder to
    someone who has not answered yet. `language` is the member's.
    """

    poll_id: int
    title: str
    table: PollTable
    status: PollStatus
    deadline_at: datetime
    tz: ZoneInfo
    answers: tuple[tuple[int, datetime, Answer | None], ...]  # (date id, start, answer)
    language: str
    chosen_at: datetime | None = None
    reminder: bool = False

    @property
    def is_open(self) -> bool:
        return self.status == PollStatus.OPEN


# --- the poll in the group: a grid of Comuni ---------------------------------------------


def _names(names: Sequence[str], cap: int | None, tr: Translator) -> str:
    """Comuni by name, at most `cap` of them and «+N altri» (0: only how many)."""
    shown = list(names) if cap is None else list(names[:cap])
    hidden = len(names) - len(shown)
    if not shown:
        return tr.ngettext("{n} Comune", "{n} Comuni", hidden).format(n=hidden)
    text = ", ".join(html.escape(n) for n in shown)
    if hidden:
        text += " " + tr.gettext("+{n} altri").format(n=hidden)
    return text


def _date_block(view: PollView, sv: SlotView, tr: Translator, cap: int | None) -> list[str]:
    """One date of the grid: how many Comuni can come, which (✅ with a Sì, ❔ with a «Se
    necessario» only: the coverage rule, an Assessore standing in for the Sindaco), and which
    are still missing (nobody of theirs answered Sì or Se necessario for it)."""
    _ = tr.gettext
    covered = sv.tally.covered
    label = f"<b>{when(sv.slot.starts_at, view.tz, tr)}</b>"
    if view.chosen is not None and view.chosen.slot.id == sv.slot.id:
        label = "👉 " + label
    if not covered:
        return [label + " — " + _("nessun Comune per ora")]
    count = tr.ngettext("{n} Comune su {total}", "{n} Comuni su {total}", len(covered)).format(
        n=len(covered), total=len(view.comuni)
    )
    lines = [f"{label} — {count}"]
    yes = sorted(view.comuni[c] for c in sv.tally.covered_yes if c in view.comuni)
    maybe = sorted(view.comuni[c] for c in covered - sv.tally.covered_yes if c in view.comuni)
    missing = sorted(name for c, name in view.comuni.items() if c not in covered)
    if yes:
        lines.append("✅ " + _names(yes, cap, tr))
    if maybe:
        lines.append("❔ " + _names(maybe, cap, tr))
    if missing:
        lines.append(
            tr.ngettext("Manca: {names}", "Mancano: {names}", len(missing)).format(
                names=_names(missing, cap, tr)
            )
        )
    return lines


def _poll_status_line(view: PollView, tr: Translator) -> str | None:
    _ = tr.gettext
    status = view.poll.status
    if status == PollStatus.OPEN:
        return _(
            "Rispondete entro <b>{deadline}</b>, per ogni data: ✅ Sì · ❔ Se necessario · ❌ No"
        ).format(deadline=when(view.poll.deadline_at, view.tz, tr))
    if status == PollStatus.CLOSED and view.chosen is not None:
        return _("✅ Sondaggio chiuso. Data scelta: <b>{date}</b>").format(
            date=when(view.chosen.slot.starts_at, view.tz, tr)
        )
    if status == PollStatus.NO_DATE:
        return _(
            "Sondaggio chiuso: nessuna data va bene a nessun Comune. Chi coordina proporrà nuove date."
        )
    if status == PollStatus.CANCELLED:
        return _("❌ Sondaggio annullato.")
    return None


def _poll_head(view: PollView, tr: Translator) -> list[str]:
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
    return lines


def _answered_line(view: PollView, tr: Translator) -> str:
    return tr.ngettext(
        "Ha risposto {n} persona su {total}.",
        "Hanno risposto {n} persone su {total}.",
        len(view.answered),
    ).format(n=len(view.answered), total=len(view.voters))


def poll_text(view: PollView, tr: Translator) -> str:
    """The grid: every date with the Comuni that can come and those missing, by name while the
    message fits Telegram's 4096 characters, then «+N altri» (20 Comuni and 8 dates fit)."""
    head, foot = _poll_head(view, tr), [_answered_line(view, tr)]
    text = ""
    for cap in _GRID_CAPS:
        blocks = ["\n".join(_date_block(view, sv, tr, cap)) for sv in view.slots]
        text = "\n\n".join(["\n".join(head), *blocks, "\n".join(foot)])
        if message_length(text) <= MESSAGE_LIMIT:
            break
    return text


def _slot_rows(
    slots: Sequence[tuple[int, datetime]], tz: ZoneInfo, tr: Translator
) -> list[list[Button]]:
    """A row per date: its label (who answered what) and ✅ ❔ ❌."""
    return [
        [Button(when(starts_at, tz, tr), cb.encode(MTG_AREA, "answers", sid))]
        + [
            Button(ANSWER_ICONS[answer], cb.encode(VOTE_AREA, _CODE_OF[answer], sid))
            for answer in _ANSWERS
        ]
        for sid, starts_at in slots
    ]


def render_poll(view: PollView, tr: Translator) -> Keyboarded:
    """The poll message in the group: the grid, a row of buttons per date, and two more: one's
    own answers in private («👤 Le mie risposte») and the coordinator's panel («⚙️ Gestisci»).
    A group message is the same for everyone: one's own answer is marked in the private copy
    and said by the toast of each vote."""
    _ = tr.gettext
    text = poll_text(view, tr)
    if not view.is_open:
        return text, None
    pid = view.poll.id
    dates = [(sv.slot.id, sv.slot.starts_at) for sv in view.slots]
    last = [
        Button(_("👤 Le mie risposte"), cb.encode(MTG_AREA, "mine", pid)),
        Button(_("⚙️ Gestisci"), cb.encode(MTG_AREA, "manage", pid)),
    ]
    return text, Keyboard.of(*_slot_rows(dates, view.tz, tr), last)


# --- one member's private copy --------------------------------------------------------------


def _marked(answer: Answer, mine: Answer | None, tr: Translator) -> str:
    label = f"{ANSWER_ICONS[answer]} {tr.gettext(ANSWER_NAMES[answer])}"
    return label + " ✓" if answer == mine else label


def _copy_status(copy: CopyView, tr: Translator) -> str:
    _ = tr.gettext
    if copy.is_open:
        return _("È lo stesso sondaggio del gruppo: quello che scegli qui conta anche lì.")
    if copy.status == PollStatus.CLOSED and copy.chosen_at is not None:
        return _("✅ Sondaggio chiuso. Data scelta: <b>{date}</b>.").format(
            date=when(copy.chosen_at, copy.tz, tr)
        )
    if copy.status == PollStatus.CANCELLED:
        return _("❌ Sondaggio annullato: le risposte non contano più.")
    return _("Il sondaggio si è chiuso senza una data: chi coordina proporrà nuove date.")


def render_copy(copy: CopyView, tr: Translator) -> Keyboarded:
    """The private copy: one's answers listed at the top, and per date its label and the three
    answers with one's own marked («✅ Sì ✓»); no buttons once the poll is closed."""
    _ = tr.gettext
    title, table = html.escape(copy.title), _(TABLE_NAMES[copy.table])
    if copy.reminder and copy.is_open:
        head = _(
            "⏰ Non hai ancora risposto al sondaggio «{title}» ({table}): si chiude "
            "<b>{deadline}</b>. Tocca ✅ Sì, ❔ Se necessario o ❌ No sotto ogni data."
        )
    elif copy.is_open:
        head = _(
            "👤 Le tue risposte al sondaggio «{title}» ({table}). Puoi cambiarle fino a "
            "<b>{deadline}</b>."
        )
    else:
        head = _("👤 Le tue risposte al sondaggio «{title}» ({table}).")
    deadline = when(copy.deadline_at, copy.tz, tr)
    lines = [head.format(title=title, table=table, deadline=deadline), _copy_status(copy, tr), ""]
    none = _("non hai ancora risposto") if copy.is_open else _("nessuna risposta")
    for _sid, starts_at, answer in copy.answers:
        mine = f"{ANSWER_ICONS[answer]} {_(ANSWER_NAMES[answer])}" if answer is not None else none
        lines.append(f"{when(starts_at, copy.tz, tr)} — {mine}")
    text = "\n".join(lines)
    if not copy.is_open:
        return text, None
    rows: list[list[Button]] = []
    for sid, starts_at, answer in copy.answers:
        rows.append(
            [Button("📅 " + when(starts_at, copy.tz, tr), cb.encode(MTG_AREA, "answers", sid))]
        )
        rows.append(
            [
                Button(_marked(a, answer, tr), cb.encode(VOTE_AREA, _CODE_OF[a], sid))
                for a in _ANSWERS
            ]
        )
    return text, Keyboard.of(*rows)


def render_missing(view: PollView, tr: Translator) -> str:
    """«Chi manca?»: who of the table has not answered at all, Comune by Comune."""
    _ = tr.gettext
    if not view.missing_by_comune and not view.missing_without_comune:
        return _("Hanno risposto tutti. 🎉")
    lines = [_("Non hanno ancora risposto:")]
    for comune, represented, names in view.missing_by_comune:
        note = _(" (il Comune ha già risposto con un'altra persona)") if represented else ""
        lines.append(f"• {html.escape(comune)}{note}: {html.escape(', '.join(names))}")
    if view.missing_without_comune:
        lines.append(
            _("• Personale dell'Unione: {names}").format(
                names=html.escape(", ".join(view.missing_without_comune))
            )
        )
    text = "\n".join(lines)
    if message_length(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 200].rsplit("\n", 1)[0] + "\n…"
    return text


def render_slot_details(view: PollView, slot_id: int, member_id: int, tr: Translator) -> str | None:
    """A date's label pressed: who answered what (a popup, at most 200 characters)."""
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
    return popup("\n".join(parts))


# --- votes ----------------------------------------------------------------------------------


def _my_answers(
    mine: Sequence[tuple[datetime, Answer | None]], tz: ZoneInfo, tr: Translator, *, short: bool
) -> str:
    """«Le tue risposte: ✅ gio 10 dic · ❔ mer 16 dic. Ancora da rispondere: gio 17 dic.» — a
    day names a date, with its hour when two dates fall on the same day; `short` drops the
    weekday («10 dic»)."""
    _ = tr.gettext
    days = [day_of(at, tz, tr) for at, _a in mine]
    labels = [
        day if days.count(day) == 1 else when(at, tz, tr)
        for day, (at, _a) in zip(days, mine, strict=True)
    ]
    if short:
        labels = [label.split(" ", 1)[-1] for label in labels]
    given = [
        f"{ANSWER_ICONS[a]} {label}" for label, (_at, a) in zip(labels, mine, strict=True) if a
    ]
    open_ = [label for label, (_at, a) in zip(labels, mine, strict=True) if a is None]
    text = _("Le tue risposte: {answers}.").format(answers=" · ".join(given)) if given else ""
    if open_:
        text += " " + _("Ancora da rispondere: {dates}.").format(dates=", ".join(open_))
    return text.strip()


def render_vote_recorded(
    answer: Answer,
    starts_at: datetime,
    tz: ZoneInfo,
    tr: Translator,
    mine: Sequence[tuple[datetime, Answer | None]] = (),
) -> str:
    """The toast of a vote: what was recorded, then all of one's answers to the poll (a group
    message cannot mark them; the toast can, without scrolling)."""
    _ = tr.gettext
    text = _("Registrato: {icon} {answer} per {date}.").format(
        icon=ANSWER_ICONS[answer], answer=_(ANSWER_NAMES[answer]), date=when(starts_at, tz, tr)
    )
    for short in (False, True):  # the weekdays go first when eight dates make it long
        summary = _my_answers(mine, tz, tr, short=short) if mine else ""
        if summary and len(text) + 1 + len(summary) <= POPUP_LIMIT:
            return text + "\n" + summary
    return text


@dataclass(frozen=True)
class VoteRefusal:
    """Why a vote was not recorded (bot.services.meetings.VoteRefused, as plain values)."""

    reason: str  # gone, closed, no_date, cancelled, deadline_passed, not_a_member, not_at_table
    table: PollTable | None = None
    at: datetime | None = None  # the chosen date (closed), or the deadline (deadline_passed)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))


def render_vote_refused(refusal: VoteRefusal, tr: Translator) -> str:
    """A vote not recorded, said in a popup that stays, with what to do instead."""
    _ = tr.gettext
    reason, at = refusal.reason, refusal.at
    if reason == "closed" and at is not None:
        text = _(
            "Questo sondaggio è chiuso: la data scelta è {date} e la trovi in /calendario. "
            "Se c'è un sondaggio più recente, usa i suoi pulsanti."
        ).format(date=when(at, refusal.tz, tr))
    elif reason in ("closed", "no_date"):
        text = _(
            "Questo sondaggio è chiuso senza una data: la tua risposta non è stata registrata. "
            "Chi coordina proporrà nuove date: rispondi al prossimo sondaggio."
        )
    elif reason == "cancelled":
        text = _(
            "Questo sondaggio è stato annullato: la tua risposta non è stata registrata. "
            "Se c'è un sondaggio più recente, usa i suoi pulsanti."
        )
    elif reason == "deadline_passed":
        text = _(
            "Il tempo per rispondere è scaduto ({deadline}): la tua risposta non è stata registrata. "
            "Tra poco la data scelta arriva nel gruppo; se serve, scrivi a chi coordina."
        ).format(deadline=when(at, refusal.tz, tr) if at else "")
    elif reason == "not_a_member":
        text = _(
            "Questo sondaggio è per i membri del Team energia dell'Unione: la tua risposta non è stata registrata. Per entrare serve il link d'invito di chi coordina l'Unione."
        )
    elif reason == "not_at_table" and refusal.table is not None:
        text = _(
            "Questo sondaggio è per il {table}: la tua risposta non è stata registrata. Se ne fai "
            "parte, chiedi a chi coordina l'Unione di correggere il tuo ruolo."
        ).format(table=_(TABLE_NAMES[refusal.table]))
    else:
        text = _(
            "Questo pulsante non è più valido: usa i pulsanti del sondaggio più recente, nel "
            "gruppo."
        )
    return popup(text)


# --- closing --------------------------------------------------------------------------------


def render_announcement(view: PollView, meeting: Meeting, tr: Translator) -> str:
    """To the table's groups: the date chosen, how many Comuni will be there, who is missing."""
    _ = tr.gettext
    t = view.chosen.tally if view.chosen else None
    lines = [
        _("📣 <b>{title}</b>: ci vediamo <b>{date}</b>.").format(
            title=html.escape(meeting.title), date=when(meeting.starts_at, view.tz, tr, year=True)
        )
    ]
    if t is not None:
        lines.append(
            tr.ngettext(
                "Ci sarà {covered} Comune su {total}.",
                "Ci saranno {covered} Comuni su {total}.",
                len(t.covered),
            ).format(covered=len(t.covered), total=len(view.comuni))
        )
        missing = sorted(name for c, name in view.comuni.items() if c not in t.covered)
        if missing:
            lines.append(
                tr.ngettext("Manca: {names}.", "Mancano: {names}.", len(missing)).format(
                    names=_names(missing, 12, tr)
                )
            )
    if meeting.place:
        lines.append(_("📍 {place}").format(place=html.escape(meeting.place)))
    if meeting.agenda:
        lines.append(
            _("Ordine del giorno: {agenda}").format(agenda=html.escape(meeting.agenda[:1500]))
        )
    lines.append(_("Qui sotto trovate l'invito da salvare nella vostra agenda."))
    return "\n".join(lines)


def render_ics_caption(tr: Translator) -> str:
    return tr.gettext("Invito per l'agenda")


def render_updated_ics_caption(tr: Translator) -> str:
    """The convocation's .ics: the same event as the first invite, now with the agenda."""
    return tr.gettext(
        "Invito aggiornato con l'ordine del giorno: apritelo per aggiornare la riunione nella vostra agenda"
    )


def render_invite_caption(meeting: Meeting, tz: ZoneInfo, tr: Translator) -> str:
    return tr.gettext("Invito per l'agenda: {title}, {date}").format(
        title=html.escape(meeting.title), date=when(meeting.starts_at, tz, tr, year=True)
    )


def ics_name(meeting: Meeting, tz: ZoneInfo) -> str:
    return f"riunione-{meeting.starts_at.astimezone(tz):%Y-%m-%d}.ics"


def ics_description(union_name: str, agenda: str | None, tr: Translator) -> str:
    text = tr.gettext("Team energia — {union}").format(union=union_name)
    return (text + "\n" + (agenda or "")).strip()


def render_no_date(title: str, tr: Translator) -> str:
    """To a coordinator: the poll closed and no date covers any Comune."""
    return tr.gettext(
        "Il sondaggio «{title}» si è chiuso, ma nessuna data va bene a nessun Comune. "
        "Proponi altre date con /riunione."
    ).format(title=html.escape(title))


def render_unreachable(title: str, names: Sequence[str], tr: Translator) -> str:
    """To a coordinator: who the poll's reminder could not reach."""
    return tr.ngettext(
        "Non sono riuscito a mandare il promemoria del sondaggio «{title}» a: {names}.\n"
        "Forse non ha mai aperto la chat con me, o mi ha bloccato: avvisa tu questa persona.",
        "Non sono riuscito a mandare il promemoria del sondaggio «{title}» a: {names}.\n"
        "Forse non hanno mai aperto la chat con me, o mi hanno bloccato: avvisa tu queste persone.",
        len(names),
    ).format(title=html.escape(title), names=html.escape(", ".join(sorted(names))))


def render_pin_right(group: str, tr: Translator) -> str:
    """To a coordinator, once per group: the bot may not pin there, and which right to give."""
    return tr.gettext(
        "Ho annunciato la riunione nel gruppo «{group}», ma non posso fissare l'annuncio in alto. "
        "Se vuoi che lo faccia, nel gruppo rendimi amministratore con il permesso «Fissa "
        "messaggi». Te lo dico solo questa volta."
    ).format(group=html.escape(group))


# The hour's reminder says «Tra un'ora» from this many minutes left (a tick's delay apart).
HOUR_REMINDER_MINUTES = 55


def minutes_until(starts_at: datetime, now: datetime) -> int:
    """Whole minutes left before `starts_at`, rounded up (0 once it has started)."""
    return max(0, -(-int((starts_at - now).total_seconds()) // 60))


def render_meeting_reminder(
    kind: str, meeting: Meeting, tz: ZoneInfo, now: datetime, tr: Translator
) -> str:
    """`day` (the day before; «Oggi» when caught up on the day itself) or `hour` («Tra
    un'ora»; the minutes left when it is caught up later, after the bot was stopped)."""
    _ = tr.gettext
    at = f"{meeting.starts_at.astimezone(tz):%H:%M}"
    title = html.escape(meeting.title)
    if kind == "day" and meeting.starts_at.astimezone(tz).date() == now.astimezone(tz).date():
        text = _("⏰ Oggi alle {time}: {title}.").format(time=at, title=title)
    elif kind == "day":
        text = _("⏰ Domani, {date}: {title}.").format(
            date=when(meeting.starts_at, tz, tr), title=title
        )
    elif (minutes := minutes_until(meeting.starts_at, now)) >= HOUR_REMINDER_MINUTES:
        text = _("⏰ Tra un'ora, alle {time}: {title}.").format(time=at, title=title)
    elif minutes > 1:
        text = _("⏰ Tra {minutes} minuti, alle {time}: {title}.").format(
            minutes=minutes, time=at, title=title
        )
    else:
        text = _("⏰ Sta per iniziare, alle {time}: {title}.").format(time=at, title=title)
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
            "Non ho potuto aprire il sondaggio per la data della riunione di {month}: nessun "
            "gruppo del tavolo è collegato. Collega il gruppo scrivendo /collega nel gruppo, poi "
            "proponi le date con /riunione."
        ).format(month=month_name)
    if reason == "month almost over":
        return _(
            "Il sondaggio automatico per la data della riunione di {month} non è partito: "
            "restano troppo pochi giorni utili. Se serve, proponi tu le date con /riunione."
        ).format(month=month_name)
    return None


# --- the coordinator's panel (⚙️ Gestisci), in private ----------------------------------------


def render_panel(view: PollView, best: SlotView | None, tr: Translator) -> Keyboarded:
    """«⚙️ Gestisci»: where the poll stands, and its controls (for the coordinator or whoever
    proposed it; each press is checked again)."""
    _ = tr.gettext
    lines = [
        _("⚙️ <b>{title}</b> ({table})").format(
            title=html.escape(view.poll.title), table=_(TABLE_NAMES[view.poll.table])
        ),
        _("Scadenza: <b>{deadline}</b>.").format(deadline=when(view.poll.deadline_at, view.tz, tr))
        + " "
        + _answered_line(view, tr),
    ]
    if best is not None:
        lines.append(
            tr.ngettext(
                "Se lo chiudi ora: <b>{date}</b> ({n} Comune su {total}).",
                "Se lo chiudi ora: <b>{date}</b> ({n} Comuni su {total}).",
                len(best.tally.covered),
            ).format(
                date=when(best.slot.starts_at, view.tz, tr),
                n=len(best.tally.covered),
                total=len(view.comuni),
            )
        )
    else:
        lines.append(_("Per ora nessuna data va bene a nessun Comune."))
    lines.append(_("Che cosa vuoi fare?"))
    pid = view.poll.id
    keyboard = Keyboard.of(
        [
            Button(_("👥 Chi manca?"), cb.encode(MTG_AREA, "missing", pid)),
            Button(_("➕ Aggiungi data"), cb.encode(MTG_AREA, "add_date", pid)),
        ],
        [
            Button(_("⏳ Proroga"), cb.encode(MTG_AREA, "extend", pid)),
            Button(_("🔒 Chiudi ora"), cb.encode(MTG_AREA, "close", pid)),
        ],
        [Button(_("🗑 Annulla sondaggio"), cb.encode(MTG_AREA, "cancel", pid))],
    )
    return "\n".join(lines), keyboard


def render_managers(coordinators: Sequence[str], proposer: str | None, tr: Translator) -> str:
    """⚙️ pressed by a member who may not manage the poll: who may, by name (a popup that
    stays; plain text, nothing to escape)."""
    people = ", ".join([*coordinators, *([proposer] if proposer else [])])
    return popup(
        tr.gettext(
            "Solo chi coordina l'Unione o chi ha proposto il sondaggio può gestirlo. Per "
            "chiudere, prorogare o aggiungere una data chiedi a: {people}."
        ).format(people=people)
    )


def render_manage_refusal(reason: str, tr: Translator) -> str:
    """bot.services.meetings.NotAllowed's reasons for the poll's controls (a popup)."""
    _ = tr.gettext
    texts = {
        "not_a_member": _(
            "Solo chi coordina l'Unione o chi ha proposto il sondaggio può gestirlo."
        ),
        "not_a_manager": _(
            "Solo chi coordina l'Unione o chi ha proposto il sondaggio può gestirlo."
        ),
        "closed": _("Questo sondaggio è già chiuso: la data, se c'è, la trovi in /calendario."),
        "too_many_dates": _(
            "Il sondaggio ha già 8 date, il massimo. Per proporne altre, annullalo e preparane "
            "uno nuovo con /riunione."
        ),
        "deadline_too_late": _(
            "Non si può: la scadenza deve restare almeno 24 ore prima della prima data."
        ),
        "cannot_extend": _(
            "Non si può prorogare: la scadenza deve restare almeno 24 ore prima della prima "
            "data. Se serve più tempo, aggiungi una data più avanti con «Aggiungi data»."
        ),
        "stale_button": _(
            "Questo pulsante non è più valido: tocca di nuovo «⚙️ Gestisci» sotto il sondaggio."
        ),
    }
    return texts.get(reason, _("Questo sondaggio non esiste più."))


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
            tr.ngettext("+{days} giorno ({date})", "+{days} giorni ({date})", days).format(
                days=days, date=when(deadline, view.tz, tr)
            ),
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
        return _("Sondaggio chiuso senza data. Proponi altre date con /riunione.")
    return _("Sondaggio chiuso: data scelta {date}. L'annuncio è nel gruppo.").format(
        date=when(starts_at, tz, tr)
    )


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


def panel_sent(tr: Translator) -> str:
    return tr.gettext("Ti ho scritto in privato: lì trovi i pulsanti per gestire il sondaggio.")


def copy_sent(tr: Translator) -> str:
    return tr.gettext("Ti ho scritto in privato: lì vedi e cambi le tue risposte.")


def cannot_write_privately(tr: Translator) -> str:
    return tr.gettext(
        "Non riesco a scriverti in privato: apri la chat con me, premi Avvia e tocca di nuovo "
        "il pulsante."
    )


def only_members_see_answers(tr: Translator) -> str:
    return tr.gettext("Le risposte le vedono solo i membri del Team energia dell'Unione.")


def only_members_get_invites(tr: Translator) -> str:
    return tr.gettext("L'invito lo scaricano solo i membri del Team energia dell'Unione.")


def invite_sent(in_private: bool, tr: Translator) -> str:
    _ = tr.gettext
    return _("Ecco l'invito.") if in_private else _("Ti ho mandato l'invito in privato.")


# --- /calendario ----------------------------------------------------------------------------


def render_meetings(
    meetings: Sequence[Meeting], polls: Sequence[MeetingPoll], tz: ZoneInfo, tr: Translator
) -> Keyboarded:
    """/calendario: the meetings ahead (each with its invitation) and the open polls (each with
    one's own answers, in private)."""
    _ = tr.gettext
    lines = [_("📅 <b>Calendario delle riunioni</b>")]
    buttons = []
    if not meetings:
        lines.append(_("Nessuna riunione fissata per ora."))
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
                _("📅 Invito per l'agenda — {date}").format(date=when(meeting.starts_at, tz, tr)),
                cb.encode(MTG_AREA, "invite", meeting.id),
            )
        )
    if polls:
        lines.append("")
        lines.append(
            tr.ngettext(
                "{n} sondaggio aperto per la data:", "{n} sondaggi aperti per la data:", len(polls)
            ).format(n=len(polls))
        )
        for poll in polls:
            lines.append(
                _("• {title}: risposte entro {deadline}").format(
                    title=html.escape(poll.title), deadline=when(poll.deadline_at, tz, tr)
                )
            )
            short = poll.title if len(poll.title) <= 40 else poll.title[:39] + "…"
            buttons.append(
                Button(
                    _("👤 Le mie risposte — {title}").format(title=short),
                    cb.encode(MTG_AREA, "mine", poll.id),
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
        _("<b>Ricontrolla prima di pubblicare</b>"),
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
        return _(
            "Sondaggio pubblicato in: {groups}.\nQui sotto puoi dare anche tu le tue risposte e, "
            "quando serve, gestire il sondaggio."
        ).format(groups=html.escape(", ".join(note.groups)))
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
        "stale_button": _(
            "Questo pulsante non è più valido: continua dall'ultimo messaggio, o ricomincia "
            "con /riunione."
        ),
        "may_not_propose": _("Non puoi più proporre riunioni per questo tavolo."),
        "dates_count": _("Scegli da 2 a 8 date."),
        "deadline_invalid": _(
            "La scadenza non va più bene: deve essere nel futuro e almeno 24 ore prima della prima data."
        ),
        "no_group": _(
            "Prima va collegato il gruppo del tavolo: chi coordina l'Unione lo fa scrivendo "
            "/collega nel gruppo."
        ),
        "proposers_only": _(
            "Le date delle riunioni le propone chi coordina l'Unione (o un Sindaco o una "
            "Sindaca, per il tavolo politico)."
        ),
    }
    return words.get(code, words["stale_button"])


def render_published_buttons(poll_id: int, tr: Translator) -> Keyboard | None:
    """Under «Sondaggio pubblicato»: the proposer's own answers and the poll's panel, here."""
    _ = tr.gettext
    return Keyboard.of(
        [Button(_("👤 Le mie risposte"), cb.encode(MTG_AREA, "mine", poll_id))],
        [Button(_("⚙️ Gestisci il sondaggio"), cb.encode(MTG_AREA, "manage", poll_id))],
    )


def render_wizard_started_in_group(sent: bool, tr: Translator) -> str:
    _ = tr.gettext
    if sent:
        return _("Ti ho scritto in privato per preparare il sondaggio.")
    return _(
        "Il sondaggio si prepara in privato: apri la chat con me con il pulsante qui sotto, "
        "premi Avvia e scrivi /riunione."
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
    if kind in ("weekday_mismatch", "weekday_pick") and day is not None and weekday is not None:
        said = (
            _("Il {date} è {actual}, non {written}: tocca qui sotto la data giusta.")
            if kind == "weekday_pick"  # both dates offered among the buttons
            else _("Il {date} è {actual}, non {written}: quale intendi?")
        )
        return said.format(
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
