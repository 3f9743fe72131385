"""Grid events (网格事件, SPEC §3): filing, the state machine, dispatch, deadlines, supervision, the public
report page, Open311 and webhooks. A separate app (label ``events``) above the hierarchy; its models keep the
``grids`` label so that tables, content types and the labels sealed in the audit trail stay as they were
(docs/decisions.md)."""
