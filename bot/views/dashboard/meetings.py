"""The Mini App's pages on meetings, decisions and the press note."""

from __future__ import annotations

from bot.i18n import N_, Translator
from bot.views.dashboard.html import day, e, iso, listing, shown, when
from bot.views.dashboard.links import AppLinks
from bot.views.dashboard.model import (
    Calendar,
    DecisionItem,
    DecisionsPage,
    MeetingItem,
    Viewer,
)
from bot.views.dashboard.pages import page
from storage.models import DecisionStatus, PollTable

TABLE_LABELS = {
    PollTable.POLITICAL: N_("Tavolo politico"),
    PollTable.TECHNICAL: N_("Tavolo tecnico"),
    PollTable.BOTH: N_("Tavolo politico e tecnico insieme"),
}
DECISION_LABELS = {
    DecisionStatus.OPEN: N_("In votazione"),
    DecisionStatus.APPROVED: N_("Approvata"),
    DecisionStatus.REJECTED: N_("Respinta"),
    DecisionStatus.POSTPONED: N_("Rinviata"),
    DecisionStatus.DONE: N_("Attuata"),
}
CHOICE_LABELS = {"approve": N_("Approva"), "reject": N_("Respingi"), "postpone": N_("Rinvia")}


# --- meetings -------------------------------------------------------------------------------


def _meeting(m: MeetingItem, v: Viewer, tr: Translator) -> str:
    _ = tr.gettext
    parts = [
        f'<li><h3><time datetime="{e(iso(m.starts_at))}">'
        f"{e(when(m.starts_at, v.timezone, tr.language))}</time> — {e(m.title)}</h3>",
        f'<p class="muted">{e(_(TABLE_LABELS[m.table]))}'
        + (f" · {e(m.place)}" if m.place else "")
        + "</p>",
    ]
    # Agenda now; the minutes (another issue) will come as a second block here.
    if m.agenda:
        parts.append(
            f"<details><summary>{e(_('Ordine del giorno'))}</summary>"
            f'<div class="agenda">{e(m.agenda)}</div></details>'
        )
    return "".join(parts) + "</li>"


def meetings_page(c: Calendar, tr: Translator, links: AppLinks) -> str:
    _ = tr.gettext
    v = c.viewer
    parts = [
        f"<h1>{e(_('Riunioni'))}</h1>",
        f"<h2>{e(_('In programma'))}</h2>",
        listing((_meeting(m, v, tr) for m in c.upcoming), _("Nessuna riunione fissata.")),
        f"<h2>{e(_('Passate'))}</h2>",
        listing((_meeting(m, v, tr) for m in c.past), _("Ancora nessuna.")),
    ]
    return page(
        v,
        tr,
        links,
        current="meetings",
        title=_("Riunioni"),
        main="".join(parts),
        back=links.union(v.union_id),
    )


# --- decisions ------------------------------------------------------------------------------


def _decision(d: DecisionItem, v: Viewer, tr: Translator, comuni_voting: int) -> str:
    _ = tr.gettext
    lang = tr.language
    where = " · ".join(x for x in (d.comune, d.action_code) if x)
    head = f'<p class="note"><strong>{e(d.text)}</strong></p>'
    meta = [e(_(DECISION_LABELS[d.status]))]
    moment = d.closed_at or d.created_at
    meta.append(f'<time datetime="{e(iso(moment))}">{e(day(moment, v.timezone, lang))}</time>')
    if where:
        meta.append(e(where))
    if d.asked_by is not None:
        meta.append(e(_("posta da {name}").format(name=shown(d.asked_by, tr))))
    body = [head, f'<p class="muted">{" · ".join(meta)}</p>']
    if d.status == DecisionStatus.OPEN:
        body.append(
            "<p>"
            + e(
                tr.ngettext(
                    "Ha votato {n} Comune su {total}.",
                    "Hanno votato {n} Comuni su {total}.",
                    len(d.votes),
                ).format(n=len(d.votes), total=comuni_voting)
            )
            + "</p>"
        )
        if d.votes:
            body.append(
                '<ul class="muted">'
                + "".join(
                    f"<li>{e(vote.comune)}: {e(_(CHOICE_LABELS.get(vote.choice, vote.choice)))}</li>"
                    for vote in d.votes
                )
                + "</ul>"
            )
    elif d.outcome_text:
        body.append(f'<p class="muted">{e(d.outcome_text)}</p>')
    return "<li>" + "".join(body) + "</li>"


def decisions_page(p: DecisionsPage, tr: Translator, links: AppLinks) -> str:
    _ = tr.gettext
    v = p.viewer
    parts = [
        f"<h1>{e(_('Decisioni'))}</h1>",
        f"<h2>{e(_('Questioni per il tavolo politico'))}</h2>",
        listing(
            (_decision(d, v, tr, p.comuni_voting) for d in p.open_questions),
            _("Nessuna questione aperta."),
        ),
        f"<h2>{e(_('Registro delle decisioni'))}</h2>",
        listing(
            (_decision(d, v, tr, p.comuni_voting) for d in p.register),
            _("Ancora nessuna decisione registrata."),
        ),
    ]
    return page(
        v,
        tr,
        links,
        current="decisions",
        title=_("Decisioni"),
        main="".join(parts),
        back=links.union(v.union_id),
    )


def press_page(
    v: Viewer, text: str, public_url: str | None, tr: Translator, links: AppLinks
) -> str:
    """The coordinator's draft press note, to copy (in Italian, whatever the UI language)."""
    _ = tr.gettext
    parts = [
        f"<h1>{e(_('Bozza di comunicato stampa'))}</h1>",
        f"<p>{e(_('Una bozza in italiano da adattare e inviare all’ufficio stampa. Nessun nome di persona: solo i numeri del PAES.'))}</p>",
        f'<pre class="press" lang="it">{e(text)}</pre>',
    ]
    if public_url:
        parts.append(
            f'<p>{e(_("Pagina pubblica:"))} <a href="{e(public_url)}">{e(public_url)}</a></p>'
        )
    else:
        parts.append(
            f"<p>{e(_('La pagina pubblica è spenta: la accendi da /impostazioni nella chat con il bot.'))}</p>"
        )
    return page(
        v,
        tr,
        links,
        current="press",
        title=_("Comunicato"),
        main="".join(parts),
        back=links.union(v.union_id),
    )
