"""The durable outbound queue: mail for remote recipients waits here until sent."""

from academail.delivery.queue.enqueue import MailQueue

__all__ = ["MailQueue"]
