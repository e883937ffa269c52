"""Running on its own: the daily and hourly schedules, the threshold-alert and run-failure
sensors, and alert delivery (the JSONL feed and webhooks). See docs/alerts.md."""
