"""Event pages, by concern: filing (the grid worker), queues (centre, department), detail (one event,
its actions, attachments, phone reveal), exports (the ledger), inbox (notifications, the home card).
grids/events/urls.py maps each page; shared helpers live in common."""
