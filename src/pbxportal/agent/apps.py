from django.apps import AppConfig


class AgentConfig(AppConfig):
    """What a PBX machine calls under /api/v1/pbx-agent/ (docs/architecture.md)."""

    name = "pbxportal.agent"
    label = "agent"
