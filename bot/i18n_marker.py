"""The mark of a translatable string, alone: `bot.i18n` imports the settings (and SQLAlchemy);
the import worker (bot/services/import_worker.py), a process started for each upload, imports
only this."""


def N_(message: str) -> str:
    """Marks a string for extraction without translating it (translate later with `_`)."""
    return message
