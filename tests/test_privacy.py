"""Resident ID numbers encrypted at rest, found again through the blind index (both databases)."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import Integer, MetaData, String, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, validates

from hall_ops import privacy
from hall_ops.privacy import EncryptedString, PersonalDataCipher, PersonalDataKeyError, blind_index

ID = "11010519491231002X"
CONTEXT = "people.id_number"


class PeopleBase(DeclarativeBase):
    metadata = MetaData()  # apart from the hall's tables


class Person(PeopleBase):
    """A table wired the way ``cases.applicant_id_number`` is meant to be."""

    __tablename__ = "privacy_people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(EncryptedString(CONTEXT))
    id_hash: Mapped[str] = mapped_column(String(64), index=True)

    @validates("id_number")
    def _index(self, _key: str, value: str) -> str:
        self.id_hash = blind_index(value, CONTEXT)
        return value


@pytest.fixture
def cipher(tmp_path):
    made = PersonalDataCipher.from_instance(tmp_path / "instance", environ={})
    privacy.install(made)
    return made


def test_round_trip_and_binding(cipher):
    sealed = cipher.encrypt(ID, CONTEXT)
    assert sealed.startswith("v1:") and ID not in sealed and "1949" not in sealed
    assert cipher.encrypt(ID, CONTEXT) != sealed  # a fresh nonce every time
    assert cipher.decrypt(sealed, CONTEXT) == ID
    with pytest.raises(ValueError):
        cipher.decrypt(sealed, "other.column")  # bound to its column
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(ValueError):
        cipher.decrypt(tampered, CONTEXT)
    with pytest.raises(ValueError):
        cipher.decrypt(ID, CONTEXT)  # a plaintext left over is refused, not passed through
    other = PersonalDataCipher(os.urandom(32))
    with pytest.raises(ValueError):
        other.decrypt(sealed, CONTEXT)


def test_blind_index(cipher):
    index = cipher.blind_index(ID, CONTEXT)
    assert len(index) == 64 and ID not in index
    assert cipher.blind_index(ID.lower() + " ", CONTEXT) == index  # 'x' is 'X'
    assert cipher.blind_index(ID, "other.column") != index
    assert PersonalDataCipher(os.urandom(32)).blind_index(ID, CONTEXT) != index  # keyed


def test_key_file(tmp_path):
    instance = tmp_path / "instance"
    first = PersonalDataCipher.from_instance(instance, environ={})
    key_file = instance / privacy.KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = PersonalDataCipher.from_instance(instance, environ={})  # made once, then read
    assert second.decrypt(first.encrypt(ID, CONTEXT), CONTEXT) == ID
    key_file.chmod(0o644)
    with pytest.raises(PersonalDataKeyError, match="readable by others"):
        PersonalDataCipher.from_instance(instance, environ={})
    key_file.chmod(0o600)
    key_file.write_text("not a key")
    with pytest.raises(PersonalDataKeyError):
        PersonalDataCipher.from_instance(instance, environ={})


def test_key_from_environment(tmp_path):
    key = privacy.new_key()
    from_env = PersonalDataCipher.from_instance(tmp_path, environ={privacy.ENV_KEY: key})
    assert not (tmp_path / privacy.KEY_FILE).exists()
    again = PersonalDataCipher.from_instance(tmp_path / "elsewhere", environ={privacy.ENV_KEY: key})
    assert again.decrypt(from_env.encrypt(ID, CONTEXT), CONTEXT) == ID
    with pytest.raises(PersonalDataKeyError):
        PersonalDataCipher.from_instance(tmp_path, environ={privacy.ENV_KEY: "c2hvcnQ="})


def test_encrypted_column(any_db, cipher):
    PeopleBase.metadata.create_all(any_db.engine)
    with Session(any_db.engine) as s, s.begin():
        s.add_all([Person(id_number=ID), Person(id_number="310101199001011234")])
    with any_db.engine.connect() as conn:
        raw = conn.execute(text("SELECT id_number, id_hash FROM privacy_people")).all()
    for stored, hashed in raw:
        assert stored.startswith("v1:")
        assert ID not in stored and "310101199001011234" not in stored and "19491231" not in stored
        assert ID not in hashed
    with Session(any_db.engine) as s:
        found = s.scalars(
            select(Person).where(Person.id_hash == blind_index(ID.lower(), CONTEXT))
        ).one()
        assert found.id_number == ID
        assert (
            s.scalars(
                select(Person).where(Person.id_hash == blind_index("110105194912310000", CONTEXT))
            ).first()
            is None
        )
