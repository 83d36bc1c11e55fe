"""Request and response models of the API and the Socket.IO events, one module per audience.

Requests refuse unknown fields (a typo is an error, not silently ignored); query strings
ignore parameters they do not name (``?lang=`` is the i18n layer's). Answers list every
field they carry, so the document says what a client gets; ``Open`` marks the few whose
inner records (audit records, camera readings) are the domain's own JSON.
"""
