"""The write paths and guarded reads, one module per feature.

Verb prefixes state the contract: ``check_*`` validates and authorises, then calls ``do_*``;
``do_*`` mutates and assumes validation; ``access_*`` fetches with a permission check.
"""
