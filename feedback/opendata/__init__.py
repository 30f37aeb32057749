"""The platform's content opened to everyone: the embed and the badge that a catalogue page shows for a dataset,
and the open data exports of public threads and messages. On top of threads and capitalisation; public content
only, read as an anonymous visitor would (`public`)."""
