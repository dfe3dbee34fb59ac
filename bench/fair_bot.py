"""The fair baseline: a bare python-telegram-bot bot that makes the real bot's Telegram calls.

No database, no rules: for each press of the votes burst it calls Telegram as the real bot does
(bench/README.md, "The fair baseline"), with the real bot's update pipeline:

- a vote (`vote:…`) is answered with a toast, and its poll message owes an edit: the edits of a
  chat are coalesced and paced by the real bot's own rule (bot/services/edit_pacing.py: the
  first after a short window, then one every 4 s in a group), each a tally text with the poll's
  keyboard;
- a step of issue 16's round is answered and its message edited with a text and a keyboard: an
  action picked (`upd:pick`) becomes its question, a state (`upd:status`, saved at once) or a
  percentage (`upd:progress`) the list of one's actions with that answer on top;
- a step of the round before issue 16 (`upd:a`, `upd:st`, `upd:pr`) is answered and its message
  edited with a text and a keyboard; a save (`upd:sv`, `upd:save`) is answered, its message
  edited with a text alone, and the next action's question sent with its keyboard;
- anything else is answered and its message edited (the `/lingua` burst).

Same connection settings and defaults (HTML, no link previews) as bot/app.py, the same bounded
update queue (bot.updates.UpdateQueue) and getUpdates batch, and CONCURRENT_UPDATES people at
once, each one's updates in order (bot.updates.PerPersonProcessor). bench/run.py counts each
side's calls by method during the burst, so the two can be compared.

    TELEGRAM_BOT_TOKEN=… TELEGRAM_BASE_URL=… BENCH_QUEUE_SIZE=16 BENCH_UPDATES_PER_POLL=32 \\
        CONCURRENT_UPDATES=4 python -m bench.fair_bot
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    ExtBot,
)
from telegram.request import HTTPXRequest

from bot.services.edit_pacing import EditPacer
from bot.updates import PerPersonProcessor, UpdateQueue

UPDATES_PER_POLL = int(os.environ.get("BENCH_UPDATES_PER_POLL", "32"))
QUEUE_SIZE = int(os.environ.get("BENCH_QUEUE_SIZE", "16"))

# Texts of the sizes the real bot sends (bench/run.py prints them per side).
TALLY = (
    "🗓 <b>Riunione</b>\nPer il tavolo politico e tecnico insieme.\n"
    "Rispondi entro <b>mer 16 dic, 21:13</b>: ✅ Sì · ❔ Se necessario · ❌ No\n\n"
    + "".join(
        f"<b>ven {18 + d} dic, 22:13</b>\n✅ {{y{d}}} · ❔ {{m{d}}} · ❌ {{n{d}}} — Comuni: 14/20\n"
        for d in range(4)
    )
    + "\nHanno risposto {voters} persone su 60."
)
STEP = "<b>C4.2</b> — 🔄 In corso\nA che punto è? Scegli una percentuale o scrivi un numero da 0 a 100."
SAVED = "💾 Salvato: <b>C4.2</b> — 🔄 In corso, 50%."
NEXT = (
    "➡️ Prossima azione\nAzione 4 di 10: <b>C7.3</b> — Riqualificazione energetica 3 del Comune "
    "7\nComune: Comune 7\nUltimo stato: 🔄 In corso, 10%\n\nCom'è la situazione adesso?"
)


def _keyboard(prefix: str, labels: list[list[str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=f"{prefix}:{r}:{c}")
                for c, label in enumerate(row)
            ]
            for r, row in enumerate(labels)
        ]
    )


PERCENT = _keyboard("upd:pr:142", [["0%", "25%", "50%", "75%", "100%"]])
STATUS = _keyboard(
    "upd:st:153",
    [["✅ Completata", "🔄 In corso"], ["⏸ Rinviata", "⚪ Non avviata"], ["⏭ Salta", "↩️ Indietro"]],
)


# Issue 16's round (a technician of the burst has 10 actions): the question of a picked action,
# and the list that every answer comes back to.
QUESTION = (
    "Azione 4 di 10: <b>C7.3</b> — Riqualificazione energetica 3 del Comune 7\nComune: Comune 7"
    "\nFinora: 🔄 In corso, 10%\n\nCom'è adesso? Se non è cambiato niente, premi «Invariata». "
    "Ogni scelta si salva subito."
)
QUESTION_KEYBOARD = _keyboard(
    "upd:status:153",
    [
        ["✔️ Invariata"],
        ["✅ Completata", "🔄 In corso"],
        ["⏸ Rinviata", "⚪ Non avviata"],
        ["⏭ Salta", "📋 Elenco", "🏁 Ho finito"],
    ],
)
LIST = (
    "💾 Salvato: <b>C7.3</b> → 🔄 In corso, 50%\nSe la percentuale è cambiata, tocca quella giusta "
    "qui sotto (● = quella salvata).\nSe vuoi, scrivimi una nota o mandami una foto o un "
    "documento: li aggiungo a C7.3.\n\nLe tue azioni — Comune 7 (✔️ = già aggiornata in questo "
    "mese):\n"
    + "".join(
        f"{'✔️ ' if a < 3 else ''}<b>C7.{a + 1}</b> Riqualificazione energetica {a + 1} del "
        f"Comune 7: 🔄 In corso 10%\n"
        for a in range(10)
    )
    + "\nTocca un'altra azione che è cambiata. Se le altre sono come il mese scorso, premi «Il "
    "resto è invariato»."
)
LIST_KEYBOARD = _keyboard(
    "upd:progress:153",
    [
        ["10%", "25%", "● 50%", "75%", "100%"],
        ["⚖️ Serve una decisione del tavolo politico"],
        ["✔️ C7.1", "✔️ C7.2", "✔️ C7.3", "C7.4"],
        ["C7.5", "C7.6", "C7.7", "C7.8"],
        ["C7.9", "C7.10"],
        ["✔️ Il resto è invariato"],
        ["🏁 Ho finito"],
    ],
)


class Tallies:
    """The poll messages owing an edit, per chat, edited by the real bot's pacing rule."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.pacer = EditPacer()
        self.owed: dict[int, dict[int, InlineKeyboardMarkup | None]] = {}
        self.scheduled: set[int] = set()
        self.votes = 0

    def vote(self, chat_id: int, message_id: int, markup: InlineKeyboardMarkup | None) -> None:
        self.votes += 1
        self.owed.setdefault(chat_id, {})[message_id] = markup
        if chat_id not in self.scheduled:
            self._schedule(chat_id)

    def _schedule(self, chat_id: int) -> None:
        loop = asyncio.get_running_loop()
        at = self.pacer.next_edit_at(chat_id, now=loop.time())
        self.scheduled.add(chat_id)
        loop.call_at(at, lambda: self.application.create_task(self._edit(chat_id)))

    async def _edit(self, chat_id: int) -> None:
        owed = self.owed.pop(chat_id, {})
        counts = {f"{a}{d}": (self.votes + d) % 30 for a in "ymn" for d in range(4)}
        for message_id, markup in owed.items():
            await self.application.bot.edit_message_text(
                TALLY.format(voters=min(self.votes, 60), **counts),
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=markup,
            )
        self.pacer.edited(chat_id, now=asyncio.get_running_loop().time())
        self.scheduled.discard(chat_id)
        if self.owed.get(chat_id):
            self._schedule(chat_id)


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    data = query.data or ""
    chat_id, message_id = query.message.chat.id, query.message.message_id
    bot = context.bot
    if data.startswith("vote:"):
        await query.answer("Registrato: ✅ Sì per ven 18 dic, 22:13.")
        tallies: Tallies = context.bot_data["tallies"]
        tallies.vote(chat_id, message_id, query.message.reply_markup)
    elif data.startswith(("upd:sv:", "upd:save:")):
        await query.answer("Salvato")
        await bot.edit_message_text(SAVED, chat_id=chat_id, message_id=message_id)
        await bot.send_message(chat_id, NEXT, reply_markup=STATUS)
    elif data.startswith(("upd:status:", "upd:progress:")):
        # Issue 16's round: a state saves at once, a percentage completes it; either way the
        # pressed message becomes the list, the answer on top (bot.views.updates.menu_view).
        percent = data.rsplit(":", 1)[1]
        await query.answer("Salvato" if data.startswith("upd:status:") else f"{percent}%")
        await bot.edit_message_text(
            LIST, chat_id=chat_id, message_id=message_id, reply_markup=LIST_KEYBOARD
        )
    elif data.startswith("upd:pick:"):
        await query.answer()
        await bot.edit_message_text(
            QUESTION, chat_id=chat_id, message_id=message_id, reply_markup=QUESTION_KEYBOARD
        )
    elif data.startswith("upd:"):
        await query.answer("In corso" if data.startswith("upd:st:") else "")
        markup = PERCENT if data.startswith("upd:st:") else STATUS
        await bot.edit_message_text(
            STEP, chat_id=chat_id, message_id=message_id, reply_markup=markup
        )
    else:
        await query.answer("Fatto.")
        await bot.edit_message_text(
            f"Scelto: {data} ({query.id[-6:]})", chat_id=chat_id, message_id=message_id
        )


class BatchedBot(ExtBot[Any]):
    """getUpdates asks for UPDATES_PER_POLL updates, as bot.app.BatchedBot does."""

    async def get_updates(
        self, offset: int | None = None, limit: int | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        return await super().get_updates(
            offset, UPDATES_PER_POLL if limit is None else limit, *args, **kwargs
        )


def build_application() -> Any:
    """The application with the real bot's connection settings, update queue and people at
    once, no handler yet (bench/floor_bot.py adds its own)."""
    bot = BatchedBot(
        token=os.environ["TELEGRAM_BOT_TOKEN"],
        base_url=os.environ["TELEGRAM_BASE_URL"],
        defaults=Defaults(
            parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        ),
        # The same connection settings as the real bot (bot/app.py).
        get_updates_request=HTTPXRequest(
            connection_pool_size=1, read_timeout=40, connect_timeout=10
        ),
        request=HTTPXRequest(connection_pool_size=16, read_timeout=20, connect_timeout=10),
    )
    builder = (
        ApplicationBuilder().bot(bot).update_queue(UpdateQueue(QUEUE_SIZE, in_flight=QUEUE_SIZE))
    )
    concurrent = int(os.environ.get("CONCURRENT_UPDATES", "1"))
    if concurrent > 1:
        builder = builder.concurrent_updates(PerPersonProcessor(concurrent))
    app = builder.build()
    app.bot_data["tallies"] = Tallies(app)
    return app


def main() -> None:
    app = build_application()
    app.add_handler(CallbackQueryHandler(on_press))
    app.run_polling(allowed_updates=[Update.CALLBACK_QUERY], drop_pending_updates=False)


if __name__ == "__main__":
    main()
