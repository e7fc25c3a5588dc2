"""The verifier's tables: recorded scans and the alerts they raised."""
