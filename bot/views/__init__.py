"""Texts and keyboards, as plain functions of plain data (no Telegram import)."""
