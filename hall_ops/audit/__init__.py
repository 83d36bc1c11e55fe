"""The tamper-evident record: hash chains over the audit tables (``chain``), the daily root
of their heads (``roots``) and the check of both (``verify``)."""
