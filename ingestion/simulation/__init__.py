"""WhatsApp traffic for a demo tenant, shaped exactly as Meta sends it: the simulator behind
``manage.py simulate`` and the demo's first conversations."""
