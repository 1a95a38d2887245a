"""Notifications to agents (mail, SMS): the interface and its drivers."""

from academail.notify.channels import HttpSms, Notifier, OutboxNotifier, SmsSender

__all__ = ["HttpSms", "Notifier", "OutboxNotifier", "SmsSender"]
