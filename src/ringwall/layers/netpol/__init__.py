"""The Kubernetes NetworkPolicy layer (``netpol``): enforced by the CNI."""
