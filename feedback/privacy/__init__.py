"""Personal data (RGPD): what the platform holds about a person, handed to them (`export`), and erased when they
delete their account (`erasure`); the public page on personal data (`views`).

It reads accounts, notifications, mail and threads, so it lies above threads — beside moderation, below
capitalisation; nothing below imports it. Threads and messages outlive their author's account: the account row
stays, emptied of everything personal, its name « Compte supprimé », so every page, feed, mail and export that
shows an author's name shows that."""
