"""Two-factor sign-in (django-otp): a TOTP authenticator app as the second factor, single-use
recovery codes for a lost phone.

Committee staff, supervisors and administrators (teams.privilege) must enrol and give a code
after their password; everyone else may enrol from their own page. The middleware keeps a
session that still owes its code (or its enrolment) away from every other page, and from the
API when the API is asked with that session (docs/security.md)."""
