"""Who may sign in: users with argon2id passwords, server-side sessions, login throttling, the audit log."""
