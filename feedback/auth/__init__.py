"""ProConnect sign-in: an OpenID Connect client for the State's agents, and their requests to join a service.

Accounts stay the only owner of users: this package creates and links them through `feedback.accounts.services`.
"""
