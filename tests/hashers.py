"""Argon2 with the cheapest parameters, for tests only: the stored hashes are still argon2, but a
test that creates users does not spend a second per password (production keeps Django's defaults)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 64
    parallelism = 1
