"""Access layer: WireGuard, sshd bastions, API server and kubelet exposure."""
