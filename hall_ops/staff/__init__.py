"""Staff accounts, roles, devices and the security log (no Flask here).

- ``models``: tables; ``policy``: lockout and password hashing settings;
- ``accounts``: first admin, staff, credentials, roles, windows, password and PIN login;
- ``devices``: device tokens; ``log``: the security log; ``demo``: demo staff and devices.
"""
