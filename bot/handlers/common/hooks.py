"""Hooks by which a feature takes part in common updates without being imported by them
(`services.hooks[...]`): registration answers /start <payload> and the bot's own membership of
groups."""

START_PAYLOAD_HOOK = "start_payload"  # (update, context, payload): /start with a payload
GROUP_MEMBERSHIP_HOOK = "bot_group_membership"  # (update, context): the bot in a group changed
