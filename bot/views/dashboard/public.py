"""The public progress page, its embeddable image and the draft press note.

No personal data, by construction: these functions are given a PublicProgress (bot.views.
dashboard.model), which holds no person, author, note or responsible office — only the Union,
its Comuni, the actions' codes, titles, statuses and CO₂ figures.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.i18n import Translator, format_month
from bot.views.dashboard.chart import co2_chart
from bot.views.dashboard.html import day, document, e, tonnes
from bot.views.dashboard.links import AppLinks, public_addresses
from bot.views.dashboard.model import PublicProgress
from bot.views.dashboard.pages import co2_table, comune_name, comuni_table
from storage.models import ActionStatus


def public_page(p: PublicProgress, tr: Translator, links: AppLinks, *, base_url: str) -> str:
    """For citizens: no script, no Telegram, no names."""
    _ = tr.gettext
    lang = tr.language
    f = p.figures
    tz = p.timezone
    completed = f.count(ActionStatus.COMPLETED)
    lead = _(
        "{done} azioni completate su {total}; {co2} tonnellate di CO₂ evitate ogni anno."
    ).format(done=completed, total=f.total, co2=tonnes(f.co2_avoided_t, lang))
    if f.co2_share is not None:
        lead += " " + _("È il {pct}% di quanto prevede il Piano ({target} t/anno).").format(
            pct=f.co2_share, target=tonnes(f.co2_target_t, lang)
        )
    parts = [
        f"<h1>{e(_('{union}: il Piano d’Azione per l’Energia Sostenibile').format(union=p.union_name))}</h1>",
        f'<p class="muted">{e(_("Dati aggiornati al {date}").format(date=day(p.now, tz, lang)))}</p>',
        f"<p>{e(lead)}</p>",
        f"<h2>{e(_('CO₂ evitata nel tempo'))}</h2>",
        co2_chart(p.series, f.co2_target_t, tr, chart_id="pub-co2"),
        co2_table(p.series, tr),
        comuni_table([c.figures for c in p.comuni], tr, link=None, union_id=0),
        f"<h2>{e(_('Le azioni completate'))}</h2>",
    ]
    parts.append(_completed(p, tr))
    footer = _embedding(p, tr, links, base_url=base_url)
    header = (
        '<header class="top">'
        f'<p class="union">{e(p.union_name)}</p>'
        f'<p class="who">{e(_("Avanzamento del PAES, Comune per Comune"))}</p></header>'
    )
    return document(
        tr=tr,
        root=links.root,
        title=_("{union} · PAES").format(union=p.union_name),
        header=header,
        main="".join(parts),
        footer=footer,
        page="public",
        script=False,
    )


def _completed(p: PublicProgress, tr: Translator) -> str:
    """The completed actions, Comune by Comune (code, title, CO₂)."""
    _ = tr.gettext
    lang = tr.language
    parts = []
    for c in p.comuni:
        if not c.completed:
            continue
        items = "".join(
            f'<li><span class="code">{e(a.code)}</span> {e(a.title)}'
            + (
                f' <span class="muted">· {e(_("{t} t/anno").format(t=tonnes(a.co2_avoided_t, lang)))}</span>'
                if a.co2_avoided_t
                else ""
            )
            + "</li>"
            for a in c.completed
        )
        parts.append(
            f'<h3>{e(comune_name(c.figures.comune, tr))}</h3><ul class="list">{items}</ul>'
        )
    return "".join(parts) or f"<p>{e(_('Ancora nessuna azione completata.'))}</p>"


def _embedding(p: PublicProgress, tr: Translator, links: AppLinks, *, base_url: str) -> str:
    """The footer: who publishes it, and the image with the HTML to put on a website."""
    _ = tr.gettext
    page_url, badge_url = public_addresses(base_url, p.slug)
    snippet = (
        f'<a href="{e(page_url)}"><img src="{e(badge_url)}" width="320" height="100" '
        f'alt="{e(p.union_name)}: PAES"></a>'
    )
    return (
        f"<p>{e(_('Pubblicato dal Team energia dell’Unione. Nessun dato personale.'))}</p>"
        f"<details><summary>{e(_('Per il sito dell’Unione: l’immagine da incorporare'))}</summary>"
        f'<p><img src="{e(links.badge(p.slug))}" width="320" height="100" '
        f'alt="{e(_("{union}: riepilogo del PAES").format(union=p.union_name))}"></p>'
        f"<pre>{e(snippet)}</pre></details>"
    )


def not_found_page(tr: Translator, links: AppLinks) -> str:
    _ = tr.gettext
    return document(
        tr=tr,
        root=links.root,
        title=_("Pagina non trovata"),
        main=f"<h1>{e(_('Pagina non trovata'))}</h1>"
        f"<p>{e(_('Questa pagina non esiste o non è pubblica.'))}</p>",
        page="public",
        script=False,
    )


def badge_svg(p: PublicProgress, tr: Translator) -> str:
    """A 320×100 image for the Union's website: completed actions and CO₂ avoided."""
    _ = tr.gettext
    lang = tr.language
    f = p.figures
    done = f.count(ActionStatus.COMPLETED)
    share = done / f.total if f.total else 0.0
    name = p.union_name if len(p.union_name) <= 40 else p.union_name[:39] + "…"
    line1 = _("{done} azioni del PAES completate su {total}").format(done=done, total=f.total)
    line2 = _("{co2} t di CO₂ evitate ogni anno").format(co2=tonnes(f.co2_avoided_t, lang))
    title = f"{p.union_name}: {line1}; {line2}"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="100" viewBox="0 0 320 100" '
        f'role="img" aria-label="{e(title)}"><title>{e(title)}</title>'
        '<rect width="320" height="100" rx="10" fill="#f2f7f3" stroke="#1d6b3a"/>'
        '<g font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif" '
        'fill="#1a1a1a">'
        f'<text x="14" y="26" font-size="15" font-weight="700">{e(name)}</text>'
        f'<text x="14" y="50" font-size="13">{e(line1)}</text>'
        f'<text x="14" y="70" font-size="13">{e(line2)}</text></g>'
        '<rect x="14" y="80" width="292" height="8" rx="4" fill="#d5e3d9"/>'
        f'<rect x="14" y="80" width="{292 * share:.1f}" height="8" rx="4" fill="#1d6b3a"/>'
        "</svg>"
    )


# --- the draft press note (Italian by design) -----------------------------------------------


def _of_union(name: str) -> str:
    """ "dell'Unione Reno Galliera" / "di Terred'Acqua"."""
    return f"dell'{name}" if name.casefold().startswith("unione") else f"di {name}"


def press_note_text(p: PublicProgress, *, timezone: str, public_url: str | None) -> str:
    """A draft press note in Italian for the Union's press office: the figures of the plan,
    Comune by Comune; no person is named. Not translated: it is written for the Italian press
    whatever language the coordinator reads the bot in."""
    f = p.figures
    lang = "it"
    today = p.now.astimezone(ZoneInfo(timezone))
    done = f.count(ActionStatus.COMPLETED)
    ongoing = f.count(ActionStatus.ONGOING)
    co2 = tonnes(f.co2_avoided_t, lang)
    comuni = [c for c in p.comuni if c.figures.comune.id is not None]
    names = [c.figures.comune.name for c in comuni]
    listed = (
        ", ".join(names[:-1]) + " e " + names[-1] if len(names) > 1 else (names[0] if names else "")
    )
    date_text = f"{today.day} {format_month(today.year, today.month, lang)}"
    lines = [
        "BOZZA DI COMUNICATO STAMPA",
        "",
        f"{p.union_name}: {done} azioni del PAES completate, {co2} tonnellate di CO₂ in meno ogni anno",
        "",
        f"{date_text}. I Comuni {_of_union(p.union_name)}"
        + (f" ({listed})" if listed else "")
        + " fanno il punto sul Piano d'Azione per l'Energia Sostenibile (PAES) che attuano"
        " insieme, nell'ambito del Patto dei Sindaci, attraverso il Team energia dell'Unione.",
        "",
        f"Delle {f.total} azioni del Piano, {done} sono completate e {ongoing} in corso."
        + (
            f" Le azioni completate evitano l'emissione di circa {co2} tonnellate di CO₂"
            f" l'anno: il {f.co2_share}% di quanto il Piano prevede a regime"
            f" ({tonnes(f.co2_target_t, lang)} tonnellate l'anno)."
            if f.co2_share is not None
            else ""
        ),
    ]
    with_done = [c for c in p.comuni if c.figures.figures.count(ActionStatus.COMPLETED)]
    if with_done:
        lines += ["", "Comune per Comune, le azioni completate:"]
        for c in with_done:
            cf = c.figures.figures
            where = (
                c.figures.comune.name if c.figures.comune.id is not None else "Azioni intercomunali"
            )
            lines.append(
                f"- {where}: {cf.count(ActionStatus.COMPLETED)} su {cf.total}"
                + (
                    f", {tonnes(cf.co2_avoided_t, lang)} t di CO₂ l'anno"
                    if cf.co2_avoided_t > 0
                    else ""
                )
            )
    lines += [
        "",
        "Il Team energia riunisce ogni mese sindaci, assessori e tecnici dei Comuni dell'Unione"
        " per coordinare il lavoro e decidere insieme le priorità del Piano.",
    ]
    if public_url:
        lines += ["", f"L'avanzamento del Piano, Comune per Comune, è pubblico: {public_url}"]
    lines += ["", "Per informazioni: [ufficio stampa, telefono, e-mail]"]
    return "\n".join(lines)
