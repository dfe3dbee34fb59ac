"""Team Energia: the Telegram bot of an Italian Team energia di Unione."""
