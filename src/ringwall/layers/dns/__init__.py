"""DNS layer: CoreDNS Corefile, kube-dns exposure, CoreDNS RBAC, NodeLocal DNSCache."""
