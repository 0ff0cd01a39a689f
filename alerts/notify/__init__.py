"""Notifications of alert review (emails to assignees, watchers, mentioned officers and
supervisors; preferences; the daily digest) and the notice an officer sends an employee from a
closed alert. See docs/alerts.md, "Notifications and notices"."""
