"""Reports over days: ``tickets`` (waits, service times, no-shows by day, hour, service,
window, clerk), ``cases`` (windows visited, materials, decisions within the limit) and
``pauses`` (time windows stood paused, by reason, per window or clerk)."""
