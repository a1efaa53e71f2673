"""One router per resource: clients, uploads, analyze, jobs, health (and genres, admin)."""
