"""Reports over days: ``tickets`` (waits, service times, no-shows by day, hour, service,
window, clerk) and ``cases`` (windows visited, materials, decisions within the limit)."""
