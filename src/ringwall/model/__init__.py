"""The shared vocabulary every layer and analysis speaks: endpoints, connection sets, findings."""
