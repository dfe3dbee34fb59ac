"""Tasks agreed at a meeting (compiti): the coordinator's short dialogue (who, what, by when),
the message to the assignee and its «✔️ Fatto».

Buttons (callback data `tsk:verb:id[:arg]`, ids only; the handlers re-check everything):

    tsk:new:<meeting>          «📌 Assegna un compito» (the agenda's panel): who?
    tsk:who:<meeting>:<member> the member chosen; the text is then written
    tsk:act:<meeting>:<action> the PAES action it is about (0: none), when the member's Comuni
                               have actions
    tsk:due:<meeting>:<days>   by when: one of `DUE_DAYS` from today, 0 for no date
    tsk:stop:<meeting>         ends the dialogue, nothing recorded
    tsk:drop:<task>            «🗑 Annulla questo compito» (a coordinator, while it is open):
                               cancelled, the assignee told
    tsk:done:<task>            «✔️ Fatto», for the assignee
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import callback_data as cb
from bot.i18n import N_, Translator, format_datetime
from bot.views.keyboard import Button, Keyboard
from bot.views.meetings import NOT_A_MEMBER
from bot.views.names import person_name
from storage.repositories.people import ShownName

TASK_AREA = "tsk"
# The dates offered for a task, in days from today; 0: no date. Anything else is forged.
DUE_DAYS = (7, 14, 30, 60, 0)
_DUE_WORDS = {
    7: N_("Entro una settimana ({date})"),
    14: N_("Entro due settimane ({date})"),
    30: N_("Entro un mese ({date})"),
    60: N_("Entro due mesi ({date})"),
}


@dataclass(frozen=True)
class TaskMeeting:
    meeting_id: int
    title: str
    starts_at: datetime
    tz: ZoneInfo


def day_label(day: date, tr: Translator) -> str:
    """«lun 14 dic 2026»."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return format_datetime(noon, ZoneInfo("UTC"), tr.language, year=True).split(",")[0]


def _meeting_line(meeting: TaskMeeting, tr: Translator) -> str:
    return tr.gettext("📌 Compiti della riunione «{title}» ({date})").format(
        title=html.escape(meeting.title),
        date=format_datetime(meeting.starts_at, meeting.tz, tr.language, year=True),
    )


def _stop(meeting_id: int, tr: Translator) -> Button:
    return Button(tr.gettext("Annulla"), cb.encode(TASK_AREA, "stop", meeting_id))


def new_task_button(meeting_id: int, tr: Translator) -> Button:
    return Button(tr.gettext("📌 Assegna un compito"), cb.encode(TASK_AREA, "new", meeting_id))


def render_pick_member(
    meeting: TaskMeeting, members: Sequence[tuple[int, str]], tr: Translator
) -> tuple[str, Keyboard | None]:
    text = "\n".join([_meeting_line(meeting, tr), "", tr.gettext("A chi lo assegni?")])
    rows = [
        [Button(name, cb.encode(TASK_AREA, "who", meeting.meeting_id, member_id))]
        for member_id, name in members
    ]
    return text, Keyboard.of(*rows, [_stop(meeting.meeting_id, tr)])


def render_ask_text(meeting: TaskMeeting, name: str, tr: Translator) -> tuple[str, Keyboard | None]:
    text = tr.gettext("Scrivimi in un messaggio che cosa deve fare {name}.").format(
        name=html.escape(name)
    )
    return text, Keyboard.of([_stop(meeting.meeting_id, tr)])


def render_pick_action(
    meeting: TaskMeeting,
    name: str,
    task: str,
    actions: Sequence[tuple[int, str, str]],
    tr: Translator,
) -> tuple[str, Keyboard | None]:
    """Is the task about one of the PAES actions of the member's Comuni?"""
    _ = tr.gettext
    text = "\n".join(
        [
            _("📌 {name}: «{task}»").format(name=html.escape(name), task=html.escape(task)),
            "",
            _("Riguarda un'azione del PAES?"),
        ]
    )
    rows = [
        [Button(f"{code} · {title}"[:60], cb.encode(TASK_AREA, "act", meeting.meeting_id, i))]
        for i, code, title in actions
    ]
    rows.append([Button(_("Nessuna azione"), cb.encode(TASK_AREA, "act", meeting.meeting_id, 0))])
    return text, Keyboard.of(*rows, [_stop(meeting.meeting_id, tr)])


def render_pick_due(
    meeting: TaskMeeting, name: str, task: str, today: date, tr: Translator
) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    text = "\n".join(
        [
            _("📌 {name}: «{task}»").format(name=html.escape(name), task=html.escape(task)),
            "",
            _("Entro quando?"),
        ]
    )
    rows = [
        [
            Button(
                _(_DUE_WORDS[days]).format(date=day_label(today + timedelta(days=days), tr)),
                cb.encode(TASK_AREA, "due", meeting.meeting_id, days),
            )
        ]
        for days in DUE_DAYS
        if days
    ]
    rows.append([Button(_("Senza scadenza"), cb.encode(TASK_AREA, "due", meeting.meeting_id, 0))])
    return text, Keyboard.of(*rows, [_stop(meeting.meeting_id, tr)])


def render_assigned(
    meeting: TaskMeeting,
    task_id: int,
    name: str,
    task: str,
    due_on: date | None,
    tr: Translator,
    *,
    back: Button | None = None,
) -> tuple[str, Keyboard | None]:
    """The task recorded; «📌 Assegna un compito» for the next one, «🗑 Annulla questo compito»
    for a mistake, and `back`, the way back to the agenda's panel this dialogue replaced (while
    the agenda is open)."""
    _ = tr.gettext
    text = _("✅ Compito assegnato a {name}: «{task}»").format(
        name=html.escape(name), task=html.escape(task)
    )
    if due_on is not None:
        text += " " + _("entro {date}").format(date=day_label(due_on, tr))
    text += ".\n" + _("Gliel'ho scritto in privato.")
    drop = Button(_("🗑 Annulla questo compito"), cb.encode(TASK_AREA, "drop", task_id))
    return text, Keyboard.of(
        [new_task_button(meeting.meeting_id, tr)], [drop], [back] if back else []
    )


def render_cancelled(
    meeting_id: int | None, name: ShownName, task: str, told: bool, tr: Translator
) -> tuple[str, Keyboard | None]:
    """To the coordinator who cancelled it (`told`: the assignee is being told)."""
    _ = tr.gettext
    text = _("🗑 Annullato il compito di {name}: «{task}».").format(
        task=html.escape(task), name=html.escape(person_name(name, tr))
    )
    if told:
        text += "\n" + _("Gliel'ho scritto in privato.")
    return text, Keyboard.of([new_task_button(meeting_id, tr)] if meeting_id else [])


def render_struck(told: str, tr: Translator) -> str:
    """The assignee's message about a task since cancelled (`told`: its HTML as sent), struck
    through, its «✔️ Fatto» gone."""
    return f"<s>{told}</s>\n\n" + tr.gettext("🗑 Annullato: non serve più farlo.")


def render_cancelled_told(meeting: str, task: str, tr: Translator) -> str:
    """To the assignee of a task cancelled after they were told of it."""
    return tr.gettext(
        "🗑 Il compito «{task}» della riunione «{meeting}» è stato annullato: non serve più farlo."
    ).format(task=html.escape(task), meeting=html.escape(meeting))


def render_told(
    meeting: TaskMeeting,
    task_id: int,
    task: str,
    due_on: date | None,
    tr: Translator,
    action: str | None = None,
) -> tuple[str, Keyboard | None]:
    """To the assignee, in private (`action`: «code · title» of the PAES action it is about)."""
    _ = tr.gettext
    lines = [
        _("📌 Hai un compito dalla riunione «{title}»:").format(title=html.escape(meeting.title)),
        f"«{html.escape(task)}»",
    ]
    if action is not None:
        lines.append(_("Azione del PAES: {action}.").format(action=html.escape(action)))
    if due_on is not None:
        lines.append(_("Entro {date}.").format(date=day_label(due_on, tr)))
    lines.append(_("Quando l'hai fatto, tocca «✔️ Fatto»."))
    return "\n".join(lines), Keyboard.of([done_button(task_id, tr)])


def done_button(task_id: int, tr: Translator, n: int | None = None) -> Button:
    label = tr.gettext("✔️ Fatto") + (f" ({n})" if n is not None else "")
    return Button(label, cb.encode(TASK_AREA, "done", task_id))


@dataclass(frozen=True)
class TaskLine:
    task_id: int
    text: str
    due_on: date | None


def _open_tasks(
    tasks: Sequence[TaskLine], today: date, tr: Translator
) -> tuple[list[str], Keyboard | None]:
    """Numbered open tasks, the overdue ones said so, with one «✔️ Fatto» each."""
    _ = tr.gettext
    lines = []
    for n, task in enumerate(tasks, 1):
        line = f"{n}. «{html.escape(task.text)}»"
        if task.due_on is not None:
            line += " — " + _("entro {date}").format(date=day_label(task.due_on, tr))
            if task.due_on < today:
                line += " " + _("(scaduto)")
        lines.append(line)
    numbered = len(tasks) > 1
    buttons = [done_button(t.task_id, tr, n if numbered else None) for n, t in enumerate(tasks, 1)]
    return lines, Keyboard.of(*([b] for b in buttons))


def render_round_tasks(
    period: str, tasks: Sequence[TaskLine], today: date, tr: Translator
) -> tuple[str, Keyboard | None]:
    """With the monthly update round, to each assignee: their open tasks."""
    lines, keyboard = _open_tasks(tasks, today, tr)
    head = tr.ngettext(
        "📌 Aggiornamento di {period}: hai un compito aperto dalle riunioni.",
        "📌 Aggiornamento di {period}: hai {n} compiti aperti dalle riunioni.",
        len(tasks),
    ).format(period=html.escape(period), n=len(tasks))
    tail = tr.gettext("Se l'hai già fatto, tocca «✔️ Fatto».")
    return "\n".join([head, *lines, "", tail]), keyboard


def render_done(
    task: str, remaining: Sequence[TaskLine], today: date, tr: Translator
) -> tuple[str, Keyboard | None]:
    """After «✔️ Fatto»: thanks, and the assignee's tasks still open, if any."""
    text = tr.gettext("✔️ Fatto: «{task}». Grazie!").format(task=html.escape(task))
    if not remaining:
        return text, None
    lines, keyboard = _open_tasks(remaining, today, tr)
    return "\n".join([text, "", tr.gettext("Ancora aperti:"), *lines]), keyboard


def render_stopped(tr: Translator, *, back: Button | None = None) -> tuple[str, Keyboard | None]:
    """«Annulla»: nothing recorded; `back` as in `render_assigned`."""
    return tr.gettext("Va bene, nessun compito registrato."), Keyboard.of([back] if back else [])


_REFUSALS = {
    "gone": N_(
        "Questa riunione non c'è più o è passata da troppo tempo: i compiti si assegnano fino "
        "a due settimane dopo."
    ),
    "not_coordinator": N_("Solo chi coordina l'Unione assegna i compiti."),
    "not_member": NOT_A_MEMBER,
    "stale": N_("Questa preparazione è scaduta: ricomincia con «📌 Assegna un compito»."),
    "not_at_table": N_("Questa persona non è più tra i membri del tavolo: scegline un'altra."),
    "not_yours": N_("Questo compito è di un'altra persona: lo segna fatto solo chi l'ha ricevuto."),
    "task_gone": N_("Questo compito non c'è più."),
    "closed": N_("Questo compito è già chiuso."),
    "cancelled": N_("Questo compito è stato annullato da chi coordina: non serve più farlo."),
    "empty": N_("Il messaggio è vuoto: scrivimi il compito in parole."),
    "too_long": N_("È troppo lungo: scrivilo in al massimo {n} caratteri."),
}


def render_refusal(reason: str, tr: Translator, n: int = 0) -> str:
    return tr.gettext(_REFUSALS[reason]).format(n=n)
