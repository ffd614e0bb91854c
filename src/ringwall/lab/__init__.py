"""The lab: network namespaces where the Linux kernel itself checks the model."""
