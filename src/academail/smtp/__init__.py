"""SMTP adapters (aiosmtpd): the inbound listener on port 25 for the académie's domains."""

from academail.smtp.inbound import MAX_MESSAGE_SIZE, InboundHandler, start_inbound

__all__ = ["MAX_MESSAGE_SIZE", "InboundHandler", "start_inbound"]
