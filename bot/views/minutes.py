"""The minutes (verbale) of a meeting: its content as plain data, and the documents written from it.

`MinutesContent` is everything the minutes say — the Union, the table, the kind and theme, the
date, the place or link, who was present and who absent by Comune (the Comuni the coverage rule
counts), the guests, each agenda item with its outcome, the tasks agreed, the coordinator's notes
and, once approved, the number in the Union's year. It is built from the database while the
minutes are a draft and frozen as JSON at approval (`to_json` / `from_json`, Minutes.frozen), so
the documents are written again identically whenever they are asked for.

The documents: an OpenDocument text (.odt, odfpy), which a municipal office files and edits, and a
PDF (fpdf2, in DejaVu Sans shipped with matplotlib: its core fonts are latin-1 and have no «€»,
«—» or «’»). Both are written from one list of blocks (`blocks`), so they say the same thing;
writing them is CPU work for a thread (`asyncio.to_thread`), never for the event loop.
docs/DESIGN.md, "The meeting itself: minutes".
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import N_, Translator, format_date
from bot.views.names import FORMER_MEMBER_WORD
from bot.views.roles import role_label
from storage.models import Form, ItemOutcome, MeetingKind, PollTable, Role

# The frozen JSON's shape; a change of shape bumps it and from_json reads the old ones too.
FORMAT_VERSION = 1

TABLE_TITLES = {
    PollTable.POLITICAL: N_("Tavolo politico"),
    PollTable.TECHNICAL: N_("Tavolo tecnico"),
    PollTable.BOTH: N_("Tavolo politico e tecnico insieme"),
}
OUTCOME_NAMES = {
    ItemOutcome.DECIDED: N_("Decisa"),
    ItemOutcome.APPROVED: N_("Approvata"),
    ItemOutcome.REJECTED: N_("Respinta"),
    ItemOutcome.POSTPONED: N_("Rinviata"),
    ItemOutcome.INFORMATION: N_("Per informazione"),
}


@dataclass(frozen=True)
class MinutesPerson:
    """A member named in the minutes. `name` None: the person left with /cancellami, and every
    reader reads «ex membro» in their language (docs/DESIGN.md, "Privacy and erasure")."""

    member_id: int
    name: str | None
    role: Role
    form: Form | None = None
    online: bool = False  # present online rather than in person


@dataclass(frozen=True)
class ComuneAttendance:
    """One Comune's line: who of its members was present, who absent. `comune` None: the
    Union's staff, who follow no Comune."""

    comune: str | None
    present: tuple[MinutesPerson, ...]
    absent: tuple[MinutesPerson, ...]


@dataclass(frozen=True)
class MinutesGuest:
    name: str
    organisation: str | None
    online: bool = False


@dataclass(frozen=True)
class MinutesItem:
    """An agenda item and what became of it. `decision`: the decision's text from the decisions
    register when the item was decided; `note`: the coordinator's words on the outcome."""

    position: int
    text: str
    outcome: ItemOutcome | None
    decision: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class MinutesTask:
    assignee: MinutesPerson
    text: str
    due_on: date | None


@dataclass(frozen=True)
class MinutesContent:
    union: str
    table: PollTable
    kind: MeetingKind
    theme: str | None  # a workshop's theme
    title: str
    starts_at: datetime  # aware (UTC), shown in `timezone`
    ends_at: datetime
    timezone: str
    place: str | None  # a place, or the link of an online meeting
    comuni: tuple[ComuneAttendance, ...]
    guests: tuple[MinutesGuest, ...]
    items: tuple[MinutesItem, ...]
    tasks: tuple[MinutesTask, ...]
    notes: str | None
    # Set at approval.
    number: int | None = None
    year: int | None = None
    approved_at: datetime | None = None
    approved_by: MinutesPerson | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def approved(self) -> bool:
        return self.number is not None

    def represented(self) -> tuple[str, ...]:
        """The Comuni with a member present: those the coverage rule counts."""
        return tuple(c.comune for c in self.comuni if c.comune is not None and c.present)

    def counted_comuni(self) -> int:
        return sum(1 for c in self.comuni if c.comune is not None)

    def member_ids(self) -> frozenset[int]:
        """The members the minutes name: present, absent, given a task, approving."""
        people = [p for c in self.comuni for p in (*c.present, *c.absent)]
        people += [t.assignee for t in self.tasks]
        people += [self.approved_by] if self.approved_by else []
        return frozenset(p.member_id for p in people)

    def without(self, member_id: int) -> MinutesContent:
        """The same minutes with that member's name gone («ex membro»): what an erasure leaves."""
        return _map_people(self, lambda p: p if p.member_id != member_id else _nameless(p))


def _nameless(person: MinutesPerson) -> MinutesPerson:
    return MinutesPerson(person.member_id, None, person.role, None, person.online)


def _map_people(
    content: MinutesContent, f: Callable[[MinutesPerson], MinutesPerson]
) -> MinutesContent:
    comuni = tuple(
        ComuneAttendance(c.comune, tuple(map(f, c.present)), tuple(map(f, c.absent)))
        for c in content.comuni
    )
    tasks = tuple(MinutesTask(f(t.assignee), t.text, t.due_on) for t in content.tasks)
    by = f(content.approved_by) if content.approved_by else None
    return replace(content, comuni=comuni, tasks=tasks, approved_by=by)


# --- the frozen JSON ------------------------------------------------------------------------


def to_json(content: MinutesContent) -> str:
    """The content as JSON (Minutes.frozen): dates as ISO text, enums as their values."""
    return json.dumps(
        {"version": FORMAT_VERSION, **asdict(content)},
        default=_json_value,
        ensure_ascii=False,
        sort_keys=True,
    )


def _json_value(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _person(raw: dict[str, Any]) -> MinutesPerson:
    form = raw.get("form")
    return MinutesPerson(
        member_id=raw["member_id"],
        name=raw["name"],
        role=Role(raw["role"]),
        form=Form(form) if form else None,
        online=raw.get("online", False),
    )


def from_json(text: str) -> MinutesContent:
    raw = json.loads(text)
    if raw.pop("version", None) != FORMAT_VERSION:
        raise ValueError("unknown minutes format")
    approved_at, approved_by = raw.get("approved_at"), raw.get("approved_by")
    return MinutesContent(
        union=raw["union"],
        table=PollTable(raw["table"]),
        kind=MeetingKind(raw["kind"]),
        theme=raw["theme"],
        title=raw["title"],
        starts_at=datetime.fromisoformat(raw["starts_at"]),
        ends_at=datetime.fromisoformat(raw["ends_at"]),
        timezone=raw["timezone"],
        place=raw["place"],
        comuni=tuple(
            ComuneAttendance(
                c["comune"],
                tuple(_person(p) for p in c["present"]),
                tuple(_person(p) for p in c["absent"]),
            )
            for c in raw["comuni"]
        ),
        guests=tuple(MinutesGuest(**g) for g in raw["guests"]),
        items=tuple(
            MinutesItem(
                position=i["position"],
                text=i["text"],
                outcome=ItemOutcome(i["outcome"]) if i["outcome"] else None,
                decision=i["decision"],
                note=i["note"],
            )
            for i in raw["items"]
        ),
        tasks=tuple(
            MinutesTask(
                _person(t["assignee"]),
                t["text"],
                date.fromisoformat(t["due_on"]) if t["due_on"] else None,
            )
            for t in raw["tasks"]
        ),
        notes=raw["notes"],
        number=raw["number"],
        year=raw["year"],
        approved_at=datetime.fromisoformat(approved_at) if approved_at else None,
        approved_by=_person(approved_by) if approved_by else None,
    )


# --- what the minutes say, as blocks --------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    label: str | None = None  # a bold label before the text («Data:»)


@dataclass(frozen=True)
class Table:
    name: str  # the table's name in the .odt (tests and offices find it by this)
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...]  # relative column widths


Block = Heading | Paragraph | Table

# Tables' names in the .odt: stable, not translated, so a reader (and the tests) find them.
ATTENDANCE_TABLE = "Presenze"
GUESTS_TABLE = "Ospiti"
AGENDA_TABLE = "OrdineDelGiorno"
DECISIONS_TABLE = "Decisioni"
TASKS_TABLE = "Compiti"


def person_label(person: MinutesPerson, tr: Translator) -> str:
    """«Anna Rossi (Sindaca)», «ex membro (Sindaco)», with «, online» when so."""
    name = person.name if person.name is not None else tr.gettext(FORMER_MEMBER_WORD)
    role = role_label(person.role, tr, person.form)
    if person.online:
        return tr.gettext("{name} ({role}, online)").format(name=name, role=role)
    return tr.gettext("{name} ({role})").format(name=name, role=role)


def title(content: MinutesContent, tr: Translator) -> str:
    _ = tr.gettext
    if content.approved:
        return _("Verbale n. {number}/{year}").format(number=content.number, year=content.year)
    return _("Bozza di verbale")


def _date_line(content: MinutesContent, tr: Translator) -> str:
    tz = content.tz
    start, end = content.starts_at.astimezone(tz), content.ends_at.astimezone(tz)
    day = format_date(content.starts_at, tz, tr.language, year=True)
    return tr.gettext("{day}, dalle {start} alle {end}").format(
        day=day, start=f"{start:%H:%M}", end=f"{end:%H:%M}"
    )


def _is_link(place: str) -> bool:
    return place.lower().startswith(("http://", "https://"))


def _meeting_lines(content: MinutesContent, tr: Translator) -> list[Block]:
    _ = tr.gettext
    what = (
        _("Workshop tematico del tavolo tecnico")
        if content.kind == MeetingKind.WORKSHOP
        else _(TABLE_TITLES[content.table])
    )
    lines: list[Block] = [
        Paragraph(content.union, _("Unione:")),
        Paragraph(what, _("Riunione:")),
    ]
    if content.theme:
        lines.append(Paragraph(content.theme, _("Tema:")))
    lines.append(Paragraph(content.title, _("Titolo:")))
    lines.append(Paragraph(_date_line(content, tr), _("Data:")))
    if content.place:
        label = _("Collegamento:") if _is_link(content.place) else _("Luogo:")
        lines.append(Paragraph(content.place, label))
    return lines


def _names(people: tuple[MinutesPerson, ...], tr: Translator) -> str:
    return "\n".join(person_label(p, tr) for p in people) or "—"


def _attendance(content: MinutesContent, tr: Translator) -> list[Block]:
    _ = tr.gettext
    rows = tuple(
        (
            c.comune if c.comune is not None else _("Personale dell'Unione"),
            _names(c.present, tr),
            _names(c.absent, tr),
        )
        for c in content.comuni
    )
    represented = content.represented()
    summary = _("{n} su {total}").format(n=len(represented), total=content.counted_comuni())
    if represented:
        summary += ": " + ", ".join(represented)
    blocks: list[Block] = [
        Heading(_("Presenze")),
        Table(ATTENDANCE_TABLE, (_("Comune"), _("Presenti"), _("Assenti")), rows, (2, 3, 3)),
        Paragraph(summary, _("Comuni rappresentati:")),
    ]
    if content.guests:
        guests = tuple(
            (
                g.name,
                g.organisation or "—",
                _("online") if g.online else _("in presenza"),
            )
            for g in content.guests
        )
        blocks += [
            Heading(_("Ospiti")),
            Table(GUESTS_TABLE, (_("Nome"), _("Ente"), _("Partecipazione")), guests, (3, 3, 2)),
        ]
    return blocks


def outcome_label(item: MinutesItem, tr: Translator) -> str:
    return tr.gettext(OUTCOME_NAMES[item.outcome]) if item.outcome else tr.gettext("da indicare")


def _agenda(content: MinutesContent, tr: Translator) -> list[Block]:
    _ = tr.gettext
    if not content.items:
        return [
            Heading(_("Ordine del giorno")),
            Paragraph(_("Nessun punto all'ordine del giorno.")),
        ]
    rows = tuple(
        (
            str(i.position),
            i.text,
            outcome_label(i, tr) + (f"\n{i.note}" if i.note and not _in_decisions(i) else ""),
        )
        for i in content.items
    )
    blocks: list[Block] = [
        Heading(_("Ordine del giorno")),
        Table(AGENDA_TABLE, (_("N."), _("Punto"), _("Esito")), rows, (1, 6, 3)),
    ]
    decided = tuple(
        (str(i.position), _decision_cell(i, tr))
        for i in content.items
        if i.outcome is not None and i.outcome.decides
    )
    blocks.append(Heading(_("Decisioni")))
    if decided:
        blocks.append(Table(DECISIONS_TABLE, (_("Punto"), _("Decisione")), decided, (1, 9)))
    else:
        blocks.append(Paragraph(_("Nessuna decisione in questa riunione.")))
    return blocks


def _decision_cell(item: MinutesItem, tr: Translator) -> str:
    """What was decided: the register's words, else the item's; a question of the register
    approved or rejected says which first («Approvata: …», as the draft's confirmation does)."""
    said = item.decision or item.note or item.text
    if item.outcome in (ItemOutcome.APPROVED, ItemOutcome.REJECTED):
        return f"{outcome_label(item, tr)}: {said}"
    return said


def _in_decisions(item: MinutesItem) -> bool:
    """An item's words on its outcome are the decision the «Decisioni» table shows: not
    repeated beside its outcome."""
    decides = item.outcome is not None and item.outcome.decides
    return decides and (item.decision or item.note) == item.note


def _tasks(content: MinutesContent, tr: Translator) -> list[Block]:
    _ = tr.gettext
    if not content.tasks:
        return []
    rows = tuple(
        (
            person_label(replace(t.assignee, online=False), tr),
            t.text,
            _due(t.due_on, content, tr),
        )
        for t in content.tasks
    )
    return [
        Heading(_("Compiti")),
        Table(TASKS_TABLE, (_("Chi"), _("Che cosa"), _("Entro")), rows, (3, 5, 2)),
    ]


def _due(due_on: date | None, content: MinutesContent, tr: Translator) -> str:
    if due_on is None:
        return "—"
    noon = datetime(due_on.year, due_on.month, due_on.day, 12, tzinfo=content.tz)
    return format_date(noon, content.tz, tr.language, year=True)


def _closing(content: MinutesContent, tr: Translator) -> list[Block]:
    _ = tr.gettext
    blocks: list[Block] = []
    if content.notes:
        blocks += [Heading(_("Note")), Paragraph(content.notes)]
    if content.approved and content.approved_at is not None:
        day = format_date(content.approved_at, content.tz, tr.language, year=True)
        by = person_label(content.approved_by, tr) if content.approved_by else "—"
        blocks.append(Paragraph(_("{day}, da {by}").format(day=day, by=by), _("Approvato il")))
    else:
        blocks.append(Paragraph(_("Bozza, non ancora approvata.")))
    return blocks


def blocks(content: MinutesContent, tr: Translator) -> list[Block]:
    """What the minutes say, in order: the same for the .odt, the PDF and the chat's text."""
    return [
        Heading(title(content, tr)),
        *_meeting_lines(content, tr),
        *_attendance(content, tr),
        *_agenda(content, tr),
        *_tasks(content, tr),
        *_closing(content, tr),
    ]


def file_stem(content: MinutesContent) -> str:
    """«verbale-2026-3» once approved, «bozza-verbale-2026-12-10» before: plain ASCII."""
    if content.approved:
        return f"verbale-{content.year}-{content.number}"
    local = content.starts_at.astimezone(content.tz)
    return f"bozza-verbale-{local:%Y-%m-%d}"


# --- OpenDocument text ----------------------------------------------------------------------


def write_odt(content: MinutesContent, tr: Translator) -> bytes:
    """The minutes as an OpenDocument text. CPU work: call it in a thread."""
    from odf import opendocument, style, table, teletype, text

    doc = opendocument.OpenDocumentText()
    heading = style.Style(name="Heading", family="paragraph")
    heading.addElement(style.TextProperties(fontsize="14pt", fontweight="bold"))
    heading.addElement(style.ParagraphProperties(margintop="0.3cm", marginbottom="0.15cm"))
    doc.styles.addElement(heading)
    bold = style.Style(name="Bold", family="text")
    bold.addElement(style.TextProperties(fontweight="bold"))
    doc.styles.addElement(bold)
    cell = style.Style(name="Cell", family="table-cell")
    cell.addElement(style.TableCellProperties(border="0.5pt solid #000000", padding="0.1cm"))
    doc.automaticstyles.addElement(cell)

    def paragraph(value: str, label: str | None = None) -> Any:
        p = text.P()
        if label:
            p.addElement(text.Span(stylename=bold, text=label + " "))
        teletype.addTextToElement(p, value)
        return p

    for block in blocks(content, tr):
        if isinstance(block, Heading):
            doc.text.addElement(text.H(outlinelevel=1, stylename=heading, text=block.text))
        elif isinstance(block, Paragraph):
            doc.text.addElement(paragraph(block.text, block.label))
        else:
            t = table.Table(name=block.name)
            for width in block.widths:
                column = style.Style(name=f"{block.name}.{width}", family="table-column")
                column.addElement(style.TableColumnProperties(relcolumnwidth=f"{width}*"))
                doc.automaticstyles.addElement(column)
                t.addElement(table.TableColumn(stylename=column))
            for i, row in enumerate((block.header, *block.rows)):
                r = table.TableRow()
                for value in row:
                    c = table.TableCell(stylename=cell, valuetype="string")
                    for line in value.split("\n"):
                        p = text.P()
                        if i == 0:
                            p.addElement(text.Span(stylename=bold, text=line))
                        else:
                            teletype.addTextToElement(p, line)
                        c.addElement(p)
                    r.addElement(c)
                t.addElement(r)
            doc.text.addElement(t)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


# --- PDF --------------------------------------------------------------------------------------


def _font_file(name: str) -> str:
    """A DejaVu font shipped with matplotlib (a runtime dependency already)."""
    return str(files("matplotlib").joinpath("mpl-data", "fonts", "ttf", name))


def write_pdf(content: MinutesContent, tr: Translator) -> bytes:
    """The minutes as a PDF, A4. CPU work: call it in a thread."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", _font_file("DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", _font_file("DejaVuSans-Bold.ttf"))
    pdf.set_title(title(content, tr))
    pdf.set_creator("Team energia")
    # The same content writes the same file: the date is the meeting's or the approval's.
    pdf.set_creation_date(content.approved_at or content.starts_at)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    for block in blocks(content, tr):
        if isinstance(block, Heading):
            pdf.ln(3)
            pdf.set_font("DejaVu", "B", 14)
            pdf.multi_cell(0, 8, block.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif isinstance(block, Paragraph):
            if block.label:
                pdf.set_font("DejaVu", "B", 10)
                pdf.write(5.5, block.label + " ")
            pdf.set_font("DejaVu", "", 10)
            pdf.write(5.5, block.text)
            pdf.ln(6)
        else:
            pdf.set_font("DejaVu", "", 9)
            with pdf.table(
                col_widths=block.widths,
                text_align="LEFT",
                headings_style=FontFace(emphasis="BOLD"),
                line_height=5,
            ) as t:
                for row in (block.header, *block.rows):
                    cells = t.row()
                    for value in row:
                        cells.cell(value)
            pdf.ln(2)
    return bytes(pdf.output())


# --- the draft in the chat -------------------------------------------------------------------


_CELL_SHOWN = 300  # a table's cell in the chat's copy: the files keep it whole


def _cell(value: str) -> str:
    one_line = value.replace("\n", ", ")
    return one_line if len(one_line) <= _CELL_SHOWN else one_line[: _CELL_SHOWN - 1] + "…"


def minutes_text(content: MinutesContent, tr: Translator) -> str:
    """The minutes as a chat message (HTML): the same blocks, a table's rows as a list."""
    lines: list[str] = []
    for block in blocks(content, tr):
        if isinstance(block, Heading):
            lines.append(f"\n<b>{html.escape(block.text)}</b>")
        elif isinstance(block, Paragraph):
            label = f"<b>{html.escape(block.label)}</b> " if block.label else ""
            lines.append(label + html.escape(block.text))
        else:
            labels = [html.escape(h) for h in block.header[1:]]
            for row in block.rows:
                first, *rest = (html.escape(_cell(v)) for v in row)
                pairs = " · ".join(f"{h}: {v}" for h, v in zip(labels, rest, strict=True))
                lines.append(f"• <b>{first}</b> — {pairs}")
    return "\n".join(lines).strip()
