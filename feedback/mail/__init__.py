"""Mail: the outbox (`models`, `outbox.queue_mail`) and its delivery over SMTP (or to the console).

Part of the core: accounts (confirmation, password reset) and notifications both queue mails here."""
