"""When a delivery schedule is due: the cron slots live in `cadence.config.cron`, shared with the CRM syncs."""

from cadence.config.cron import DEFAULT_LOOKBACK, due_slots, latest_slot, slots_between, to_utc

__all__ = ["DEFAULT_LOOKBACK", "due_slots", "latest_slot", "slots_between", "to_utc"]
