"""The service mesh layer: who is encrypted, who is authenticated, who is authorized.

Istio (sidecars and ambient) and Linkerd, decided as their proxies decide: membership from
injection labels and annotations, mTLS from PeerAuthentication/DestinationRule (Istio) or
mesh membership (Linkerd), authorization from AuthorizationPolicy (Istio) or Server and its
authorizations (Linkerd). This package never imports another layer; ``ringwall.analysis``
combines it with the NetworkPolicy engine.
"""
