"""Performance figures for the residents' Performance Review Group (DESIGN §5): the facts
the monitor records from events, the pure figures computed from them, and their doors
(`GET /v1/reports/{period}`, `doorstep report`)."""
