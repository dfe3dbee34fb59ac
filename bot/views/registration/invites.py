"""/invito: the open invites of a Union, making one (for anyone, a Comune, a role), revoking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import Translator, format_date
from bot.views.answer import Answer
from bot.views.keyboard import Button, Keyboard
from bot.views.registration.refusals import (
    AssignmentRefused,
    Refused,
    assignment_refusal,
    refusal,
)
from bot.views.registration.shared import (
    ANY_ROLE,
    INV,
    MAX_LISTED_BUTTONS,
    ROLE_SHORT,
    button,
    esc,
    role_label,
    rows_of,
    short,
)
from storage.models import Role


@dataclass(frozen=True)
class InviteRow:
    invite_id: int
    comune: str | None  # the Comune it is bound to ("?" if gone), None: any Comune
    role: Role | None  # the role it is bound to, None: any role
    uses: int
    expires_at: datetime


@dataclass(frozen=True)
class InviteList:
    union_id: int
    union_name: str
    timezone: str
    invites: tuple[InviteRow, ...]  # the open ones, oldest first


@dataclass(frozen=True)
class ComuneChoice:
    """Which Comune a new invite is for."""

    union_id: int
    comuni: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class RoleChoice:
    """Which role a new invite is for (for one Comune, or any)."""

    union_id: int
    municipality_id: int  # 0: any Comune
    comune: str | None
    roles: tuple[Role, ...]


@dataclass(frozen=True)
class InviteMade:
    union_name: str
    timezone: str
    link: str  # shown once: only its hash is stored
    comune: str | None
    role: Role | None
    expires_at: datetime


@dataclass(frozen=True)
class InviteRevoked:
    done: bool  # False: it was already closed
    listing: InviteList


def _binding(invite: InviteRow, tr: Translator) -> str:
    parts = []
    if invite.comune is not None:
        parts.append(esc(invite.comune))
    if invite.role is not None:
        parts.append(role_label(invite.role, tr))
    return " · ".join(parts) if parts else tr.gettext("per chiunque")


def render_invites(listing: InviteList, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    tz = ZoneInfo(listing.timezone)
    lines = [
        _("<b>Inviti · {union}</b>").format(union=esc(listing.union_name)),
        _(
            "Un link vale 14 giorni. Chi lo apre sceglie Comune e ruolo (se non li fissi tu) "
            "e aspetta la tua approvazione."
        ),
        "",
    ]
    rows: list[list[Button]] = []
    if listing.invites:
        lines.append(_("Inviti aperti:"))
        for n, invite in enumerate(listing.invites, start=1):
            uses = (
                tr.ngettext("usato {n} volta", "usato {n} volte", invite.uses).format(n=invite.uses)
                if invite.uses
                else _("non ancora usato")
            )
            lines.append(
                _("{n}. {binding} — scade {date}, {uses}").format(
                    n=n,
                    binding=_binding(invite, tr),
                    date=format_date(invite.expires_at, tz, tr.language),
                    uses=uses,
                )
            )
            if len(rows) < 20:
                rows.append(
                    [button(_("Revoca il n. {n}").format(n=n), INV, "revoke", invite.invite_id)]
                )
    else:
        lines.append(_("Nessun invito aperto."))
    union_id = listing.union_id
    rows.append([button(_("🔗 Nuovo link per chiunque"), INV, "make", union_id, 0, ANY_ROLE)])
    rows.append(
        [
            button(_("🏠 Per un Comune"), INV, "comuni", union_id),
            button(_("👤 Per un ruolo"), INV, "roles", union_id, 0),
        ]
    )
    return "\n".join(lines), Keyboard.of(*rows)


def listing_answer(listing: InviteList, tr: Translator) -> Answer:
    text, keyboard = render_invites(listing, tr)
    return Answer(text=text, keyboard=keyboard)


def _back(union_id: int, tr: Translator) -> list[Button]:
    return [button(tr.gettext("↩️ Indietro"), INV, "list", union_id)]


def comune_choice(choice: ComuneChoice, tr: Translator) -> Answer:
    buttons = [
        button(short(name), INV, "roles", choice.union_id, mun_id)
        for mun_id, name in choice.comuni[:MAX_LISTED_BUTTONS]
    ]
    return Answer(
        text=tr.gettext("Per quale Comune è il link?"),
        keyboard=Keyboard.of(*rows_of(buttons), _back(choice.union_id, tr)),
    )


def role_choice(choice: RoleChoice, tr: Translator) -> Answer:
    _ = tr.gettext
    union_id, mun_id = choice.union_id, choice.municipality_id
    buttons = [
        button(role_label(r, tr), INV, "make", union_id, mun_id, ROLE_SHORT[r])
        for r in choice.roles
    ]
    if choice.comune is not None:
        buttons.append(button(_("Qualsiasi ruolo"), INV, "make", union_id, mun_id, ANY_ROLE))
    title = (
        _("Link per {comune}: per quale ruolo?").format(comune=esc(choice.comune))
        if choice.comune is not None
        else _("Per quale ruolo è il link?")
    )
    return Answer(text=title, keyboard=Keyboard.of(*rows_of(buttons), _back(union_id, tr)))


def revoked_answer(revoked: InviteRevoked, tr: Translator) -> Answer:
    _ = tr.gettext
    text, keyboard = render_invites(revoked.listing, tr)
    toast = (
        _("Invito revocato: il link non funziona più.") if revoked.done else _("Era già chiuso.")
    )
    return Answer(toast=toast, text=text, keyboard=keyboard)


def made_answer(made: InviteMade, tr: Translator) -> Answer:
    """The new link, in a message of its own to forward (the listing stays as it was)."""
    _ = tr.gettext
    binding = []
    if made.comune is not None:
        binding.append(_("Comune: {comune}").format(comune=esc(made.comune)))
    if made.role is not None and made.comune is not None:
        binding.append(_("ruolo: {role}").format(role=role_label(made.role, tr)))
    elif made.role is not None:
        binding.append(_("Ruolo: {role}").format(role=role_label(made.role, tr)))
    scope_line = (
        "; ".join(binding) if binding else _("Chi lo apre sceglie il suo Comune e il suo ruolo.")
    )
    text = _(
        "🔗 Link d'invito · <b>{union}</b>\n"
        "{scope}\n"
        "Scade {date}. Vale per più persone; ogni richiesta la approvi tu.\n"
        "\n"
        "Inoltra il messaggio qui sotto a chi deve entrare. Per sicurezza non conservo il link: se lo perdi, creane uno nuovo."
    ).format(
        union=esc(made.union_name),
        scope=scope_line,
        date=format_date(made.expires_at, ZoneInfo(made.timezone), tr.language, year=True),
    )
    invitation = _(
        "Ti invito nel Team energia della nostra Unione ({union}). Apri il link e rispondi con pochi tocchi:\n"
        "{link}"
    ).format(union=esc(made.union_name), link=esc(made.link))
    return Answer(toast=_("Link creato."), text=text, new_message=True, then=((invitation, None),))


InvitesOutcome = (
    InviteList
    | ComuneChoice
    | RoleChoice
    | InviteMade
    | InviteRevoked
    | AssignmentRefused
    | Refused
)


def invites_answer(outcome: InvitesOutcome, tr: Translator) -> Answer:
    """/invito and the buttons of its list."""
    if isinstance(outcome, Refused):
        return refusal(outcome, tr)
    if isinstance(outcome, AssignmentRefused):
        return assignment_refusal(outcome, tr, coordinator=True)
    if isinstance(outcome, ComuneChoice):
        return comune_choice(outcome, tr)
    if isinstance(outcome, RoleChoice):
        return role_choice(outcome, tr)
    if isinstance(outcome, InviteMade):
        return made_answer(outcome, tr)
    if isinstance(outcome, InviteRevoked):
        return revoked_answer(outcome, tr)
    return listing_answer(outcome, tr)
