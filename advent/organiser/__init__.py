"""What the organiser sees: alerts, delivery statistics and the set-up doctor."""
