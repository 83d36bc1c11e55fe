"""Run by tests/test_sensors_thirdparty.py in a child process whose ``onvif`` package is
onvif-python (nirsimetri), a third-party ONVIF client: it talks to a camera and prints
what it got as one JSON line. Usage: HOST PORT USER PASSWORD [digest]."""

from __future__ import annotations

import json
import sys

from onvif import CacheMode, ONVIFClient


def attempt(call) -> str:
    try:
        call()
    except Exception as exc:  # the finding is the refusal itself, reported to the test
        return str(exc)
    return "ok"


def main() -> None:
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    client = ONVIFClient(host, port, user, password, cache=CacheMode.NONE, timeout=5,
                         http_digest=sys.argv[5:] == ["digest"])
    device = client.devicemgmt()
    out: dict[str, object] = {
        "manufacturer": device.GetDeviceInformation().Manufacturer,
        "scopes": len(device.GetScopes()),
        "max_pull_points": client.events().GetServiceCapabilities().MaxPullPoints,
    }
    subscription = client.events().CreatePullPointSubscription(InitialTerminationTime="PT60S")
    pullpoint = client.pullpoint(subscription)
    pullpoint.SetSynchronizationPoint()
    out["messages"] = len(pullpoint.PullMessages(Timeout="PT1S", MessageLimit=10)
                          .NotificationMessage)
    out["renew"] = attempt(lambda: client.subscription(subscription)
                           .Renew(TerminationTime="PT120S"))
    out["unsubscribe"] = attempt(lambda: client.subscription(subscription).Unsubscribe())
    out["rules"] = [rule.Name for rule in
                    client.ruleengine().GetRules(ConfigurationToken="VideoAnalyticsConfig_1")]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
