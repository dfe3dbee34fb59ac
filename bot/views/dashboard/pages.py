"""The Mini App's pages, as plain functions of the use cases' data and a translator."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import N_, Translator, format_month
from bot.views.dashboard.chart import co2_chart, status_bar
from bot.views.dashboard.html import (
    NavLink,
    day,
    document,
    e,
    iso,
    listing,
    nav,
    shown,
    tonnes,
    when,
)
from bot.views.dashboard.links import AppLinks
from bot.views.dashboard.model import (
    STATUS_ORDER,
    ActionDetail,
    ActionItem,
    ActionList,
    Co2Point,
    ComuneFigures,
    ComuneRef,
    HistoryItem,
    NotAllowed,
    Overview,
    UnionChoice,
    Viewer,
)
from storage.models import ActionStatus

STATUS_LABELS = {
    ActionStatus.COMPLETED: N_("Completata"),
    ActionStatus.ONGOING: N_("In corso"),
    ActionStatus.POSTPONED: N_("Rinviata"),
    ActionStatus.NOT_STARTED: N_("Non avviata"),
}
# The filter's keys (bot.services.dashboard.STATUS_CODES): short, stable, in the address.
STATUS_KEYS = {
    ActionStatus.COMPLETED: "c",
    ActionStatus.ONGOING: "o",
    ActionStatus.POSTPONED: "p",
    ActionStatus.NOT_STARTED: "n",
}
# Where an intercommunal action belongs: the bot's own words for it (bot/views/actions.py).
UNION_WIDE_LABEL = N_("Unione (intercomunale)")
REFUSALS = {
    "not_member": N_("Questa pagina è riservata ai membri del Team energia dell'Unione."),
    "not_found": N_("Qui non c'è niente: forse è stato archiviato o tolto."),
    "history": N_(
        "Lo storico di questa azione lo vedono i membri del suo Comune e chi coordina l'Unione."
    ),
    "coordinator_only": N_("Questa pagina è riservata a chi coordina l'Unione."),
}


def status_badge(status: ActionStatus, tr: Translator) -> str:
    return f'<span class="status s-{e(status.value)}">{e(tr.gettext(STATUS_LABELS[status]))}</span>'


def status_count(status: ActionStatus, n: int, tr: Translator) -> str:
    """ "2 in corso", "1 rinviata", "3 non avviate"."""
    forms = {
        ActionStatus.COMPLETED: tr.ngettext("{n} completata", "{n} completate", n),
        ActionStatus.ONGOING: tr.ngettext("{n} in corso", "{n} in corso", n),
        ActionStatus.POSTPONED: tr.ngettext("{n} rinviata", "{n} rinviate", n),
        ActionStatus.NOT_STARTED: tr.ngettext("{n} non avviata", "{n} non avviate", n),
    }
    return forms[status].format(n=n)


def comune_name(ref: ComuneRef, tr: Translator) -> str:
    return ref.name if ref.id is not None else tr.gettext(UNION_WIDE_LABEL)


# --- the shell of the Mini App --------------------------------------------------------------


def _header(v: Viewer, tr: Translator, links: AppLinks, current: str) -> str:
    _ = tr.gettext
    u = v.union_id
    items = [
        NavLink(_("Panoramica"), links.union(u), current == "overview"),
        NavLink(_("Azioni"), links.actions(u), current == "actions"),
        NavLink(_("Riunioni"), links.meetings(u), current == "meetings"),
        NavLink(_("Decisioni"), links.decisions(u), current == "decisions"),
    ]
    if v.is_coordinator:
        items.append(NavLink(_("Comunicato"), links.press(u), current == "press"))
    if v.unions > 1:
        items.append(NavLink(_("Altre Unioni"), links.unions))
    return (
        '<header class="top">'
        f'<p class="union">{e(v.union_name)}</p>'
        f'<p class="who">{e(_("Cruscotto del PAES · Team energia"))}</p>'
        f"{nav(items, _('Sezioni'))}</header>"
    )


def page(
    v: Viewer,
    tr: Translator,
    links: AppLinks,
    *,
    current: str,
    title: str,
    main: str,
    back: str | None,
) -> str:
    return document(
        tr=tr,
        root=links.root,
        title=f"{title} · {v.union_name}",
        header=_header(v, tr, links, current),
        main=main,
        attrs={"back": back or ""},
    )


# --- sign-in, picker, refusals --------------------------------------------------------------


def boot_page(tr: Translator, links: AppLinks, *, next_path: str = "") -> str:
    """What Telegram opens, and what a page answers when the session is missing or expired:
    dash.js signs in with Telegram's signed data, then comes back to `next_path`."""
    _ = tr.gettext
    messages = {
        "outside": _("Questa pagina si apre da Telegram: premi «Cruscotto» nella chat con il bot."),
        "cookies": _(
            "Non riesco a tenerti collegato: questo browser rifiuta i cookie. Apri il cruscotto dall'app di Telegram sul telefono o sul computer."
        ),
        "network": _("Non riesco a raggiungere il server. Riprova tra poco."),
    }
    hidden = "".join(f'<p hidden data-msg="{k}">{e(v)}</p>' for k, v in messages.items())
    main = (
        f"<h1>{e(_('Cruscotto del PAES'))}</h1>"
        f'<p id="boot-status" role="status" aria-live="polite">{e(_("Un momento…"))}</p>'
        f"<noscript><p>{e(_('Per entrare serve JavaScript: apri il cruscotto da Telegram.'))}"
        f"</p></noscript>{hidden}"
    )
    return document(
        tr=tr,
        root=links.root,
        title=_("Cruscotto del PAES"),
        main=main,
        page="boot",
        attrs={"signin": links.session, "next": next_path},
    )


def refusal_text(reason: str, tr: Translator) -> str:
    return tr.gettext(REFUSALS.get(reason, REFUSALS["not_found"]))


def refusal_page(refusal: NotAllowed, tr: Translator, links: AppLinks) -> str:
    _ = tr.gettext
    main = (
        f"<h1>{e(_('Non disponibile'))}</h1>"
        f'<p class="refusal">{e(refusal_text(refusal.reason, tr))}</p>'
        f'<p><a href="{e(links.unions)}">{e(_("Le tue Unioni"))}</a></p>'
    )
    return document(tr=tr, root=links.root, title=_("Non disponibile"), main=main)


def failure_page(tr: Translator, links: AppLinks) -> str:
    """What a page that failed on our side shows (the error is in the log): no script, no
    technical words — for a member in Telegram and a citizen on the public page alike."""
    _ = tr.gettext
    main = (
        f"<h1>{e(_('Qualcosa non ha funzionato'))}</h1>"
        f'<p class="refusal">{e(_("Non sono riuscito a preparare questa pagina. Riprova tra qualche minuto."))}</p>'
    )
    return document(
        tr=tr, root=links.root, title=_("Qualcosa non ha funzionato"), main=main, script=False
    )


def picker_page(unions: Sequence[UnionChoice], tr: Translator, links: AppLinks) -> str:
    _ = tr.gettext
    items = "".join(
        f'<li><a href="{e(links.union(u.union_id))}">{e(u.name)}</a>'
        + (f' <span class="muted">{e(_("coordinatore"))}</span>' if u.is_coordinator else "")
        + "</li>"
        for u in unions
    )
    main = (
        f"<h1>{e(_('Le tue Unioni'))}</h1>"
        f"<p>{e(_('Fai parte di più Unioni: quale vuoi guardare?'))}</p>"
        f'<ul class="list">{items}</ul>'
    )
    return document(tr=tr, root=links.root, title=_("Le tue Unioni"), main=main)


# --- overview -------------------------------------------------------------------------------


def _cards(o: Overview, tr: Translator) -> str:
    _ = tr.gettext
    lang = tr.language
    f = o.figures
    cards = [
        (str(f.count(ActionStatus.COMPLETED)), _("azioni completate su {n}").format(n=f.total)),
        (str(f.count(ActionStatus.ONGOING)), _("azioni in corso")),
        (f"{f.average_progress}%", _("avanzamento medio")),
        (
            tonnes(f.co2_avoided_t, lang),
            _("t/anno di CO₂ evitate")
            if f.co2_share is None
            else _("t/anno di CO₂ evitate ({pct}% del PAES)").format(pct=f.co2_share),
        ),
    ]
    return (
        '<ul class="cards">'
        + "".join(f'<li><span class="big">{e(big)}</span>{e(small)}</li>' for big, small in cards)
        + "</ul>"
    )


def co2_table(series: Sequence[Co2Point], tr: Translator) -> str:
    """The chart's numbers, for whoever does not see the chart (and for the curious)."""
    _ = tr.gettext
    lang = tr.language
    rows = "".join(
        f'<tr><th scope="row">{e(format_month(p.month.year, p.month.month, lang))}</th>'
        f'<td class="n">{e(tonnes(p.avoided_t, lang))}</td></tr>'
        for p in reversed(series)
    )
    return (
        f"<details><summary>{e(_('I numeri del grafico'))}</summary><table>"
        f'<thead><tr><th scope="col">{e(_("Mese"))}</th>'
        f'<th scope="col" class="n">{e(_("t/anno"))}</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></details>"
    )


def comuni_table(
    comuni: Sequence[ComuneFigures], tr: Translator, *, link: AppLinks | None, union_id: int
) -> str:
    _ = tr.gettext
    lang = tr.language
    rows = []
    for c in comuni:
        f = c.figures
        name = e(comune_name(c.comune, tr))
        if link is not None:
            key = "u" if c.comune.id is None else str(c.comune.id)
            name = f'<a href="{e(link.actions(union_id, comune=key))}">{name}</a>'
        detail = " · ".join(status_count(s, f.count(s), tr) for s in STATUS_ORDER[1:] if f.count(s))
        rows.append(
            f'<tr><th scope="row">{name}'
            + (f'<span class="detail">{e(detail)}</span>' if detail else "")
            + f"{status_bar(f)}</th>"
            f'<td class="n">{f.count(ActionStatus.COMPLETED)}/{f.total}</td>'
            f'<td class="n">{e(tonnes(f.co2_avoided_t, lang))}</td></tr>'
        )
    return (
        f"<table><caption>{e(_('Comune per Comune'))}</caption><thead><tr>"
        f'<th scope="col">{e(_("Comune"))}</th>'
        f'<th scope="col" class="n">{e(_("Completate"))}</th>'
        f'<th scope="col" class="n">{e(_("CO₂ t/anno"))}</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def overview_page(o: Overview, tr: Translator, links: AppLinks) -> str:
    _ = tr.gettext
    v = o.viewer
    u = v.union_id
    parts = [
        f"<h1>{e(_('A che punto è il PAES'))}</h1>",
        f'<p class="muted">{e(_("Aggiornato al {when}").format(when=when(o.now, v.timezone, tr.language)))}</p>',
        _cards(o, tr),
        f"<h2>{e(_('CO₂ evitata nel tempo'))}</h2>",
        co2_chart(o.series, o.figures.co2_target_t, tr),
        co2_table(o.series, tr),
    ]
    if o.comuni:
        parts.append(comuni_table(o.comuni, tr, link=links, union_id=u))
    else:
        parts.append(f"<p>{e(_('Le azioni del PAES non sono ancora state caricate.'))}</p>")
    parts.append(f"<h2>{e(_('Prossima riunione'))}</h2>")
    if o.next_meeting is not None:
        m = o.next_meeting
        parts.append(
            f'<p><time datetime="{e(iso(m.starts_at))}">{e(when(m.starts_at, v.timezone, tr.language))}</time>'
            f" — {e(m.title)}</p>"
        )
    else:
        parts.append(f"<p>{e(_('Nessuna riunione fissata.'))}</p>")
    parts.append(f'<p><a href="{e(links.meetings(u))}">{e(_("Tutte le riunioni"))}</a></p>')
    parts.append(f"<h2>{e(_('Questioni per il tavolo politico'))}</h2>")
    parts.append(
        "<p>"
        + e(
            tr.ngettext(
                "{n} questione aspetta una decisione.",
                "{n} questioni aspettano una decisione.",
                o.open_questions,
            ).format(n=o.open_questions)
        )
        + f' <a href="{e(links.decisions(u))}">{e(_("Vedi le decisioni"))}</a></p>'
    )
    return page(
        v, tr, links, current="overview", title=_("Panoramica"), main="".join(parts), back=None
    )


# --- actions --------------------------------------------------------------------------------


def _option(value: str, label: str, chosen: str) -> str:
    selected = " selected" if value == chosen else ""
    return f'<option value="{e(value)}"{selected}>{e(label)}</option>'


def _filters(a: ActionList, tr: Translator, links: AppLinks) -> str:
    _ = tr.gettext
    comuni = [
        _option("", _("Tutti"), a.comune),
        _option("u", _(UNION_WIDE_LABEL), a.comune),
    ]
    comuni += [_option(str(c.id), c.name, a.comune) for c in a.comuni]
    statuses = [_option("", _("Tutti"), a.status)]
    statuses += [_option(STATUS_KEYS[s], _(STATUS_LABELS[s]), a.status) for s in STATUS_ORDER]
    return (
        f'<form class="filters" method="get" action="{e(links.actions(a.viewer.union_id))}" '
        f'aria-label="{e(_("Filtra le azioni"))}">'
        f'<label>{e(_("Comune"))}<select name="comune">{"".join(comuni)}</select></label>'
        f'<label>{e(_("Stato"))}<select name="status">{"".join(statuses)}</select></label>'
        f'<button type="submit">{e(_("Mostra"))}</button></form>'
    )


def _action_line(item: ActionItem, tr: Translator, links: AppLinks, union_id: int) -> str:
    return (
        f'<li><a href="{e(links.action(union_id, item.id))}"><span class="code">{e(item.code)}</span>'
        f" {e(item.title)}</a><br>{status_badge(item.status, tr)} "
        f'<span class="muted">{item.progress}% · {e(comune_name(item.comune, tr))}</span></li>'
    )


def actions_page(a: ActionList, tr: Translator, links: AppLinks) -> str:
    _ = tr.gettext
    u = a.viewer.union_id
    parts = [f"<h1>{e(_('Azioni del PAES'))}</h1>", _filters(a, tr, links)]
    count = tr.ngettext("{n} azione", "{n} azioni", a.total).format(n=a.total)
    if a.pages > 1:
        count += " · " + _("pagina {page} di {pages}").format(page=a.page, pages=a.pages)
    parts.append(f'<p role="status">{e(count)}</p>')
    parts.append(
        listing(
            (_action_line(i, tr, links, u) for i in a.items), _("Nessuna azione con questo filtro.")
        )
    )
    if a.pages > 1:
        prev = (
            f'<a href="{e(links.actions(u, comune=a.comune, status=a.status, page=a.page - 1))}" '
            f'rel="prev">{e(_("← Precedenti"))}</a>'
            if a.page > 1
            else "<span></span>"
        )
        nxt = (
            f'<a href="{e(links.actions(u, comune=a.comune, status=a.status, page=a.page + 1))}" '
            f'rel="next">{e(_("Successive →"))}</a>'
            if a.page < a.pages
            else "<span></span>"
        )
        parts.append(f'<nav class="pager" aria-label="{e(_("Pagine"))}">{prev}{nxt}</nav>')
    return page(
        a.viewer,
        tr,
        links,
        current="actions",
        title=_("Azioni"),
        main="".join(parts),
        back=links.union(u),
    )


def _history_item(h: HistoryItem, d: ActionDetail, tr: Translator, links: AppLinks) -> str:
    _ = tr.gettext
    v = d.viewer
    before = ""
    if h.previous_status is not None and h.previous_status != h.status:
        before = _("prima: {status}, {p}%").format(
            status=_(STATUS_LABELS[h.previous_status]), p=h.previous_progress or 0
        )
    elif h.previous_progress is not None and h.previous_progress != h.progress:
        before = _("prima: {p}%").format(p=h.previous_progress)
    lines = [
        f'<p class="when"><time datetime="{e(iso(h.created_at))}">'
        f"{e(when(h.created_at, v.timezone, tr.language))}</time> · "
        f"{e(shown(h.author, tr))}</p>",
        f"<p>{status_badge(h.status, tr)} {h.progress}%"
        + (f' <span class="muted">({e(before)})</span>' if before else "")
        + "</p>",
    ]
    if h.note:
        lines.append(f'<p class="note">{e(h.note)}</p>')
    if h.question:
        lines.append(
            f'<p class="note">⚖️ {e(_("Chiede una decisione politica:"))} {e(h.question)}</p>'
        )
    for att in h.attachments:
        href = links.file(v.union_id, att.id)
        if att.kind == "photo":
            alt = _("Foto allegata all'aggiornamento del {when}").format(
                when=day(h.created_at, v.timezone, tr.language)
            )
            lines.append(
                f'<a href="{e(href)}"><img class="photo" src="{e(href)}" alt="{e(alt)}" '
                'loading="lazy"></a>'
            )
        else:
            name = att.file_name or _("documento")
            lines.append(
                f'<p><a class="placeholder" href="{e(href)}" download>📎 {e(name)}</a></p>'
            )
    return "<li>" + "".join(lines) + "</li>"


def action_page(d: ActionDetail, tr: Translator, links: AppLinks) -> str:
    _ = tr.gettext
    lang = tr.language
    a = d.action
    v = d.viewer
    facts = [
        (_("Comune"), comune_name(a.comune, tr)),
        (_("Avanzamento"), f"{a.progress}%"),
    ]
    if a.sector:
        facts.append((_("Settore"), a.sector))
    if a.start_on or a.end_on:
        period = " – ".join(x.strftime("%d/%m/%Y") for x in (a.start_on, a.end_on) if x)
        facts.append((_("Periodo"), period))
    if a.co2_avoided_t is not None:
        facts.append((_("Riduzione CO₂"), _("{t} t/anno").format(t=tonnes(a.co2_avoided_t, lang))))
    parts = [
        f"<h1>{e(a.code)} — {e(a.title)}</h1>",
        f"<p>{status_badge(a.status, tr)}</p>",
        '<dl class="facts">'
        + "".join(f"<dt>{e(k)}</dt><dd>{e(val)}</dd>" for k, val in facts)
        + "</dl>",
        f"<h2>{e(_('Storico degli aggiornamenti'))}</h2>",
    ]
    if not d.may_read_history:
        parts.append(f'<p class="refusal">{e(refusal_text("history", tr))}</p>')
    else:
        parts.append(
            listing(
                (_history_item(h, d, tr, links) for h in d.history),
                _("Nessun aggiornamento finora."),
                cls="list history",
            )
        )
    if d.may_read_history and d.notes:
        parts.append(f"<h2>{e(_('Dal gruppo tecnico'))}</h2>")
        parts.append(
            '<ul class="list">'
            + "".join(
                f'<li><p class="when">{e(when(n.created_at, v.timezone, lang))} · {e(shown(n.author, tr))}</p>'
                f'<p class="note">{e(n.text)}</p></li>'
                for n in d.notes
            )
            + "</ul>"
        )
    return page(
        v,
        tr,
        links,
        current="actions",
        title=a.code,
        main="".join(parts),
        back=links.actions(v.union_id),
    )
