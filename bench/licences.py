"""E-licence library figures: signing and verifying with each algorithm, and the public
verify check end to end (database read, signature, fragment) with many licences stored.

    .venv/bin/python bench/licences.py [--licences 2000] [--checks 200] [--repeat 3]

Prints medians; SM2 is gmssl's pure-Python implementation.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hall_ops import privacy
from hall_ops.db import Database
from hall_ops.licences import library, signing
from hall_ops.licences.models import Licence

NOW = dt.datetime(2026, 11, 25, 2, 0)


def per_call_ms(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) * 1000 / n


def algorithms(repeat: int) -> None:
    data = b'{"format":"hall-ops.licence.v1","number":"DZZZ-BDC-20261125-000001"}' * 4
    print(f"algorithm  sign ms  verify ms  (median of {repeat} runs)")
    for name in signing.ALGORITHMS:
        cls = signing.SIGNERS[name]
        signer = cls(cls.new_private_key())
        signature = signer.sign(data)
        n = 20 if name == "sm2" else 500
        signs = [per_call_ms(lambda s=signer: s.sign(data), n) for _ in range(repeat)]
        checks = [per_call_ms(lambda s=signer, g=signature, a=name: signing.verify(
            a, s.public_key, data, g), n) for _ in range(repeat)]
        print(f"{name:9}  {statistics.median(signs):7.2f}  {statistics.median(checks):9.2f}")


def verify_checks(count: int, checks: int, repeat: int, algorithm: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault(privacy.ENV_KEY, privacy.new_key())
        privacy.install(privacy.PersonalDataCipher.from_instance(tmp))
        library.install(library.Library(signing.Keyring(Path(tmp) / "keys", algorithm),
                                        ZoneInfo("Asia/Shanghai")))
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.create_all()
        signer = library.current().keyring.signer("bdc")
        numbers = []
        start = time.perf_counter()
        with db.write() as s:
            library.publish_key(s, "bdc", NOW)
            for i in range(count):
                licence = Licence(
                    number=f"DZZZ-BDC-20261125-{i:06d}", licence_type="property_certificate",
                    name_zh="不动产权证书", name_en="Real-estate title certificate",
                    material_name_zh="不动产权证书", holder_kind="person", holder_name="张三",
                    holder_id_number="330106198507201239", department_code="bdc",
                    department_name_zh="不动产登记中心", valid_from=NOW.date(), valid_to=None,
                    item_code="BDC-02", issued_at=NOW, origin="issued", issuer="bdc",
                    algorithm=signer.algorithm, signature="",
                )
                licence.signature = base64.b64encode(
                    signer.sign(library.signed_bytes(licence))).decode()
                s.add(licence)
                numbers.append(licence)
            s.flush()
            pairs = [(lic.number, library.fragment(lic)) for lic in numbers]
        issue_ms = (time.perf_counter() - start) * 1000 / count
        runs = []
        for _ in range(repeat):
            begin = time.perf_counter()
            for number, fragment in pairs[:checks]:
                with db.read() as s:
                    assert library.verify_licence(s, number, fragment, NOW)["status"] == "valid"
            runs.append((time.perf_counter() - begin) * 1000 / checks)
        print(f"{algorithm}: {count} licences signed and stored at {issue_ms:.1f} ms each; "
              f"a verify check (read, fragment, signature) takes "
              f"{statistics.median(runs):.1f} ms (median of {repeat})")
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--licences", type=int, default=2000)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    algorithms(args.repeat)
    for algorithm in signing.ALGORITHMS:
        verify_checks(args.licences, args.checks, args.repeat, algorithm)


if __name__ == "__main__":
    main()
