"""The stack's floor: the fair baseline plus the real bot's database work for each vote.

`bench/fair_bot.py` makes the real bot's Telegram calls with no database. This bot makes the
same calls and, before a vote's toast, runs the real vote's transaction through the real
storage layer, with nothing of ours above it (no handlers, no services, no views, no
translations): `storage.db.Database` as `python -m bot` opens it, the update id
(`core.mark_update_processed`), the vote's one context query (`meetings.vote_context`) and the
upsert (`meetings.record_vote`), on SQLite or PostgreSQL as DATABASE_URL says.

So the real bot's distance to the fair baseline splits in two, side by side in one run
(`python -m bench.run --floor`): what the chosen stack costs for that work (SQLAlchemy's
AsyncSession over aiosqlite or asyncpg, our SQL), from the fair bot to this one; and what our
own code above the storage adds, from this one to the real bot. If this bot is below a target
already, no change above the storage can reach it.

Votes only: the update steps of the round (`--steps`) have no counterpart here (bench.run
refuses `--floor` with steps).

    TELEGRAM_BOT_TOKEN=… TELEGRAM_BASE_URL=… DATABASE_URL=… python -m bench.floor_bot
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from telegram import Update
from telegram.ext import CallbackQueryHandler, ContextTypes

from bench import fair_bot
from bot.config import database_url_from
from storage.db import Database
from storage.models import Answer
from storage.repositories import core, meetings

ANSWERS = {"y": Answer.YES, "m": Answer.MAYBE, "n": Answer.NO}


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    data = query.data or ""
    if data.startswith("vote:"):
        _, code, slot = data.split(":")
        db: Database = context.bot_data["db"]
        now = datetime.now(UTC)
        async with db.transaction() as session:
            if await core.mark_update_processed(session, update_id=update.update_id, now=now):
                vote, _language = await meetings.vote_context(
                    session, slot_id=int(slot), telegram_user_id=query.from_user.id
                )
                if vote is None or vote.member_id is None:
                    raise RuntimeError(f"floor bot: slot {slot} or voter unknown")
                await meetings.record_vote(
                    session,
                    context=vote,
                    member_id=vote.member_id,
                    answer=ANSWERS[code],
                    now=now,
                )
    await fair_bot.on_press(update, context)


def main() -> None:
    app = fair_bot.build_application()
    app.bot_data["db"] = Database(
        database_url_from(dict(os.environ)),
        concurrent_updates=int(os.environ.get("CONCURRENT_UPDATES", "1")),
    )
    app.add_handler(CallbackQueryHandler(on_press))
    app.run_polling(allowed_updates=[Update.CALLBACK_QUERY], drop_pending_updates=False)


if __name__ == "__main__":
    main()
