#!/bin/sh
# shmd under podman, in a pod: the pod's infra container (podman's own
# pause, built locally from catatonit) owns the IPC namespace, so shmd's
# container can be restarted or replaced and every segment stays. This is
# the podman route for deploy/compose.yaml, whose `ipc:` keys podman-compose
# 1.0.x ignores (README, "Containers").
#
#   deploy/podman-pod.sh [IMAGE [POD]]     (defaults: localhost/shmd, shmd)
#
# Clients join the pod (its IPC namespace, not its pid namespace) and mount
# the socket's volume:
#   podman run --pod shmd -v shmd-run:/run/shmd your-app
set -e
image=${1:-localhost/shmd}
pod=${2:-shmd}

podman volume exists "$pod-run" || podman volume create "$pod-run" >/dev/null
podman pod create --name "$pod" --share ipc >/dev/null
podman run -d --pod "$pod" --name "$pod-daemon" --restart unless-stopped \
	--user 990:990 --read-only --cap-drop all \
	--security-opt no-new-privileges -v "$pod-run:/run/shmd" "$image" \
	>/dev/null
echo "pod $pod: shmd in $pod-daemon, socket /run/shmd/shmd.sock on volume" \
	"$pod-run; clients: podman run --pod $pod -v $pod-run:/run/shmd IMAGE"
