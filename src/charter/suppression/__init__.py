"""The suppression list: keyed hashes of erased people's identities, so they are not contacted again (P-RGT-3)."""
