"""The monthly round's messages: the invitation and its reminders (with the dialogue's first
buttons), the technical group's announcement, the coordinators' notes when a round opens and
when technicians could not be reached, /aggiornamento stato, and the answers to a note written
in the technical group. Plain functions of plain data (bot.services.progress.rounds and .status
queue or compose them)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.callback_data import encode
from bot.i18n import Translator, format_datetime
from bot.views.keyboard import Button, Keyboard
from bot.views.updates import (
    AREA,
    LIST_BUDGET,
    action_line,
    fit_lines,
    home_of,
    month_label,
    round_buttons,
    union_tz,
)
from storage.repositories.actions import ListedAction

# --- the round: invitations, reminders, reports ----------------------------------------------


@dataclass(frozen=True)
class Invitation:
    union_id: int
    union_name: str
    round_id: int
    period: str
    deadline_at: datetime
    timezone: str
    actions: Sequence[ListedAction]  # the technician's, `done` once answered in the round
    reminder: bool = False


def render_invitation(inv: Invitation, tr: Translator) -> tuple[str, Keyboard]:
    """The invitation (or its reminder): the technician's actions, one button each, so that an
    answer starts with the action that changed (bot.views.updates.round_buttons)."""
    _ = tr.gettext
    deadline = format_datetime(inv.deadline_at, union_tz(inv.timezone), tr.language)
    if inv.reminder:
        head = _("⏰ Promemoria: aspetto ancora il tuo aggiornamento di {month}, entro {deadline}.")
    else:
        head = _(
            "📝 <b>Aggiornamento di {month}</b> — {union}\nA che punto sono le azioni del PAES? Rispondi entro {deadline}."
        )
    lines = [
        head.format(
            month=month_label(inv.period, tr), union=html.escape(inv.union_name), deadline=deadline
        ),
        "",
    ]
    if inv.actions:
        home = home_of(inv.actions)
        lines.append(
            fit_lines([action_line(a, tr, home=home) for a in inv.actions], LIST_BUDGET, tr)
        )
        lines.append("")
        if any(a.done for a in inv.actions):
            lines.append(
                _(
                    "Tocca le azioni che sono cambiate e scegli a che punto sono: ogni scelta si salva subito. Se le altre sono come il mese scorso, premi «Il resto è invariato»."
                )
            )
        else:
            lines.append(
                _(
                    "Tocca solo le azioni che sono cambiate dal mese scorso e scegli a che punto sono: ogni scelta si salva subito. Se non è cambiato niente, premi «Nessuna novità questo mese»."
                )
            )
    else:
        lines.append(_("Non ci sono azioni caricate per il tuo Comune."))
    rows = round_buttons(inv.actions, round_id=inv.round_id, round_open=True, tr=tr)
    keyboard = Keyboard.of(*rows) or Keyboard(
        ((Button(_("👌 Nessuna novità questo mese"), encode(AREA, "no_news", inv.round_id)),),)
    )
    return "\n".join(lines), keyboard


def round_announcement(period: str, deadline_at: datetime, timezone: str, tr: Translator) -> str:
    """To the technical group, when a round opens."""
    return tr.gettext(
        "📣 <b>Aggiornamento di {month}</b>\n"
        "Ho chiesto in privato ai funzionari tecnici a che punto sono le azioni del PAES dei loro Comuni: rispondono entro {deadline}, bastano pochi tocchi.\n"
        "Potete anche rispondere a questo messaggio con una nota sul vostro Comune: la registro e i Sindaci la leggeranno nel riepilogo."
    ).format(
        month=month_label(period, tr),
        deadline=format_datetime(deadline_at, union_tz(timezone), tr.language),
    )


@dataclass(frozen=True)
class Technician:
    """A technician as a coordinator's message names them."""

    name: str
    comuni: tuple[str, ...]


def _who(t: Technician, tr: Translator) -> str:
    return "{} ({})".format(t.name, ", ".join(t.comuni) or tr.gettext("nessun Comune"))


def round_opened(
    period: str,
    deadline_at: datetime,
    timezone: str,
    *,
    asked: int,
    idle: Sequence[Technician],
    tr: Translator,
) -> str:
    """To each coordinator who is not a technician, when a round opens: how many were asked,
    who was not (no action loaded for their Comune)."""
    month = month_label(period, tr)
    deadline = format_datetime(deadline_at, union_tz(timezone), tr.language)
    idle_names = html.escape(", ".join(_who(t, tr) for t in idle))
    if asked:
        text = tr.ngettext(
            "📣 Ho aperto l'aggiornamento di {month}: l'ho chiesto a {n} funzionario tecnico, entro {deadline}.",
            "📣 Ho aperto l'aggiornamento di {month}: l'ho chiesto a {n} funzionari tecnici, entro {deadline}.",
            asked,
        ).format(month=month, n=asked, deadline=deadline)
        if idle:
            text += "\n" + tr.ngettext(
                "Non l'ho chiesto a {names}: non ci sono azioni caricate per il suo Comune. Caricale con /azioni e riceverà subito la richiesta.",
                "Non l'ho chiesto a {names}: non ci sono azioni caricate per i loro Comuni. Caricale con /azioni e riceveranno subito la richiesta.",
                len(idle),
            ).format(names=idle_names)
        text += "\n" + tr.gettext(
            "Con /aggiornamento stato vedi chi ha risposto; con /aggiornamento aggiorni tu le azioni intercomunali."
        )
        return text
    if idle:
        return tr.ngettext(
            "📣 Aggiornamento di {month}: non l'ho chiesto a {names}, perché non ci sono azioni caricate per il suo Comune. Caricale con /azioni entro {deadline} e riceverà subito la richiesta.",
            "📣 Aggiornamento di {month}: non l'ho chiesto a {names}, perché non ci sono azioni caricate per i loro Comuni. Caricale con /azioni entro {deadline} e riceveranno subito la richiesta.",
            len(idle),
        ).format(month=month, names=idle_names, deadline=deadline)
    return tr.gettext(
        "📣 Aggiornamento di {month}: nell'Unione non c'è ancora nessun funzionario tecnico a cui chiederlo. Invitali con /invito."
    ).format(month=month)


def unreachable_report(period: str, techs: Sequence[Technician], tr: Translator) -> str:
    """To the coordinators, once the invitations were tried: who Telegram refused."""
    lines = [
        tr.ngettext(
            "🚫 Per l'aggiornamento di {month} non riesco a scrivere a questa persona del tavolo tecnico: non ha mai avviato il bot o l'ha bloccato. Chiedi a questa persona di aprire la chat con me, premere Avvia e poi scrivere /aggiornamento.",
            "🚫 Per l'aggiornamento di {month} non riesco a scrivere a queste persone del tavolo tecnico: non hanno mai avviato il bot o l'hanno bloccato. Chiedi loro di aprire la chat con me, premere Avvia e poi scrivere /aggiornamento.",
            len(techs),
        ).format(month=month_label(period, tr))
    ]
    for t in techs:
        lines.append(f"• {html.escape(t.name)} ({html.escape(', '.join(t.comuni))})")
    return "\n".join(lines)


# --- /aggiornamento stato ---------------------------------------------------------------------


@dataclass(frozen=True)
class RoundState:
    """One technician in the round, as the coordinator's status shows them."""

    technician: Technician
    required: int  # actions to report on (their Comuni's and the intercommunal ones)
    updated: int  # of those, updated in the round
    changed: int  # of the updated, those whose state moved (the others were confirmed unchanged)
    answered: bool  # all updated, or «nothing new»
    no_news: bool  # answered with «nothing new» (not by updating everything)
    noted: bool  # wrote a note in the technical group during the round
    unreachable: bool


def render_status(
    period: str, deadline_at: datetime, timezone: str, states: Sequence[RoundState], tr: Translator
) -> str:
    """The round's state for the coordinator. As in the summary, a note in the technical group
    counts as having reported."""
    _ = tr.gettext

    def who(s: RoundState) -> str:
        return html.escape(_who(s.technician, tr))

    def done(s: RoundState) -> str:
        return tr.ngettext("{u} di {r} azione", "{u} di {r} azioni", s.required).format(
            u=s.updated, r=s.required
        )

    lines = [
        _("<b>Aggiornamento di {month}</b> — scadenza {deadline}").format(
            month=month_label(period, tr),
            deadline=format_datetime(deadline_at, union_tz(timezone), tr.language),
        )
    ]
    idle = [s for s in states if not s.required]
    asked = [s for s in states if s.required]
    answered = [s for s in asked if s.answered or s.noted]
    missing = [s for s in asked if not (s.answered or s.noted) and not s.unreachable]
    unreachable = [s for s in asked if not (s.answered or s.noted) and s.unreachable]
    lines.append("")
    lines.append(_("✅ Hanno risposto ({n}):").format(n=len(answered)))
    for s in answered:
        if not s.answered:  # only a note in the group
            detail = _("nota nel gruppo tecnico")
            if s.updated:
                detail = f"{done(s)}, {detail}"
        elif s.no_news:
            detail = _("nessuna novità")
        else:
            detail = answered_counts(s.changed, s.updated - s.changed, tr)
        lines.append(f"• {who(s)} — {detail}")
    lines.append(_("⏳ Non ancora ({n}):").format(n=len(missing)))
    for s in missing:
        lines.append(f"• {who(s)} — {done(s)}")
    if unreachable:
        lines.append(
            _("🚫 Non raggiungibili ({n}): non hanno avviato il bot o l'hanno bloccato.").format(
                n=len(unreachable)
            )
        )
        for s in unreachable:
            lines.append(f"• {who(s)}")
    if idle:
        lines.append(
            _("📭 Senza azioni da aggiornare ({n}): caricale con /azioni.").format(n=len(idle))
        )
        for s in idle:
            lines.append(f"• {who(s)}")
    if not states:
        lines.append(_("Nessun funzionario tecnico attivo nell'Unione."))
    return "\n".join(lines)


def answered_counts(changed: int, unchanged: int, tr: Translator) -> str:
    """«3 aggiornate, 27 invariate»: what moved apart from what was confirmed as it was; a
    count that is zero is not said."""
    parts = []
    if changed or not unchanged:
        parts.append(tr.ngettext("{n} aggiornata", "{n} aggiornate", changed).format(n=changed))
    if unchanged:
        parts.append(tr.ngettext("{n} invariata", "{n} invariate", unchanged).format(n=unchanged))
    return ", ".join(parts)


def status_refusal(reason: str, tr: Translator) -> str:
    if reason == "coordinator_only":
        return tr.gettext("Lo stato dell'aggiornamento mensile lo vede chi coordina.")
    return tr.gettext("Non c'è ancora stato nessun aggiornamento mensile.")


# --- notes from the technical group ---------------------------------------------------------


def note_recorded(comuni: Sequence[str], tr: Translator) -> str:
    where = ", ".join(comuni) or tr.gettext("l'Unione")
    return tr.gettext(
        "📝 Nota registrata per {where}: i Sindaci la leggeranno nel prossimo riepilogo. Grazie!"
    ).format(where=html.escape(where))


def note_repeated(first_at: datetime, timezone: str, tr: Translator) -> str:
    return tr.gettext(
        "📝 Questa nota è già registrata ({date}): non la conto una seconda volta."
    ).format(date=format_datetime(first_at, union_tz(timezone), tr.language))
