"""Self-service application forms (自助申请表填报): the catalogue's form descriptions
(``spec``), the citizens' drafts and their acceptance at the window (``drafts``)."""
