"""The host firewall layer: iptables and nftables rulesets, their exact semantics and checks."""
