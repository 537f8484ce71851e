"""The role that reads the audit trail. Its value is teams.models.Role.AUDITOR; it is named here
too because `audit` sits below `teams` and may not import it (tests/audit/test_role.py holds
the two equal)."""

AUDITOR_ROLE = "auditor"
