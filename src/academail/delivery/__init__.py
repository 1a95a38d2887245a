"""Delivery: the pipeline of stages before local storage, routing, the outbound queue."""

from academail.delivery.local import LocalDelivery, LocalOutcome
from academail.delivery.pipeline import (
    Action,
    Decision,
    HopLimit,
    Incoming,
    LocalRecipient,
    Pipeline,
    Stage,
    Verdict,
)
from academail.delivery.router import MailRouter, OutboundQueue, Routed
from academail.delivery.system import SystemMail, compose_text

__all__ = [
    "Action",
    "Decision",
    "HopLimit",
    "Incoming",
    "LocalDelivery",
    "LocalOutcome",
    "LocalRecipient",
    "MailRouter",
    "OutboundQueue",
    "Pipeline",
    "Routed",
    "Stage",
    "SystemMail",
    "Verdict",
    "compose_text",
]
