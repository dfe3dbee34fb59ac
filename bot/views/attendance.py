"""A meeting's attendance (presenze) as people read it: the list in the table's group with its
check-in buttons, the coordinator's roster in private (one tap per person), the guest dialogue,
and what a refused press is told.

Buttons (callback data `att:verb:id[:arg]`, ids only; the handlers re-check everything):

    att:in:<meeting>:p|o        «✅ Sono presente» (in presenza) / «💻 Sono online», in the group
    att:manage:<meeting>        «⚙️ Gestisci presenze»: the roster, in private (coordinator);
                                also «⚙️ Presenze e workshop — <date>» under /calendario
    att:tap:<meeting>:<member>  one tap on a person of the roster: assente → in presenza →
                                online → assente (private)
    att:guest:<meeting>         «➕ Aggiungi un ospite»: the guest dialogue (private)
    att:nonorg:<meeting>        «Nessuna organizzazione», the dialogue's second step (private)
    att:gmode:<guest>           a guest's line: in presenza ↔ online (private)
    att:gdel:<guest>            «🗑» beside a guest: removed (private)
    att:ws:<meeting>            «🎓 Rendi workshop tematico» / «🎓 Cambia il tema»: the theme
                                dialogue (private; a meeting of the technical table)
    att:nows:<meeting>          «↩️ Non è un workshop»: an ordinary meeting again (private)
    att:mat:<meeting>           «📎 Aggiungi materiali»: the documents' dialogue (private)
    att:matend:<meeting>        «✅ Fine»: the documents' dialogue ends (private)
    att:matdel:<material>       «🗑 <file>»: a document off the materials (private)
    att:get:<meeting>           «📎 Ricevi i materiali» under the group's list: the documents
                                in private (the table's members and the coordinator)

Link that opens the roster in private (when the bot cannot write first):
`t.me/<bot>?start=pr-<meeting>` (bot.services.meetings.attendance.start_link); the materials:
`t.me/<bot>?start=pm-<meeting>` (the same).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import callback_data as cb
from bot.i18n import N_, Translator, format_datetime
from bot.views.keyboard import Button, Keyboard
from bot.views.meetings import NOT_A_MEMBER, TABLE_NAMES
from bot.views.registration.refusals import NameProblem, name_problem_text
from storage.models import AttendanceMode, Meeting

ATT_AREA = "att"
CHECK_IN = "in"
MANAGE = "manage"
TAP = "tap"
GUEST = "guest"
NO_ORGANISATION = "nonorg"
GUEST_MODE = "gmode"
GUEST_REMOVE = "gdel"
WORKSHOP = "ws"
NOT_WORKSHOP = "nows"
MATERIALS = "mat"
MATERIALS_DONE = "matend"
MATERIAL_REMOVE = "matdel"
GET_MATERIALS = "get"
MODE_CODES = {"p": AttendanceMode.IN_PERSON, "o": AttendanceMode.ONLINE}
_CODE_OF = {mode: code for code, mode in MODE_CODES.items()}
MODE_ICONS = {AttendanceMode.IN_PERSON: "✅", AttendanceMode.ONLINE: "💻"}
ABSENT_ICON = "▫️"
MODE_NAMES = {AttendanceMode.IN_PERSON: N_("in presenza"), AttendanceMode.ONLINE: N_("online")}
GUEST_NAME_MAX = 120
GUEST_ORGANISATION_MAX = 200
THEME_MAX = 200  # meeting_record.theme
MATERIAL_NAME_MAX = 200  # meeting_material.file_name


@dataclass(frozen=True)
class Person:
    """Someone at the meeting's table: their name, Comuni and how they attend (None: absent)."""

    member_id: int
    name: str
    comuni: tuple[str, ...]
    mode: AttendanceMode | None


@dataclass(frozen=True)
class Guest:
    guest_id: int
    name: str
    organisation: str | None
    mode: AttendanceMode


@dataclass(frozen=True)
class Material:
    material_id: int
    name: str


@dataclass(frozen=True)
class AttendanceView:
    """A meeting's attendance as it stands: the table's people, the guests, and the Comuni
    represented as the coverage rule counts them (bot.services.meetings.rules)."""

    meeting: Meeting
    tz: ZoneInfo
    people: tuple[Person, ...]
    guests: tuple[Guest, ...]
    represented: tuple[str, ...]  # names of the Comuni represented
    missing: tuple[str, ...]  # names of the Comuni not (yet) represented
    closes_at: datetime
    theme: str | None = None  # a thematic workshop's theme
    workshop_allowed: bool = False  # a meeting of the technical table may be one
    materials: tuple[Material, ...] = ()  # a workshop's documents


def _when(view: AttendanceView, tr: Translator) -> str:
    return format_datetime(view.meeting.starts_at, view.tz, tr.language)


def _guest_line(guest: Guest) -> str:
    name = html.escape(guest.name)
    return f"{name} ({html.escape(guest.organisation)})" if guest.organisation else name


def _theme(view: AttendanceView, tr: Translator) -> list[str]:
    if view.theme is None:
        return []
    lines = ["🎓 " + tr.gettext("Workshop tematico: {theme}").format(theme=html.escape(view.theme))]
    if view.materials:
        names = ", ".join(html.escape(m.name) for m in view.materials)
        lines.append(
            tr.gettext("📎 Materiali ({n}): {names}").format(n=len(view.materials), names=names)
        )
    return lines


def _summary(view: AttendanceView, tr: Translator) -> list[str]:
    """Comuni represented, then who is present by mode, then the guests."""
    _ = tr.gettext
    total = len(view.represented) + len(view.missing)
    lines = [
        _("Comuni rappresentati: {n} su {total}").format(n=len(view.represented), total=total)
        + (f" — {html.escape(', '.join(view.represented))}" if view.represented else "")
    ]
    if view.missing:
        lines.append(
            _("Non ancora rappresentati: {comuni}").format(
                comuni=html.escape(", ".join(view.missing))
            )
        )
    for mode in (AttendanceMode.IN_PERSON, AttendanceMode.ONLINE):
        names = [html.escape(p.name) for p in view.people if p.mode == mode]
        if names:
            label = _("In presenza") if mode == AttendanceMode.IN_PERSON else _("Online")
            lines.append(f"{MODE_ICONS[mode]} {label} ({len(names)}): {', '.join(names)}")
    if view.guests:
        lines.append(
            _("👥 Ospiti ({n}): {names}").format(
                n=len(view.guests), names=", ".join(_guest_line(g) for g in view.guests)
            )
        )
    return lines


def render_list(view: AttendanceView, tr: Translator) -> tuple[str, Keyboard | None]:
    """The list in the table's group, with the check-in buttons and «⚙️ Gestisci presenze»."""
    _ = tr.gettext
    meeting = view.meeting
    lines = [
        _("📋 <b>Presenze</b> — {title}").format(title=html.escape(meeting.title)),
        _("{when}, {table}").format(when=_when(view, tr), table=_(TABLE_NAMES[meeting.table])),
        *_theme(view, tr),
        _(
            "Chi partecipa prema «✅ Sono presente» (in presenza) o «💻 Sono online»: "
            "si può fino alla fine della giornata."
        ),
        "",
        *_summary(view, tr),
    ]
    keyboard = Keyboard.of(
        [
            Button(
                _("✅ Sono presente"),
                cb.encode(ATT_AREA, CHECK_IN, meeting.id, _CODE_OF[AttendanceMode.IN_PERSON]),
            ),
            Button(
                _("💻 Sono online"),
                cb.encode(ATT_AREA, CHECK_IN, meeting.id, _CODE_OF[AttendanceMode.ONLINE]),
            ),
        ],
        [Button(_("⚙️ Gestisci presenze"), cb.encode(ATT_AREA, MANAGE, meeting.id))],
        [Button(_("📎 Ricevi i materiali"), cb.encode(ATT_AREA, GET_MATERIALS, meeting.id))]
        if view.theme is not None and view.materials
        else [],
    )
    return "\n".join(lines), keyboard


def render_roster(view: AttendanceView, tr: Translator) -> tuple[str, Keyboard | None]:
    """The coordinator's roster in private: one button per person, one tap changes them."""
    _ = tr.gettext
    meeting = view.meeting
    lines = [
        _("📋 <b>Presenze</b> — {title}, {when}").format(
            title=html.escape(meeting.title), when=_when(view, tr)
        ),
        *_theme(view, tr),
        _(
            "Tocca una persona per cambiarla: assente ▫️ → in presenza ✅ → online 💻 → assente. "
            "Ogni tocco si salva subito."
        ),
        "",
        *_summary(view, tr),
    ]
    rows: list[list[Button]] = []
    for person in view.people:
        icon = MODE_ICONS[person.mode] if person.mode else ABSENT_ICON
        comuni = f" ({', '.join(person.comuni)})" if person.comuni else ""
        rows.append(
            [
                Button(
                    f"{icon} {person.name}{comuni}",
                    cb.encode(ATT_AREA, TAP, meeting.id, person.member_id),
                )
            ]
        )
    for guest in view.guests:
        label = f"{guest.name} ({guest.organisation})" if guest.organisation else guest.name
        rows.append(
            [
                Button(
                    f"{MODE_ICONS[guest.mode]} {label}",
                    cb.encode(ATT_AREA, GUEST_MODE, guest.guest_id),
                ),
                Button("🗑", cb.encode(ATT_AREA, GUEST_REMOVE, guest.guest_id)),
            ]
        )
    rows.append([Button(_("➕ Aggiungi un ospite"), cb.encode(ATT_AREA, GUEST, meeting.id))])
    if view.theme is not None:
        rows += [
            [Button("🗑 " + m.name[:40], cb.encode(ATT_AREA, MATERIAL_REMOVE, m.material_id))]
            for m in view.materials
        ]
        rows.append(
            [Button(_("📎 Aggiungi materiali"), cb.encode(ATT_AREA, MATERIALS, meeting.id))]
        )
        rows.append(
            [
                Button(_("🎓 Cambia il tema"), cb.encode(ATT_AREA, WORKSHOP, meeting.id)),
                Button(_("↩️ Non è un workshop"), cb.encode(ATT_AREA, NOT_WORKSHOP, meeting.id)),
            ]
        )
    elif view.workshop_allowed:
        label = _("🎓 Rendi workshop tematico")
        rows.append([Button(label, cb.encode(ATT_AREA, WORKSHOP, meeting.id))])
    return "\n".join(lines), Keyboard.of(*rows)


MANAGED_AHEAD = 10  # /calendario's roster buttons: the next meetings only


def manage_buttons(meetings: Sequence[Meeting], tz: ZoneInfo, tr: Translator) -> Keyboard | None:
    """/calendario, for the coordinator in private: a meeting's roster (presenze, ospiti,
    workshop) before its list is posted, one button per meeting ahead."""
    label = tr.gettext("⚙️ Presenze e workshop — {date}")
    return Keyboard.column(
        Button(
            label.format(date=format_datetime(m.starts_at, tz, tr.language)),
            cb.encode(ATT_AREA, MANAGE, m.id),
        )
        for m in meetings[:MANAGED_AHEAD]
    )


def checked_in(mode: AttendanceMode, changed: bool, tr: Translator) -> str:
    """The toast of a check-in."""
    _ = tr.gettext
    if not changed:
        return _("Avevi già confermato: partecipi {mode}.").format(mode=_(MODE_NAMES[mode]))
    return _("Registrato: partecipi {mode}. Grazie!").format(mode=_(MODE_NAMES[mode]))


def roster_sent(tr: Translator) -> str:
    return tr.gettext("Ti ho scritto in privato: lì correggi le presenze.")


def tapped(name: str, mode: AttendanceMode | None, tr: Translator) -> str:
    """The toast of a tap on the roster."""
    _ = tr.gettext
    if mode is None:
        return _("{name}: assente.").format(name=name)
    return _("{name}: {mode}.").format(name=name, mode=_(MODE_NAMES[mode]))


def guest_mode_toast(mode: AttendanceMode, tr: Translator) -> str:
    return tr.gettext("Ospite: {mode}.").format(mode=tr.gettext(MODE_NAMES[mode]))


def guest_removed(tr: Translator) -> str:
    return tr.gettext("Ospite tolto dall'elenco.")


def ask_guest_name(title: str, tr: Translator) -> str:
    return tr.gettext(
        "➕ Ospite della riunione «{title}».\nScrivimi il suo nome e cognome (è una persona "
        "che non fa parte del Team energia)."
    ).format(title=html.escape(title))


def ask_guest_organisation(name: str, meeting_id: int, tr: Translator) -> tuple[str, Keyboard]:
    _ = tr.gettext
    text = _(
        "Di quale ente o organizzazione fa parte {name}? Scrivimelo, oppure premi il pulsante."
    ).format(name=html.escape(name))
    keyboard = Keyboard.of(
        [Button(_("Nessuna organizzazione"), cb.encode(ATT_AREA, NO_ORGANISATION, meeting_id))]
    )
    assert keyboard is not None
    return text, keyboard


def guest_added(name: str, tr: Translator) -> str:
    return tr.gettext("Fatto: {name} è tra gli ospiti, in presenza.").format(name=html.escape(name))


def guest_text_problem(problem: NameProblem, *, maximum: int, tr: Translator) -> str:
    return name_problem_text(problem, tr, maximum=maximum) + " " + tr.gettext("Riscrivilo.")


def ask_theme(title: str, theme: str | None, tr: Translator) -> str:
    _ = tr.gettext
    text = _("🎓 «{title}» come workshop tematico del tavolo tecnico.").format(
        title=html.escape(title)
    )
    if theme is not None:
        text += "\n" + _("Il tema ora è: {theme}").format(theme=html.escape(theme))
    return text + "\n" + _("Scrivimi il tema del workshop, in una riga.")


def theme_set(theme: str, tr: Translator) -> str:
    return tr.gettext("Fatto: è un workshop tematico su «{theme}».").format(
        theme=html.escape(theme)
    )


def theme_cleared(tr: Translator) -> str:
    return tr.gettext("Fatto: è di nuovo una riunione ordinaria.")


def material_name(raw: str | None, tr: Translator) -> str:
    """A document's name as kept: one line, at most MATERIAL_NAME_MAX characters."""
    return " ".join((raw or "").split())[:MATERIAL_NAME_MAX] or tr.gettext("documento")


def _done(meeting_id: int, tr: Translator) -> Keyboard:
    keyboard = Keyboard.of(
        [Button(tr.gettext("✅ Fine"), cb.encode(ATT_AREA, MATERIALS_DONE, meeting_id))]
    )
    assert keyboard is not None
    return keyboard


def ask_materials(title: str, meeting_id: int, tr: Translator) -> tuple[str, Keyboard]:
    text = tr.gettext(
        "📎 Materiali del workshop «{title}».\nMandami i documenti (presentazioni, PDF…) come "
        "file, uno o più: li conservo e li mando a chi del tavolo li chiede. Quando hai "
        "finito premi «✅ Fine»."
    ).format(title=html.escape(title))
    return text, _done(meeting_id, tr)


def material_saved(name: str, count: int, meeting_id: int, tr: Translator) -> tuple[str, Keyboard]:
    text = tr.ngettext(
        "📎 Conservato: {name} ({n} documento in tutto). Mandane altri o premi «✅ Fine».",
        "📎 Conservato: {name} ({n} documenti in tutto). Mandane altri o premi «✅ Fine».",
        count,
    ).format(name=html.escape(name), n=count)
    return text, _done(meeting_id, tr)


def material_expected(meeting_id: int, tr: Translator) -> tuple[str, Keyboard]:
    text = tr.gettext(
        "Qui aspetto i documenti del workshop: mandali come file (📎), oppure premi «✅ Fine»."
    )
    return text, _done(meeting_id, tr)


def material_removed(tr: Translator) -> str:
    return tr.gettext("Documento tolto dai materiali.")


def materials_sent(tr: Translator) -> str:
    return tr.gettext("Ti ho mandato i materiali in privato.")


# Why a press is refused (bot.services.meetings.attendance.AttendanceRefused.reason).
REFUSALS = {
    "gone": N_("Questa riunione non c'è più (forse è stata annullata)."),
    "not_member": NOT_A_MEMBER,
    "not_at_table": N_(
        "Questa riunione è del {table}: le presenze le segna chi siede a quel tavolo. "
        "Se c'eri, chiedi a chi coordina l'Unione di aggiungerti."
    ),
    "not_open": N_(
        "Le presenze si aprono mezz'ora prima dell'inizio: premi di nuovo dalle {time}."
    ),
    "closed": N_(
        "Le presenze si sono chiuse a fine giornata: se c'eri, chiedi a chi coordina l'Unione "
        "di aggiungerti."
    ),
    "not_coordinator": N_(
        "Le presenze le corregge chi coordina l'Unione: per te basta «✅ Sono presente»."
    ),
    "minutes_approved": N_(
        "Il verbale di questa riunione è già approvato: le presenze e gli ospiti non si "
        "correggono più. Lo ritrovi con /verbali."
    ),
    "elsewhere": N_("Qui questo pulsante non funziona: usa quello del messaggio delle presenze."),
    "private_only": N_("Le presenze si correggono in chat privata con me."),
    "too_many_guests": N_("Ci sono già {n} ospiti: non se ne possono aggiungere altri."),
    "not_workshop": N_(
        "I materiali sono dei workshop tematici: prima rendi la riunione un workshop con "
        "«🎓 Rendi workshop tematico»."
    ),
    "too_many_materials": N_(
        "Ci sono già {n} documenti: togline uno con «🗑» prima di aggiungerne altri."
    ),
    "no_materials": N_("Per questo workshop non ci sono ancora materiali."),
    "not_technical": N_(
        "I workshop tematici sono del tavolo tecnico: questa riunione è del tavolo politico."
    ),
}


def refusal_text(
    reason: str,
    tr: Translator,
    *,
    table: str | None = None,
    opens_at: datetime | None = None,
    tz: ZoneInfo | None = None,
    limit: int = 0,
) -> str:
    _ = tr.gettext
    text = _(REFUSALS.get(reason, REFUSALS["gone"]))
    if reason == "not_at_table" and table is not None:
        return text.format(table=_(table))
    if reason == "not_open" and opens_at is not None and tz is not None:
        return text.format(time=format_datetime(opens_at, tz, tr.language))
    if reason in ("too_many_guests", "too_many_materials"):
        return text.format(n=limit)
    return text


def private_only(tr: Translator) -> str:
    return refusal_text("private_only", tr)
