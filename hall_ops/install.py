"""A new installation, apart from the demo: its config folder, and the demo-credential guard.

``write_installation`` makes the folder a real hall runs from (``python -m hall_web init
--dir /srv/hall``): a commented ``config.toml`` with no clerks and no PINs, and
``instance/`` (the session key) readable by its owner only. ``demo_credentials`` is the
one check ``serve`` makes before starting for real: the demo config, and the demo's staff
accounts in the database.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import select

from hall_ops.config import ConfigError, HallConfig
from hall_ops.db import Database
from hall_ops.staff.models import SecurityEvent, StaffMember


def demo_accounts(db: Database) -> list[str]:
    """Enabled staff accounts the demo made (their passwords and PINs are published)."""
    with db.read() as session:
        made = select(SecurityEvent.subject).where(
            SecurityEvent.kind == "staff_added", SecurityEvent.actor == "demo"
        )
        return list(session.scalars(
            select(StaffMember.id).where(StaffMember.id.in_(made), StaffMember.enabled)
            .order_by(StaffMember.id)
        ))


def demo_credentials(hall: HallConfig, db: Database | None = None) -> list[str]:
    """Why this hall must not serve for real (empty when it may): the demo config, or staff
    accounts the demo created with its published password and PIN."""
    reasons = []
    if hall.demo:
        reasons.append("the config is the demo hall ([hall] demo = true)")
    if db is not None and (demo := demo_accounts(db)):
        shown = ", ".join(demo[:5]) + (" …" if len(demo) > 5 else "")
        reasons.append(f"{len(demo)} demo staff account(s) are enabled ({shown})")
    return reasons


def refuse_demo(hall: HallConfig, db: Database | None = None) -> None:
    """Stop a real start on the demo hall's credentials (``serve --demo`` skips this)."""
    reasons = demo_credentials(hall, db)
    if reasons:
        raise ConfigError(
            "refusing to serve with demo credentials: " + "; ".join(reasons) + ". A new "
            "installation: python -m hall_web init --dir /srv/hall; the demo: ./hall demo"
        )


CONFIG_TEMPLATE = """\
# hall-ops: {name_zh}. Made by `python -m hall_web init`; README.md explains every section.
# Start: python -m hall_web serve --config {config_path}

[hall]
name_zh = "{name_zh}"
name_en = "{name_en}"
timezone = "Asia/Shanghai"

[hall.opening_hours]   # hall-local time; an empty string means closed
mon = "08:30-17:30"
tue = "08:30-17:30"
wed = "08:30-17:30"
thu = "08:30-17:30"
fri = "08:30-17:30"
sat = ""
sun = ""

[database]
# SQLite beside this file for one process; several processes need PostgreSQL, e.g.
# url = "postgresql+psycopg://hall@127.0.0.1:5432/hall"
url = "sqlite:///instance/hall.db"
# Start-up upgrades the schema to this release. false: refuse instead, and upgrade by hand
# after a backup with `python -m hall_web db upgrade --config {config_path}`.
upgrade = true

[server]
host = "127.0.0.1"
port = 5000
async_mode = "threading"
# Redis URL shared by several processes, e.g. "redis://127.0.0.1:6379/0"; empty = one process.
message_queue = ""

# [notices]: tell citizens their result is ready. Without a channel a case shows
# "not notified". An SMS gateway signed like the mainland cloud SMS services:
#   [notices.sms]
#   endpoint = "https://sms.example.gov.cn/"
#   access_key_id = "…"
#   access_key_secret = "…"
#   sign_name = "{name_zh}"
#   template_code = "SMS_000000"
#   queue_template_code = "SMS_000001"  # 无声叫号: ${{ticket}} ${{ahead}} ${{window}}
#   collect_template_code = "SMS_000002"  # 跨域通办: ${{case}} ${{hall}}
#   post_template_code = "SMS_000003"     # 邮寄送达: ${{case}} ${{tracking}}
# and/or e-mail for citizens who gave an address:
#   [notices.email]
#   host = "smtp.example.gov.cn"
#   port = 465
#   security = "ssl"        # ssl | starttls | none
#   username = "hall@example.gov.cn"
#   password = "…"
#   sender = "hall@example.gov.cn"

# [[printers]]: a kiosk's ESC/POS network printer, bound to the kiosk's device scope; without
# one the kiosk prints through the browser (docs/deploy.md, "Kiosks: printing tickets").
#   [[printers]]
#   name = "kiosk-front"
#   host = "10.1.2.30"
#   scope = "hall"          # or "zone:<code>"

# [archive]: every finished case becomes a verifiable package (docs/archive.md); keep the
# folder on storage that is backed up, and hand packages over with `hall archive export`.
#   path = "instance/archive"
#   default_retention = "30y"   # permanent | 30y | 10y, for items the catalogue gives none
#   applicant = "masked"        # full: the identity whole, if the archive office requires it
#   fonds = ""                  # 全宗号, once the archive office has given one
# [forms]: a citizen's application form draft is deleted this long after its last save.
#   draft_hours = 72

# ---- the hall floor: zones, queue services, windows --------------------------------
# These seed the installation: at a start, what the database lacks is added as written
# here. Afterwards the hall floor is kept in the admin page (/admin/floor, audited), and a
# change made below to an entry the database has already changes nothing.
[[zones]]
code = "front_intake"

[[zones]]
code = "back_approval"

[[zones]]
code = "public_affairs"

[[zones]]
code = "egov_experience"

[[zones]]
code = "business"

# One [[services]] per queue service (one ticket letter each), e.g.
#   [[services]]
#   code = "enterprise"
#   letter = "B"
#   name_zh = "企业登记"
#   name_en = "Enterprise registration"
#   zone = "front_intake"
#   mean_service_minutes = 12
#
# One [[windows]] per window, e.g.
#   [[windows]]
#   number = 1
#   zone = "front_intake"
#   kind = "intake"
#   services = ["enterprise"]

# ---- staff: no clerk and no PIN ships with an installation -------------------------
# Staff, their roles, windows and PINs are added in the admin page (/admin/staff); a
# [[clerks]] entry (id, name) only names a clerk of the demo roster.

# Service items and their materials (CSV, see data/catalogue/README.md in the source):
# [catalogue]
# path = "catalogue"

# E-licence library (docs/licences.md). Departments' signing keys are made in instance/
# licence_keys/ on first start: back instance/ up apart from the database.
# [licences]
# algorithm = "sm2"                       # sm2 (SM2/SM3, the national scheme) | ed25519
# public_url = "https://hall.example.gov.cn"   # what the licences' QR codes point at
# [[licences.trusted_issuers]]            # whose signed bundles of licences are imported
# name = "prov-bdc"
# algorithm = "sm2"
# public_key = "…"

# Uploaded scans of paper materials: instance/materials, or an S3-compatible store.
# [materials]
# max_bytes = 10485760
# [materials.s3]
# bucket = "hall-materials"
# endpoint_url = "https://s3.example.gov.cn"
# access_key_id = "…"
# secret_access_key = "…"
"""


def write_installation(
    folder: Path, *, name_zh: str = "政务服务大厅", name_en: str = "Administrative Service Hall"
) -> Path:
    """Write ``folder/config.toml`` and ``folder/instance/``; never overwrites a config."""
    config_path = folder / "config.toml"
    if config_path.exists():
        raise FileExistsError(f"{config_path} exists; an installation is made once")
    folder.mkdir(parents=True, exist_ok=True)
    instance = folder / "instance"
    instance.mkdir(mode=0o700, exist_ok=True)
    key = instance / "secret_key"
    if not key.exists():
        key.write_text(secrets.token_hex(32))
        key.chmod(0o600)
    config_path.write_text(
        CONFIG_TEMPLATE.format(name_zh=name_zh, name_en=name_en, config_path=config_path),
        encoding="utf-8",
    )
    return config_path
