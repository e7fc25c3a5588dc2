"""The issuer's tables: organisations, tokens, issued credentials, status, rules."""
