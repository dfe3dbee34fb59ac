"""Texts and keyboards of registration: Unions, Comuni, invites, joining, approval, the team,
linked groups, leaving. Plain functions of plain data (no Telegram, no database): the use cases
in bot.services.registration build the data, the handlers send what these functions return.

The vocabulary the rules and the texts share (what can be wrong with a name, an assignment or
an invite; why a press changes nothing) is defined in `refusals`, so that both can use it.
"""
