"""The coordinator's draft of the minutes in private, its correction screens, the approval, and
/verbali's list: texts and buttons (bot.services.meetings.minutes decides; bot.views.minutes
writes the documents).

Callback data (area `min`, every id re-checked by the use case):
`min:v:<meeting>:<screen>` a screen (m main, i items' outcomes, p presence, c confirm approval),
`min:o:<meeting>:<item>:<d|r|i>` an item's outcome, `min:a:<meeting>:<member>:next` one tap on a
person: assente → in presenza → online (`:1` / `:0`, in presenza / assente, from older drafts),
`min:n:<meeting>` the notes (typed next), `min:w:<meeting>:<item>` an item's outcome in the
coordinator's words (typed next), `min:ok:<meeting>` approve,
`min:f:<meeting>` /verbali: the files of approved minutes.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import callback_data as cb
from bot.i18n import N_, Translator, format_date
from bot.views.attendance import ABSENT_ICON, MODE_ICONS
from bot.views.keyboard import Button, Keyboard
from bot.views.minutes import (
    OUTCOME_NAMES,
    TABLE_TITLES,
    MinutesContent,
    MinutesPerson,
    minutes_text,
    person_label,
    title,
)
from storage.models import AttendanceMode, ItemOutcome, MeetingKind

MIN_AREA = "min"
SCREEN, OUTCOME, PRESENT, NOTES, APPROVE, FILES = "v", "o", "a", "n", "ok", "f"
WORDS = "w"  # an item's outcome in the coordinator's words
# A presence button's last part: the next of assente → in presenza → online (the roster's cycle);
# "1" / "0" (in presenza / assente) are the buttons of drafts sent before it.
NEXT = "next"
MAIN, ITEMS, PEOPLE, CONFIRM = "m", "i", "p", "c"
SCREENS = (MAIN, ITEMS, PEOPLE, CONFIRM)
OUTCOME_CODES = {
    "d": ItemOutcome.DECIDED,
    "a": ItemOutcome.APPROVED,
    "x": ItemOutcome.REJECTED,
    "r": ItemOutcome.POSTPONED,
    "i": ItemOutcome.INFORMATION,
}
_CODE_OF = {v: k for k, v in OUTCOME_CODES.items()}
# A tap moves an item to the next outcome of its cycle: Decisa → Rinviata → Per informazione;
# a question waiting in the register: Approvata → Respinta → Rinviata → Per informazione.
ITEM_CYCLE = (ItemOutcome.DECIDED, ItemOutcome.POSTPONED, ItemOutcome.INFORMATION)
QUESTION_CYCLE = (
    ItemOutcome.APPROVED,
    ItemOutcome.REJECTED,
    ItemOutcome.POSTPONED,
    ItemOutcome.INFORMATION,
)
_ICONS = {
    None: "▫️",
    ItemOutcome.DECIDED: "✅",
    ItemOutcome.APPROVED: "✅",
    ItemOutcome.REJECTED: "❌",
    ItemOutcome.POSTPONED: "⏭",
    ItemOutcome.INFORMATION: "ℹ️",
}
MESSAGE_LIMIT = 4096
_BUTTON_TEXT = 40  # an item's text on its button, cut
_NOTE_SHOWN = 200  # an item's outcome in words, on the items' screen (the whole in the draft)

REFUSALS = {
    "gone": N_("Questo verbale non c'è più, o non riguarda la tua Unione."),
    "not_coordinator": N_(
        "Solo chi coordina l'Unione corregge e approva il verbale: se c'è da correggere "
        "qualcosa, scrivilo a chi coordina."
    ),
    "approved": N_("Questo verbale è già stato approvato: lo trovi con /verbali."),
    "stale": N_("Usa i pulsanti del messaggio più recente del verbale."),
    "not_member": N_("I verbali sono riservati ai membri del Team energia dell'Unione."),
}


@dataclass(frozen=True)
class PanelItem:
    item_id: int
    position: int
    text: str
    outcome: ItemOutcome | None
    note: str | None = None  # the outcome in the coordinator's words
    # A question waiting in the register: approved or rejected here, it is closed at approval.
    question: bool = False
    closes_question: bool = False  # approving the minutes records its outcome in the register

    @property
    def cycle(self) -> tuple[ItemOutcome, ...]:
        """The outcomes a tap goes through."""
        return QUESTION_CYCLE if self.question else ITEM_CYCLE

    @property
    def next_outcome(self) -> ItemOutcome:
        cycle = self.cycle
        if self.outcome not in cycle:
            return cycle[0]
        return cycle[(cycle.index(self.outcome) + 1) % len(cycle)]


@dataclass(frozen=True)
class PanelPerson:
    person: MinutesPerson
    present: bool
    comuni: str  # their Comuni, for telling two people of the same name apart

    @property
    def mode(self) -> AttendanceMode:
        """How they were present (meaningful when `present`)."""
        return AttendanceMode.ONLINE if self.person.online else AttendanceMode.IN_PERSON


@dataclass(frozen=True)
class Panel:
    meeting_id: int
    content: MinutesContent
    items: tuple[PanelItem, ...]
    people: tuple[PanelPerson, ...]
    reader_absent: bool = False  # the coordinator reading it is listed among the absent


def refusal_text(reason: str, tr: Translator) -> str:
    return tr.gettext(REFUSALS.get(reason, REFUSALS["gone"]))


def _button(text: str, *args: object) -> Button:
    return Button(text, cb.encode(MIN_AREA, *(str(a) for a in args)))


def _back(panel: Panel, tr: Translator) -> Button:
    return _button(tr.gettext("⬅️ Indietro"), SCREEN, panel.meeting_id, MAIN)


def _fit(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Cut at a line (each line's tags are closed on it) with «…» when over Telegram's limit."""
    if len(text) <= limit:
        return text
    lines, size = [], 0
    for line in text.split("\n"):
        if size + len(line) + 1 > limit - 2:
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines) + "\n…"


def _main(panel: Panel, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    hint = _(
        "Correggi la bozza con i pulsanti, poi approvala: il verbale riceve il numero e va "
        "nel gruppo del tavolo come documento (.odt e .pdf)."
    )
    if panel.reader_absent:
        hint = _("Tu risulti assente: se c'eri, segnati presente in «👥 Presenze».") + "\n" + hint
    body = minutes_text(panel.content, tr)
    text = _fit(body, MESSAGE_LIMIT - len(hint) - 2) + "\n\n" + html.escape(hint)
    m = panel.meeting_id
    keyboard = Keyboard.of(
        [
            *([_button(_("📋 Esiti dei punti"), SCREEN, m, ITEMS)] if panel.items else []),
            _button(_("👥 Presenze"), SCREEN, m, PEOPLE),
        ],
        [_button(_("📝 Note"), NOTES, m), _button(_("✅ Approva"), SCREEN, m, CONFIRM)],
    )
    return text, keyboard


def _short(text: str, limit: int = _BUTTON_TEXT) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def _outcome(outcome: ItemOutcome | None, tr: Translator) -> str:
    return tr.gettext(OUTCOME_NAMES[outcome]) if outcome else tr.gettext("da indicare")


def _items(panel: Panel, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    lines = [
        f"<b>{html.escape(_('Esiti dei punti'))}</b>",
        html.escape(
            _("Tocca un punto per cambiarne l'esito: Decisa → Rinviata → Per informazione.")
            if not all(i.question for i in panel.items)
            else _("Tocca un punto per cambiarne l'esito.")
        ),
    ]
    if any(i.question for i in panel.items):
        lines.append(
            html.escape(
                _(
                    "I punti 🗳 sono questioni aperte del tavolo politico: Approvata → Respinta → "
                    "Rinviata → Per informazione. Quando approvi il verbale registro l'esito e lo "
                    "comunico al tavolo tecnico e a chi ha posto la questione; «Per informazione» "
                    "la lascia aperta."
                )
            )
        )
    lines += [
        html.escape(
            _(
                "Con ✏️ puoi scrivere con parole tue l'esito di un punto (che cosa si è deciso, o "
                "perché è stato rinviato): compare nel verbale e, per un punto deciso, nel "
                "registro delle decisioni quando approvi il verbale."
            )
        ),
        "",
    ]
    for i in panel.items:
        mark = "🗳 " if i.question else ""
        lines.append(
            f"{i.position}. {mark}{html.escape(i.text)} — "
            f"<i>{html.escape(_outcome(i.outcome, tr))}</i>"
        )
        if i.note:
            lines.append(f"    ✏️ {html.escape(_short(i.note, _NOTE_SHOWN))}")
    rows = [
        [
            _button(
                f"{_ICONS[i.outcome]} {i.position}. {_short(i.text)}",
                OUTCOME,
                panel.meeting_id,
                i.item_id,
                _CODE_OF[i.next_outcome],
            )
        ]
        for i in panel.items
    ]
    # One ✏️ per item with an outcome, side by side under the items (a row holds 8 buttons).
    words = [
        _button(f"✏️ {i.position}", WORDS, panel.meeting_id, i.item_id)
        for i in panel.items
        if i.outcome is not None
    ]
    rows += [words[n : n + 8] for n in range(0, len(words), 8)]
    return _fit("\n".join(lines)), Keyboard.of(*rows, [_back(panel, tr)])


def _people(panel: Panel, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    present = sum(1 for p in panel.people if p.present)
    text = "\n".join(
        (
            f"<b>{html.escape(_('Presenze'))}</b>",
            html.escape(
                _(
                    "Tocca una persona per cambiarla: assente ▫️ → in presenza ✅ → online 💻 → "
                    "assente. Ogni tocco si salva subito."
                )
            ),
            html.escape(_("Presenti: {n} su {total}.").format(n=present, total=len(panel.people))),
        )
    )
    buttons = []
    for p in panel.people[:90]:  # Telegram: 100 buttons a message
        label = person_label(p.person, tr)
        if p.comuni:
            label += f" · {p.comuni}"
        icon = ABSENT_ICON if not p.present else MODE_ICONS[p.mode]
        buttons.append(
            _button(f"{icon} {label}", PRESENT, panel.meeting_id, p.person.member_id, NEXT)
        )
    return text, Keyboard.of(*([b] for b in buttons), [_back(panel, tr)])


def _confirm(panel: Panel, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    undecided = sum(1 for i in panel.items if i.outcome is None)
    lines = [
        html.escape(
            _(
                "Approvi il verbale? Riceve il numero dell'anno, va nel gruppo del tavolo e "
                "non si può più correggere."
            )
        )
    ]
    if undecided:
        lines.append(
            html.escape(
                tr.ngettext(
                    "Un punto non ha ancora un esito: nel verbale resta «da indicare».",
                    "{n} punti non hanno ancora un esito: nel verbale restano «da indicare».",
                    undecided,
                ).format(n=undecided)
            )
        )
    decided = [i for i in panel.items if i.outcome is not None and i.outcome.decides]
    if decided:
        lines.append("")
        lines.append(html.escape(_("Le decisioni, come le riporta il verbale:")))
        lines += [f"• {i.position}. {html.escape(_decided(i, tr))}" for i in decided]
    closing = [str(i.position) for i in panel.items if i.closes_question]
    if closing:
        lines.append("")
        lines.append(
            html.escape(
                tr.ngettext(
                    "🗳 Segno nel registro l'esito della questione del punto {points} e lo "
                    "comunico al tavolo tecnico e a chi l'ha posta.",
                    "🗳 Segno nel registro l'esito delle questioni dei punti {points} e lo "
                    "comunico al tavolo tecnico e a chi le ha poste.",
                    len(closing),
                ).format(points=", ".join(closing))
            )
        )
    keyboard = Keyboard.of(
        [_button(_("✅ Sì, approva e pubblica"), APPROVE, panel.meeting_id)], [_back(panel, tr)]
    )
    return _fit("\n".join(lines)), keyboard


def _decided(item: PanelItem, tr: Translator) -> str:
    """«Approvata: …» for a question of the register, else what the item says was decided."""
    said = _short(item.note or item.text, _NOTE_SHOWN)
    if item.question:
        return f"{_outcome(item.outcome, tr)}: {said}"
    return said


def render_panel(panel: Panel, screen: str, tr: Translator) -> tuple[str, Keyboard | None]:
    """One screen of the draft's panel (HTML)."""
    if screen == ITEMS and panel.items:
        return _items(panel, tr)
    if screen == PEOPLE:
        return _people(panel, tr)
    if screen == CONFIRM:
        return _confirm(panel, tr)
    return _main(panel, tr)


def notes_prompt(tr: Translator, limit: int) -> str:
    return tr.gettext(
        "Scrivimi ora le note del verbale in un messaggio (al massimo {limit} caratteri). "
        "Scrivi «-» per toglierle."
    ).format(limit=limit)


def outcome_note_prompt(item: PanelItem, tr: Translator, limit: int) -> str:
    """After «✏️ N»: what to write, for the item named (HTML)."""
    _ = tr.gettext
    if item.outcome is not None and item.outcome.decides:
        ask = _("Scrivimi ora che cosa si è deciso sul punto {n}, «{text}».")
    else:
        ask = _("Scrivimi ora con parole tue l'esito del punto {n}, «{text}».")
    lines = [ask.format(n=item.position, text=_short(item.text, 120))]
    lines.append(_("Al massimo {limit} caratteri.").format(limit=limit))
    if item.note:
        lines.append(
            _("Testo attuale: «{note}». Per cancellarlo, scrivi «-».").format(note=item.note)
        )
    return html.escape(" ".join(lines))


def write_text_please(tr: Translator) -> str:
    return tr.gettext(
        "Scrivimi il testo in un messaggio. Per cancellare quello che c'è, scrivi «-»."
    )


def words_too_long(tr: Translator, limit: int) -> str:
    return tr.gettext(
        "Il testo è troppo lungo: al massimo {limit} caratteri. Accorcialo e mandamelo di nuovo."
    ).format(limit=limit)


def notes_too_long(tr: Translator, limit: int) -> str:
    return tr.gettext(
        "Le note sono troppo lunghe: al massimo {limit} caratteri. Accorciale e mandamele di nuovo."
    ).format(limit=limit)


def approved_text(content: MinutesContent, tr: Translator) -> str:
    return tr.gettext(
        "✅ {title} approvato. Lo pubblico nel gruppo del tavolo (.odt e .pdf); lo ritrovi con "
        "/verbali."
    ).format(title=html.escape(title(content, tr)))


def file_caption(content: MinutesContent, tr: Translator) -> str:
    """«Verbale n. 3/2026 — Tavolo politico, gio 10 dic 2026 (Unione Val d'Enza)»."""
    what = (
        tr.gettext("Workshop tematico del tavolo tecnico")
        if content.kind == MeetingKind.WORKSHOP
        else tr.gettext(TABLE_TITLES[content.table])
    )
    day = format_date(content.starts_at, content.tz, tr.language, year=True)
    return f"{title(content, tr)} — {what}, {day} ({content.union})"


# --- /verbali -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FiledEntry:
    meeting_id: int
    number: int
    year: int
    starts_at: datetime
    title: str


def render_filed(
    union_name: str,
    tz: ZoneInfo,
    lines: tuple[FiledEntry, ...],
    tr: Translator,
    drafts: tuple[FiledEntry, ...] = (),
) -> tuple[str, Keyboard | None]:
    """/verbali: the Union's approved minutes, newest first, a button each; `drafts` (the
    coordinator's, in private) first, each opening its correction screens."""
    _ = tr.gettext
    union = html.escape(union_name)
    if lines:
        text = "\n".join(
            (
                _("<b>Verbali approvati — {union}</b>").format(union=union),
                _("Tocca un verbale per riceverlo in privato (.odt e .pdf)."),
            )
        )
    else:
        text = _(
            "Non ci sono ancora verbali approvati per {union}. Dopo ogni riunione chi "
            "coordina riceve la bozza da correggere e approvare."
        ).format(union=union)
    if drafts:
        text += "\n" + _("✏️ Le bozze aspettano le tue correzioni: toccane una per aprirla.")
    opened = [
        _button(
            _short(_("✏️ Bozza · {day} · {title}").format(day=_day(d, tz, tr), title=d.title)),
            SCREEN,
            d.meeting_id,
            MAIN,
        )
        for d in drafts[:10]
    ]
    buttons = [
        _button(
            _short(f"n. {line.number}/{line.year} · {_day(line, tz, tr)} · {line.title}"),
            FILES,
            line.meeting_id,
        )
        for line in lines[:50]
    ]
    return text, Keyboard.column([*opened, *buttons])


def _day(entry: FiledEntry, tz: ZoneInfo, tr: Translator) -> str:
    return format_date(entry.starts_at, tz, tr.language, year=True)


def files_sent(tr: Translator) -> str:
    return tr.gettext("Ti mando il verbale in privato.")


def files_cannot_reach(tr: Translator) -> str:
    return tr.gettext(
        "Non riesco a scriverti in privato: apri la chat con me, premi «Avvia» e poi tocca di "
        "nuovo il verbale."
    )
