"""bot.services.progress without Telegram, on SQLite and PostgreSQL: each use case's main
outcomes (what it shows, what it refuses, what it writes and queues)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.services import progress
from bot.services.action_import import ActionRow
from bot.views.actions import ListFilter
from bot.views.updates import (
    Ack,
    Added,
    Finished,
    Menu,
    Notice,
    RestConfirmed,
    StatusQuestion,
)
from storage.db import Database
from storage.models import (
    Action,
    ActionStatus,
    OutboxMessage,
    ProgressUpdate,
    RoundResponse,
    RoundStatus,
    UpdateNote,
    UpdateRound,
    UpdateSource,
)
from tests.factories import NOW, World, add_round, make_world

TECH = "tecnico:0"


async def _world(db: Database, *, with_round: bool = True) -> tuple[World, int | None]:
    async with db.transaction() as s:
        world = await make_world(s, comuni=2, actions_per_comune=2)
        round_id = None
        if with_round:
            round_ = await add_round(
                s,
                world,
                period="2026-12",
                opened_at=NOW - timedelta(days=1),
                deadline_at=NOW + timedelta(days=5),
            )
            round_id = round_.id
    return world, round_id


def _tg(world: World, key: str) -> int:
    return world.people[key].telegram_user_id


async def _step(
    db: Database, world: World, verb: str, target: int, arg: str | None = None, key: str = TECH
) -> progress.StepShown | progress.StepRefused:
    tg = _tg(world, key)
    async with db.transaction() as s:
        return await progress.press_step(
            s, verb=verb, telegram_user_id=tg, chat_id=tg, target=target, arg=arg, now=NOW
        )


async def test_a_technicians_update_saves_at_each_tap(db: Database) -> None:
    world, round_id = await _world(db)
    tg = _tg(world, TECH)
    mine, other = world.actions[0], world.actions[1]
    async with db.transaction() as s:
        started = await progress.start_dialogue(
            s, union_id=world.union.id, telegram_user_id=tg, chat_id=tg, now=NOW
        )
    # /aggiornamento: the list of the technician's actions, none answered yet.
    assert isinstance(started, progress.StepShown) and isinstance(started.edit, Menu)
    assert [a.id for a in started.edit.actions] == [mine.id, other.id]
    assert started.edit.round_id == round_id and started.edit.saved is None

    picked = await _step(db, world, "pick", mine.id)
    assert isinstance(picked, progress.StepShown) and isinstance(picked.edit, StatusQuestion)
    assert (picked.edit.position, picked.edit.total) == (1, 2)
    assert picked.edit.action.comune == world.comuni[0].name

    # A state saves at once, at last month's percentage; the list comes back with it on top.
    shown = await _step(db, world, "status", mine.id, "ongoing")
    assert isinstance(shown, progress.StepShown) and shown.toast == "saved"
    assert isinstance(shown.edit, Menu) and shown.edit.saved is not None
    assert (shown.edit.saved.status, shown.edit.saved.progress) == (ActionStatus.ONGOING, 10)
    assert shown.edit.saved.offers_progress
    assert [a.done for a in shown.edit.actions] == [True, False]
    shown = await _step(db, world, "progress", mine.id, "60")
    assert isinstance(shown, progress.StepShown) and shown.toast == 60
    assert isinstance(shown.edit, Menu) and shown.edit.saved is not None
    assert shown.edit.saved.progress == 60

    async with db.transaction() as s:
        typed = await progress.type_in_dialogue(
            s,
            telegram_user_id=tg,
            chat_id=tg,
            written=progress.Written("Caldaia montata"),
            now=NOW,
        )
    assert typed is not None and typed.then == (
        Added(mine.code, world.union.id, (Ack.NOTE_ADDED,), progress=60),
    )
    asked = await _step(db, world, "question", mine.id)
    assert isinstance(asked, progress.StepShown) and asked.then == (Notice.WRITE_QUESTION,)
    async with db.transaction() as s:
        typed = await progress.type_in_dialogue(
            s,
            telegram_user_id=tg,
            chat_id=tg,
            written=progress.Written("Serve il bando?"),
            now=NOW,
        )
    assert typed is not None and isinstance(typed.then[0], Added)
    assert typed.then[0].acks == (Ack.QUESTION_ADDED,)
    async with db.transaction() as s:
        # One answer, one row of the history, completed in place.
        update = (await s.execute(select(ProgressUpdate))).scalar_one()
        assert (update.action_id, update.round_id) == (mine.id, round_id)
        assert (update.previous_progress, update.progress) == (10, 60)
        assert update.note == "Caldaia montata" and update.decision_question == "Serve il bando?"
        assert update.source == UpdateSource.PRIVATE and update.needs_decision
        action = await s.get(Action, mine.id)
        assert action is not None and (action.status, action.progress) == (ActionStatus.ONGOING, 60)

    finished = await _step(db, world, "finish", world.union.id)
    assert isinstance(finished, progress.StepShown)
    assert finished.edit == Finished((other.code,))


async def test_invariata_and_the_rest_are_confirmations(db: Database) -> None:
    world, round_id = await _world(db)
    tg = _tg(world, TECH)
    mine, other = world.actions[0], world.actions[1]
    same = await _step(db, world, "same", mine.id)
    assert isinstance(same, progress.StepShown) and same.toast == "confirmed"
    assert isinstance(same.edit, Menu) and same.edit.saved is not None
    assert same.edit.saved.unchanged
    async with db.transaction() as s:
        rest = await progress.rest_unchanged(s, round_id=round_id, telegram_user_id=tg, now=NOW)
    assert isinstance(rest, progress.StepShown) and rest.edit == RestConfirmed(1, "2026-12")
    async with db.transaction() as s:
        again = await progress.rest_unchanged(s, round_id=round_id, telegram_user_id=tg, now=NOW)
        late = await progress.rest_unchanged(
            s, round_id=round_id, telegram_user_id=tg, now=NOW + timedelta(days=6)
        )
        mayor = await progress.rest_unchanged(
            s, round_id=round_id, telegram_user_id=_tg(world, "sindaco:0"), now=NOW
        )
        rows = (await s.execute(select(ProgressUpdate).order_by(ProgressUpdate.id))).scalars()
        updates = [
            (u.action_id, u.member_id, u.round_id, u.previous_status, u.status, u.progress)
            for u in rows
        ]
        round_ = await s.get(UpdateRound, round_id)
        assert round_ is not None
        states = await progress.technician_states(s, round_)
    assert isinstance(again, progress.StepShown) and again.edit == RestConfirmed(0, "2026-12")
    assert isinstance(late, progress.StepRefused) and late.reason == "round_closed"
    assert isinstance(mayor, progress.StepRefused) and mayor.reason == "not_for_you"
    member = world.members[TECH].id
    ongoing = ActionStatus.ONGOING
    # A row each, status and percentage carried over: checked, and the round answered.
    assert updates == [
        (mine.id, member, round_id, ongoing, ongoing, 10),
        (other.id, member, round_id, ongoing, ongoing, 10),
    ]
    answered = {s.technician.member.id: s.answered for s in states}
    assert answered[member] and not answered[world.members["tecnico:1"].id]


async def test_a_step_refuses_what_is_not_the_pressers(db: Database) -> None:
    world, _round_id = await _world(db)
    mine, theirs = world.actions[0], world.actions[2]  # Comune 0's, Comune 1's
    gone = await _step(db, world, "same", 999_999)
    assert isinstance(gone, progress.StepRefused) and gone.reason == "gone"
    other = await _step(db, world, "pick", theirs.id)
    assert isinstance(other, progress.StepRefused) and other.reason == "cannot_update"
    forged = await _step(db, world, "status", theirs.id, "completed")
    assert isinstance(forged, progress.StepRefused) and forged.reason == "cannot_update"
    mayor = await _step(db, world, "pick", mine.id, key="sindaco:0")
    assert isinstance(mayor, progress.StepRefused) and mayor.reason == "not_for_you"
    early = await _step(db, world, "progress", mine.id, "50")  # nothing saved yet
    assert isinstance(early, progress.StepRefused) and early.reason == "status_first"
    odd = await _step(db, world, "status", mine.id, "finished")
    assert isinstance(odd, progress.StepRefused) and odd.reason == "no_longer_valid"
    async with db.transaction() as s:
        assert (await s.execute(select(func.count(ProgressUpdate.id)))).scalar_one() == 0
        started = await progress.start_dialogue(
            s,
            union_id=world.union.id,
            telegram_user_id=_tg(world, "sindaco:0"),
            chat_id=_tg(world, "sindaco:0"),
            now=NOW,
        )
    assert isinstance(started, progress.StepRefused) and started.reason == "reporters_only"


async def test_nothing_new_this_month_while_the_round_is_open(db: Database) -> None:
    world, round_id = await _world(db)
    tg = _tg(world, TECH)
    async with db.transaction() as s:
        shown = await progress.no_news(s, round_id=round_id, telegram_user_id=tg, now=NOW)
    assert isinstance(shown, progress.StepShown)
    async with db.transaction() as s:
        late = await progress.no_news(
            s, round_id=round_id, telegram_user_id=tg, now=NOW + timedelta(days=6)
        )
        mayor = await progress.no_news(
            s, round_id=round_id, telegram_user_id=_tg(world, "sindaco:0"), now=NOW
        )
        responses = (await s.execute(select(RoundResponse))).scalars().all()
    assert isinstance(late, progress.StepRefused) and late.reason == "round_closed"
    assert isinstance(mayor, progress.StepRefused) and mayor.reason == "not_for_you"
    assert [(r.member_id, r.no_news) for r in responses] == [(world.members[TECH].id, True)]


async def test_the_list_a_card_and_a_history(db: Database) -> None:
    world, _round_id = await _world(db, with_round=False)
    coord = world.people["Carla Coordinatrice"].telegram_user_id
    async with db.transaction() as s:
        listed = await progress.list_page(
            s,
            union_id=world.union.id,
            telegram_user_id=_tg(world, "sindaco:1"),
            filter=ListFilter(comune=str(world.comuni[1].id)),
        )
        stranger = await progress.list_page(
            s, union_id=world.union.id, telegram_user_id=123, filter=ListFilter()
        )
        card = await progress.show_action(
            s,
            action_id=world.actions[0].id,
            telegram_user_id=coord,
            now=NOW,
            language="it",
        )
        history = await progress.action_history(
            s,
            action_id=world.actions[0].id,
            telegram_user_id=_tg(world, "sindaco:1"),
            language="it",
        )
    assert not isinstance(listed, progress.NotAllowed)
    assert [a.code for a in listed.actions] == ["C01.00", "C01.01"] and not listed.coordinator
    assert stranger == progress.NotAllowed("not_for_you")
    assert isinstance(card, progress.CardShown) and card.text.startswith("<b>C00.00</b>")
    assert card.keyboard is not None and "✏️ Modifica" in str(card.keyboard)
    # Comune 0's history is for its people and the coordinator, not Comune 1's mayor.
    assert history == progress.NotAllowed("history")


async def test_a_press_on_an_action_rereads_the_action_and_the_presser(db: Database) -> None:
    """progress.on_action: no such action, or a presser outside its Union, is not_for_you; the
    coordinator's verbs refuse the others, and the edits refuse a group."""
    world, _round_id = await _world(db, with_round=False)
    coord = world.people["Carla Coordinatrice"].telegram_user_id
    tech = _tg(world, TECH)
    action_id = world.actions[0].id
    async with db.transaction() as s:
        gone = await progress.show_action(
            s, action_id=10**6, telegram_user_id=coord, now=NOW, language="it"
        )
        no_id = await progress.action_history(
            s, action_id=None, telegram_user_id=coord, language="it"
        )
        stranger = await progress.show_action(
            s, action_id=action_id, telegram_user_id=123, now=NOW, language="it"
        )
        by_tech = await progress.edit_menu(
            s, action_id=action_id, actor=progress.Actor(tech, tech, NOW)
        )
        in_group = await progress.edit_menu(
            s, action_id=action_id, actor=progress.Actor(coord, -5, NOW, private=False)
        )
        menu = await progress.edit_menu(
            s, action_id=action_id, actor=progress.Actor(coord, coord, NOW)
        )
    assert gone == no_id == stranger == progress.NotAllowed("not_for_you")
    assert by_tech == progress.NotAllowed("coordinator_only")
    assert in_group == progress.NotAllowed("in_private")
    assert isinstance(menu, progress.EditMenu) and menu.action.id == action_id


async def test_archiving_is_the_coordinators_and_happens_once(db: Database) -> None:
    world, _round_id = await _world(db, with_round=False)
    coord = world.people["Carla Coordinatrice"].telegram_user_id
    action_id = world.actions[0].id
    async with db.transaction() as s:
        refused = await progress.archive_action(
            s, action_id=action_id, telegram_user_id=_tg(world, TECH), now=NOW, language="it"
        )
        done = await progress.archive_action(
            s, action_id=action_id, telegram_user_id=coord, now=NOW, language="it"
        )
    async with db.transaction() as s:
        again = await progress.archive_action(
            s,
            action_id=action_id,
            telegram_user_id=coord,
            now=NOW + timedelta(days=1),
            language="it",
        )
        action = await s.get(Action, action_id)
    assert refused == progress.NotAllowed("coordinator_only")
    assert isinstance(done, progress.CardShown) and "🗄 Archiviata" in done.text
    assert isinstance(again, progress.CardShown)
    assert action is not None and action.archived_at == NOW


async def test_a_new_action_typed_by_the_coordinator(db: Database) -> None:
    world, _round_id = await _world(db, with_round=False)
    coord = world.people["Carla Coordinatrice"].telegram_user_id
    actor = progress.Actor(coord, coord, NOW)
    async with db.transaction() as s:
        in_group = await progress.start_new_action(
            s, union_id=world.union.id, actor=progress.Actor(coord, -5, NOW, private=False)
        )
        started = await progress.start_new_action(s, union_id=world.union.id, actor=actor)
    assert in_group == progress.NotAllowed("in_private") and started == progress.Prompt("code")

    async def typed(text: str) -> object:
        async with db.transaction() as s:
            return await progress.type_edit(s, actor=actor, text=text, language="it")

    assert await typed("X" * 40) == progress.Problem("code_too_long")
    assert await typed("UN-9") == progress.Prompt("title")
    choice = await typed("Sportello energia")
    assert isinstance(choice, progress.ComuneChoice) and choice.target == progress.NEW
    async with db.transaction() as s:
        made = await progress.set_comune(
            s,
            target=progress.NEW,
            choice="union",
            actor=actor,
            language="it",
        )
    assert isinstance(made, progress.Saved) and made.created is True
    async with db.transaction() as s:
        action = (await s.execute(select(Action).where(Action.code == "UN-9"))).scalar_one()
    assert action.municipality_id is None and action.title == "Sportello energia"


async def test_an_import_previewed_then_confirmed(db: Database) -> None:
    world, _round_id = await _world(db, with_round=False)
    coord = world.people["Carla Coordinatrice"].telegram_user_id
    comune = world.comuni[0].id
    rows = [
        ActionRow(code="C00.00", title="Nuovo titolo", municipality_id=comune, row=2),
        ActionRow(code="N-1", title="Nuova azione", municipality_id=None, row=3),
    ]
    async with db.transaction() as s:
        target = await progress.upload_target(s, actor=progress.Actor(coord, coord, NOW))
        not_coord = await progress.prepare_import(
            s,
            union_id=world.union.id,
            actor=progress.Actor(_tg(world, TECH), _tg(world, TECH), NOW),
            file_name="piano.csv",
            rows=rows,
        )
        preview = await progress.prepare_import(
            s,
            union_id=world.union.id,
            actor=progress.Actor(coord, coord, NOW),
            file_name="piano.csv",
            rows=rows,
        )
    assert target == progress.ImportInto(world.union.id)
    assert not_coord == progress.NotAllowed("not_coordinator")
    assert not isinstance(preview, progress.NotAllowed)
    assert (list(preview.new), list(preview.changed), preview.unchanged) == (["N-1"], ["C00.00"], 0)
    async with db.transaction() as s:
        actor = progress.Actor(coord, coord, NOW)
        done = await progress.confirm_import(s, union_id=world.union.id, actor=actor)
        expired = await progress.confirm_import(s, union_id=world.union.id, actor=actor)
    assert done == progress.Imported(created=1, updated=1)
    assert expired == progress.NotAllowed("expired")


async def test_a_round_opens_once_and_closes_at_its_deadline(db: Database) -> None:
    world, _round_id = await _world(db, with_round=False)
    opening = NOW.replace(day=20, hour=12)  # the fallback day, no meeting fixed
    async with db.transaction() as s:
        due = await progress.rounds_to_decide(s, now=opening)
    assert [d.union_id for d in due] == [world.union.id]
    async with db.transaction() as s:
        assert await progress.open_rounds(s, due=due[0], now=opening, language="it") == 1
    async with db.transaction() as s:
        assert await progress.rounds_to_decide(s, now=opening) == []
        keys = sorted((await s.execute(select(OutboxMessage.dedup_key))).scalars())
        (round_,) = (await s.execute(select(UpdateRound))).scalars()
        invitation = (
            (
                await s.execute(
                    select(OutboxMessage).where(OutboxMessage.dedup_key.like("upd:inv:%"))
                )
            )
            .scalars()
            .first()
        )
    assert sum(k.startswith("upd:inv:") for k in keys) == 2  # one per technician
    assert f"upd:ann:{round_.id}" in keys
    assert invitation is not None
    # The invitation is the round's list: the technician's actions, then «Nessuna novità».
    rows = invitation.payload["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for b in rows[0]] == [
        f"upd:pick:{a.id}" for a in world.actions[:2]
    ] or [b["callback_data"] for b in rows[0]] == [f"upd:pick:{a.id}" for a in world.actions[2:4]]
    assert rows[-1][0]["callback_data"] == f"upd:no_news:{round_.id}"
    async with db.transaction() as s:
        await progress.round_duties(
            s, round_id=round_.id, now=round_.deadline_at + timedelta(seconds=1), language="it"
        )
    async with db.transaction() as s:
        closed = await s.get(UpdateRound, round_.id)
    assert closed is not None and closed.status == RoundStatus.CLOSED


async def test_the_round_status_is_the_coordinators(db: Database) -> None:
    world, _round_id = await _world(db)
    async with db.transaction() as s:
        refused = await progress.round_status(
            s, union=world.union, coordinator=False, language="it"
        )
        shown = await progress.round_status(s, union=world.union, coordinator=True, language="it")
    assert refused == progress.StatusRefused("coordinator_only")
    assert isinstance(shown, progress.StatusShown)
    assert "⏳ Non ancora (2):" in shown.text and "Tecnico 0 (Comune 00)" in shown.text


async def test_a_group_note_is_kept_once_for_the_writers_comune(db: Database) -> None:
    world, round_id = await _world(db)
    tg = _tg(world, TECH)
    chat = -100222 - world.union.id  # the technical group (make_world's offset)
    async with db.transaction() as s:
        place = await progress.note_place(s, chat_id=chat, reply_to_message_id=None, tagged=True)
    assert place is None  # #aggiornamento is off unless the coordinator turns it on
    place = progress.NotePlace(world.union.id, None, UpdateSource.HASHTAG)

    async def note(who: int, message_id: int) -> object:
        async with db.transaction() as s:
            return await progress.record_note(
                s,
                place=place,
                telegram_user_id=who,
                text="#aggiornamento caldaia collaudata",
                chat_id=chat,
                message_id=message_id,
                now=NOW,
            )

    first = await note(tg, 1)
    again = await note(tg, 2)
    stranger = await note(123, 3)
    assert isinstance(first, progress.NoteRecorded) and first.comuni == ["Comune 00"]
    assert isinstance(again, progress.NoteRepeated) and again.first_at == NOW
    assert stranger is None
    async with db.transaction() as s:
        notes = (await s.execute(select(UpdateNote))).scalars().all()
    assert [(n.municipality_id, n.round_id) for n in notes] == [(world.comuni[0].id, round_id)]
