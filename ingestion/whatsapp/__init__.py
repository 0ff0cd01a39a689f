"""Meta's WhatsApp Business Platform: pure parsing of webhook payloads (no Django here)."""
