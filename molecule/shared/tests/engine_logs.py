# SPDX-License-Identifier: GPL-3.0-or-later
"""What Docker's engine gives a new container for its logs (used by disk and prevention)."""

import json


def new_container_log_config(host) -> dict:
    """HostConfig.LogConfig of a container created now with no logging options: the engine's default."""
    cid = host.check_output("docker create --network none echoelmusic-api:latest true")
    try:
        return json.loads(host.check_output("docker inspect -f '{{json .HostConfig.LogConfig}}' %s", cid))
    finally:
        host.run("docker rm %s", cid)
